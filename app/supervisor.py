"""`tactful serve --workers N` against an external database: the CLI migrates, then replaces
itself (exec) with this small supervisor, so the parent holds uvicorn only, not the whole
application (each worker imports that once). Not for direct use."""

import argparse

import uvicorn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--grace", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "app.cli:worker_app",
        factory=True,
        workers=args.workers,
        host=args.host,
        port=args.port,
        log_config=None,
        timeout_graceful_shutdown=args.grace,
    )


if __name__ == "__main__":
    main()
