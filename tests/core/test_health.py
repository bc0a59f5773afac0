import pytest
from django.test import Client

from core import health


@pytest.mark.django_db(transaction=True)
def test_health_is_ok_when_database_redis_worker_and_beat_answer(client: Client, celery_worker: object) -> None:
    from core.tasks import beat_heartbeat

    beat_heartbeat.delay().get(timeout=20)  # what beat does every 30 s

    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "worker": True,
        "beat": True,
    }


@pytest.mark.django_db(transaction=True)
def test_health_reports_a_missing_worker_with_503(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    original = health.check_worker
    monkeypatch.setattr(health, "check_worker", lambda: original(timeout=1.5))  # no worker runs in this test

    response = client.get("/health/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["worker"]["ok"] is False
    assert "no worker answered" in checks["worker"]["error"]


@pytest.mark.django_db
def test_shallow_health_checks_only_database_and_redis(client: Client) -> None:
    response = client.get("/health/?shallow=1")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "redis"}


def test_redis_urls_for_cache_broker_and_results_keep_the_socket_path() -> None:
    from django.conf import settings

    socket_path = settings.REDIS_URL.removeprefix("unix://")

    assert settings.REDIS_URL.startswith("unix:///")  # the embedded Redis in tests
    assert f"redis+socket://{socket_path}?virtual_host=0" == settings.CELERY_BROKER_URL
    assert f"redis+socket://{socket_path}?virtual_host=2" == settings.CELERY_RESULT_BACKEND


def test_the_production_cache_reaches_redis() -> None:
    """Tests use a per-process cache; the Redis cache production uses must work too (lockout counters live there)."""
    from django.core.cache.backends.redis import RedisCache

    from config.settings import _redis_url

    redis_cache = RedisCache(_redis_url(1), {"KEY_PREFIX": "test"})

    redis_cache.set("health:probe", "ok", timeout=5)

    assert redis_cache.get("health:probe") == "ok"
