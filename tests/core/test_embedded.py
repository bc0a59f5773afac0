"""The embedded servers start, stop and restart with their data kept (in a scratch directory, not .local/)."""

from pathlib import Path

import psycopg
import redis

from core.embedded import EmbeddedPostgres, EmbeddedRedis


def _postgres_is_up(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def test_postgres_starts_stops_and_restarts_with_data_kept(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", database="scratch")
    url = server.start()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE kept (value text)")
        connection.execute("INSERT INTO kept VALUES ('survives a restart')")

    server.stop()

    assert not _postgres_is_up(url)
    restarted = EmbeddedPostgres(tmp_path / "pg", database="scratch")
    url = restarted.start()
    try:
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT value FROM kept").fetchall() == [("survives a restart",)]
    finally:
        restarted.stop()
    assert not _postgres_is_up(url)


def test_postgres_handle_of_a_killed_process_does_not_keep_the_server_alive(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    handles = tmp_path / "pg" / ".handle_pids.json"
    handles.write_text(handles.read_text().replace("]", ", 999999]"))  # a pid that no longer exists
    server.stop()
    assert _postgres_is_up(url)  # the dead pid still "holds" it, as a SIGKILLed process would

    again = EmbeddedPostgres(tmp_path / "pg")
    again.start()
    again.stop()

    assert not _postgres_is_up(url)


def test_redis_starts_stops_and_restarts_with_data_kept(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    redis.Redis(unix_socket_path=str(server.socket_path)).set("kept", "survives a restart")

    server.stop()

    assert not server.socket_path.exists() or not _redis_is_up(server.socket_path)
    restarted = EmbeddedRedis(tmp_path / "redis")
    restarted.start()
    try:
        assert redis.Redis(unix_socket_path=str(restarted.socket_path)).get("kept") == b"survives a restart"
    finally:
        restarted.stop()
    assert not _redis_is_up(restarted.socket_path)


def test_redis_already_running_is_attached_to_not_restarted(tmp_path: Path) -> None:
    owner = EmbeddedRedis(tmp_path / "redis")
    owner.start()
    try:
        guest = EmbeddedRedis(tmp_path / "redis")
        guest.start()
        guest.stop()  # the guest did not start it, so it must not stop it

        assert _redis_is_up(owner.socket_path)
    finally:
        owner.stop()


def _redis_is_up(socket_path: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.ConnectionError, OSError):
        return False


def test_redis_left_running_by_a_dead_process_is_adopted_and_stopped(tmp_path: Path) -> None:
    orphan = EmbeddedRedis(tmp_path / "redis")
    orphan.start()
    orphan.owner_file.write_text("999999")  # as if its starter had been SIGKILLed

    adopter = EmbeddedRedis(tmp_path / "redis")
    adopter.start()
    adopter.stop()

    assert not _redis_is_up(adopter.socket_path)
    orphan._process.wait(timeout=10)  # reap the child this test started
