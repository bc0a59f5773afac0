from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from config.celery import app as celery_app


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Rate-limit counters and other cached state never leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[object]:
    """A real Celery worker (in a thread of this process) consuming every queue from the real Redis broker.

    Tests using it must be `transaction=True` (the worker's own database connection sees only committed rows).
    """
    celery_app.control.purge()  # a previous run's leftovers must not run inside this test
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        queues=["default", "matching", "email", "payouts"],
        loglevel="WARNING",
        shutdown_timeout=10,
    ) as worker:
        yield worker
