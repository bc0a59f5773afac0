"""Claims under real concurrency (threads, each with its own PostgreSQL connection) and the lease-expiry task run by a
real Celery worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.models import TaskUnit
from marketplace.services.microtasks import task_unit_claim_next
from marketplace.tasks import task_unit_leases_expire
from tests.marketplace.test_microtasks_support import make_batch, make_worker, statuses


def _run_together(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Start every call at the same moment, each in its own thread (and so its own database connection)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = call()
            with lock:
                results.append(outcome)
        except BaseException as error:  # noqa: BLE001 - the test reports every failure of every thread
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_ten_workers_claiming_at_once_get_ten_different_units() -> None:
    batch = make_batch(units=30)
    workers = [make_worker() for _ in range(10)]

    results, errors = _run_together([partial(task_unit_claim_next, batch_id=batch.pk, worker=w) for w in workers])

    assert errors == []
    unit_ids = [unit.pk for unit in results]
    assert len(unit_ids) == 10 and len(set(unit_ids)) == 10
    leased = list(TaskUnit.objects.filter(batch=batch, status="leased").values_list("id", "claimed_by_id"))
    assert sorted(unit_id for unit_id, _ in leased) == sorted(unit_ids)
    assert sorted(worker_id for _, worker_id in leased) == sorted(worker.pk for worker in workers)
    assert statuses(batch) == {"leased": 10, "open": 20}


@pytest.mark.django_db(transaction=True)
def test_one_worker_claiming_from_several_tabs_at_once_holds_one_unit() -> None:
    batch = make_batch(units=30)
    worker = make_worker()

    results, errors = _run_together([partial(task_unit_claim_next, batch_id=batch.pk, worker=worker)] * 5)

    assert errors == []
    assert len({unit.pk for unit in results}) == 1
    assert statuses(batch) == {"leased": 1, "open": 29}


@pytest.mark.django_db(transaction=True)
def test_more_claimers_than_units_share_them_out_and_the_rest_hear_all_done() -> None:
    batch = make_batch(units=4)
    workers = [make_worker() for _ in range(8)]

    results, errors = _run_together([partial(task_unit_claim_next, batch_id=batch.pk, worker=w) for w in workers])

    assert errors == []
    claimed = [unit.pk for unit in results if unit is not None]
    assert len(claimed) == 4 == len(set(claimed))
    assert results.count(None) == 4
    assert statuses(batch) == {"leased": 4}


def test_lease_expiry_task_runs_on_a_real_worker(celery_worker) -> None:
    batch = make_batch(units=2)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    TaskUnit.objects.filter(pk=unit.pk).update(leased_until=timezone.now() - timedelta(minutes=1))

    task_unit_leases_expire.delay()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and TaskUnit.objects.filter(pk=unit.pk, status="leased").exists():
        time.sleep(0.1)
    unit.refresh_from_db()
    assert (unit.status, unit.claimed_by, unit.leased_until) == ("open", None, None)
    assert task_unit_leases_expire.name == "marketplace.tasks.task_unit_leases_expire"
