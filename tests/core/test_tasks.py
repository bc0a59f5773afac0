"""Celery with a real worker and the real Redis broker."""

import pytest
from celery import shared_task
from django.db import transaction

from core.models import AuditEvent
from core.services import audit_record
from tests.oncommit import task_callbacks


@shared_task(name="tests.core.record_marker")
def record_marker(label: str) -> str:
    audit_record(actor=None, action="test.marker", data={"label": label})
    return label


class RollbackError(Exception):
    pass


def _markers() -> list[str]:
    return sorted(AuditEvent.objects.filter(action="test.marker").values_list("data__label", flat=True))


@pytest.mark.django_db(transaction=True)
def test_task_sent_in_a_transaction_that_rolls_back_never_runs(celery_worker: object) -> None:
    with pytest.raises(RollbackError), transaction.atomic():
        record_marker.delay_on_commit(label="rolled back")
        raise RollbackError

    # The worker runs one task at a time in order; once the later task has run, the earlier one would have too.
    record_marker.delay(label="sent after").get(timeout=20)

    assert _markers() == ["sent after"]


@pytest.mark.django_db(transaction=True)
def test_task_sent_on_commit_runs_after_the_commit(celery_worker: object) -> None:
    with transaction.atomic():
        record_marker.delay_on_commit(label="committed")
        assert _markers() == []  # not sent yet: still inside the transaction

    record_marker.delay(label="sentinel").get(timeout=20)

    assert _markers() == ["committed", "sentinel"]


def test_on_commit_tasks_are_captured_not_sent_inside_a_test_transaction(
    django_capture_on_commit_callbacks, db
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_marker.delay_on_commit(label="captured")

    assert len(task_callbacks(callbacks)) == 1
    assert _markers() == []


def test_queues_and_reliability_settings() -> None:
    from config.celery import app

    assert {queue.name for queue in app.conf.task_queues} == {"default", "matching", "email", "payouts", "webhooks"}
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
