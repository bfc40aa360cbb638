"""Real server processes for tests: `python -m app.cli serve` in a subprocess."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.config import async_database_url
from app.tenancy import service as tenancy
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(database_url: str, **settings: Any) -> dict[str, str]:
    """The environment of a `tactful` subprocess: this one's without TACTFUL_ settings, then
    `settings` as TACTFUL_<NAME>."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TACTFUL_")},
        "DATABASE_URL": database_url,
        "TACTFUL_LOG_LEVEL": "WARNING",
        "TACTFUL_EVALUATOR_ENABLED": "false",
        "TACTFUL_RATE_LIMITS_ENABLED": "false",
    }
    env.update({f"TACTFUL_{k.upper()}": str(v) for k, v in settings.items()})
    return env


class Server:
    """`tactful serve` in a subprocess of its own."""

    def __init__(
        self, database_url: str, log_path: Path, workers: int = 1, **settings: Any
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = cli_env(database_url, **settings)
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)]
            + (["--workers", str(self.workers)] if self.workers > 1 else []),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log_tail()
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not start\n{self.log_tail()}")

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        process = self.process
        return await asyncio.to_thread(process.wait, timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


async def issue_key(database_url: str, tenant: str = "acme", *, sandbox: bool = False) -> str:
    """A key with every scope for `tenant`, created (a sandbox one when `sandbox`) if new."""
    engine = create_async_engine(async_database_url(database_url), poolclass=NullPool)
    try:
        async with AsyncSession(bind=engine, expire_on_commit=False) as session:
            if await tenancy.tenant_by_name(session, tenant) is None:
                await tenancy.create_tenant(session, tenant, sandbox=sandbox)
            issued = await tenancy.create_key(session, tenant, tenancy.ALL_SCOPES)
            await session.commit()
    finally:
        await engine.dispose()
    return issued.key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
