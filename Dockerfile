# syntax=docker/dockerfile:1
# Build: docker build -t tactful .   Run: docker run -e DATABASE_URL=postgresql://... -p 8000:8000 tactful
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --upgrade pip && pip install .

FROM python:3.11-slim AS runtime
RUN groupadd --system tactful && useradd --system --gid tactful --home-dir /srv tactful
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY --chown=tactful:tactful alembic.ini ./
COPY --chown=tactful:tactful alembic ./alembic
COPY --chown=tactful:tactful app ./app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TACTFUL_HOST=0.0.0.0 \
    TACTFUL_PORT=8000
USER tactful
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"TACTFUL_PORT\",\"8000\")}/healthz')"
# Configured only through environment variables (README, "Settings"); DATABASE_URL is required here.
CMD ["sh", "-c", "tactful migrate && exec tactful serve"]
