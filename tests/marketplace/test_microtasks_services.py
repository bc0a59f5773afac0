"""Micro-task services: batch lifecycle, claim, submit, gold scoring, review and lease expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditEvent
from marketplace.models import Gig, TaskBatch, TaskUnit
from marketplace.selectors.microtasks import task_worker_stats
from marketplace.services.microtasks import (
    TaskBatchInput,
    answers_match,
    task_batch_close,
    task_batch_create,
    task_batch_open,
    task_batch_update,
    task_unit_accept,
    task_unit_claim_next,
    task_unit_leases_expire,
    task_unit_reject,
    task_unit_submit,
    task_units_accept,
    task_units_reject,
)
from tests.factories import UserFactory
from tests.marketplace.test_microtasks_support import (
    add_units,
    labelling_skill,
    make_batch,
    make_client_member,
    make_gig,
    make_worker,
    statuses,
)

pytestmark = pytest.mark.django_db

BATCH_INPUT = TaskBatchInput(
    instructions="Label the sentiment of each review.",
    unit_price=Decimal("0.15"),
    time_limit_minutes=5,
    min_accuracy=Decimal("80"),
    answer_options=["positive", "negative", "neutral"],
)


def _audit_actions(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def _submit_units(batch: TaskBatch, worker, count: int, answer: str = "positive") -> list[TaskUnit]:
    done = []
    for _ in range(count):
        unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
        done.append(task_unit_submit(unit_id=unit.pk, worker=worker, result=answer))
    return done


# --- batch ----------------------------------------------------------------------------------------------------------
def test_task_batch_create_makes_a_draft_batch_in_the_gig_currency() -> None:
    member = make_client_member()
    gig = make_gig(member, currency="EUR", status=Gig.Status.DRAFT)

    batch = task_batch_create(gig_id=gig.pk, data=BATCH_INPUT, by=member.user)

    batch.refresh_from_db()
    assert (batch.status, batch.currency, batch.unit_price) == ("draft", "EUR", Decimal("0.15"))
    assert (batch.time_limit_minutes, batch.min_accuracy) == (5, Decimal("80.00"))
    assert batch.answer_options == ["positive", "negative", "neutral"]
    event = AuditEvent.objects.get(action="task_batch.created")
    assert (event.actor, event.organization, event.to_state) == (member.user, member.organization, "draft")


def test_task_batch_create_refuses_a_gig_of_another_organisation() -> None:
    gig = make_gig(make_client_member())
    outsider = make_client_member()

    with pytest.raises(Gig.DoesNotExist):
        task_batch_create(gig_id=gig.pk, data=BATCH_INPUT, by=outsider.user)

    assert not TaskBatch.objects.exists()


def test_task_batch_create_refuses_a_gig_that_is_not_a_micro_task_batch() -> None:
    member = make_client_member()
    gig = make_gig(member, kind=Gig.Kind.FIXED)

    with pytest.raises(ApplicationError) as error:
        task_batch_create(gig_id=gig.pk, data=BATCH_INPUT, by=member.user)

    assert error.value.code == "gig_not_micro_task" and error.value.status == 409
    assert "Micro-task batch" in error.value.message
    assert not TaskBatch.objects.exists()


def test_task_batch_create_refuses_a_second_batch_for_the_same_gig() -> None:
    member = make_client_member()
    gig = make_gig(member)
    task_batch_create(gig_id=gig.pk, data=BATCH_INPUT, by=member.user)

    with pytest.raises(ApplicationError) as error:
        task_batch_create(gig_id=gig.pk, data=BATCH_INPUT, by=member.user)

    assert error.value.code == "batch_exists" and error.value.status == 409
    assert TaskBatch.objects.count() == 1


def test_task_batch_create_reports_every_invalid_field_and_creates_nothing() -> None:
    member = make_client_member()
    gig = make_gig(member)
    data = TaskBatchInput(
        instructions="  ",
        unit_price=Decimal("0.001"),
        time_limit_minutes=0,
        min_accuracy=Decimal("120"),
        answer_options=["only one"],
    )

    with pytest.raises(ApplicationError) as error:
        task_batch_create(gig_id=gig.pk, data=data, by=member.user)

    assert set(error.value.field_errors) == {
        "instructions",
        "unit_price",
        "time_limit_minutes",
        "min_accuracy",
        "answer_options",
    }
    assert not TaskBatch.objects.exists()


def test_task_batch_update_changes_the_settings_and_records_what_changed() -> None:
    batch = make_batch(unit_price=Decimal("0.25"))
    member = batch.gig.organization.memberships.get()
    data = TaskBatchInput(instructions="New instructions", unit_price=Decimal("0.30"), time_limit_minutes=15)

    task_batch_update(batch_id=batch.pk, data=data, by=member.user)

    batch.refresh_from_db()
    assert (batch.instructions, batch.unit_price, batch.time_limit_minutes) == ("New instructions", Decimal("0.30"), 15)
    event = AuditEvent.objects.get(action="task_batch.updated")
    assert event.data["unit_price"] == ["0.25", "0.30"]


def test_task_batch_update_by_another_organisation_changes_nothing() -> None:
    batch = make_batch(unit_price=Decimal("0.25"))
    outsider = make_client_member()
    data = TaskBatchInput(instructions="Hijacked", unit_price=Decimal("9"), time_limit_minutes=15)

    with pytest.raises(TaskBatch.DoesNotExist):
        task_batch_update(batch_id=batch.pk, data=data, by=outsider.user)

    batch.refresh_from_db()
    assert (batch.instructions, batch.unit_price) == ("Label the sentiment.", Decimal("0.25"))


def test_task_batch_open_needs_open_units_and_an_open_gig() -> None:
    empty = make_batch(status=TaskBatch.Status.DRAFT)
    draft_gig = make_batch(units=3, status=TaskBatch.Status.DRAFT, gig_status=Gig.Status.DRAFT)

    with pytest.raises(ApplicationError) as no_units:
        task_batch_open(batch_id=empty.pk, by=empty.created_by)
    with pytest.raises(ApplicationError) as gig_not_open:
        task_batch_open(batch_id=draft_gig.pk, by=draft_gig.created_by)

    assert no_units.value.code == "no_units" and "upload units" in no_units.value.message
    assert gig_not_open.value.code == "gig_not_open" and "Publish the gig" in gig_not_open.value.message
    assert TaskBatch.objects.filter(status="draft").count() == 2


def test_task_batch_open_close_and_reopen_are_audited() -> None:
    batch = make_batch(units=3, status=TaskBatch.Status.DRAFT)

    task_batch_open(batch_id=batch.pk, by=batch.created_by)
    task_batch_close(batch_id=batch.pk, by=batch.created_by)
    reopened = task_batch_open(batch_id=batch.pk, by=batch.created_by)

    assert reopened.status == "open" and reopened.opened_at is not None and reopened.closed_at is not None
    events = AuditEvent.objects.filter(target_type="marketplace.taskbatch").order_by("id")
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("task_batch.opened", "draft", "open"),
        ("task_batch.closed", "open", "closed"),
        ("task_batch.opened", "closed", "open"),
    ]


def test_task_batch_close_refuses_a_draft() -> None:
    batch = make_batch(status=TaskBatch.Status.DRAFT)

    with pytest.raises(ApplicationError) as error:
        task_batch_close(batch_id=batch.pk, by=batch.created_by)

    assert error.value.status == 409 and error.value.code == "invalid_transition"
    batch.refresh_from_db()
    assert batch.status == "draft"


# --- claim ----------------------------------------------------------------------------------------------------------
def test_claim_leases_the_oldest_open_unit_for_the_time_limit() -> None:
    skill = labelling_skill()
    batch = make_batch(units=3, skills=((skill, 2),), time_limit_minutes=7)
    worker = make_worker((skill, 2))
    before = timezone.now()

    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    unit.refresh_from_db()
    assert (unit.external_id, unit.status, unit.claimed_by) == ("u1", "leased", worker)
    assert before + timedelta(minutes=7) <= unit.leased_until <= timezone.now() + timedelta(minutes=7)
    assert statuses(batch) == {"leased": 1, "open": 2}
    event = AuditEvent.objects.get(action="task_unit.claimed")
    assert (event.actor, event.from_state, event.to_state, event.organization) == (
        worker,
        "open",
        "leased",
        batch.gig.organization,
    )


def test_claiming_twice_returns_the_unit_already_held() -> None:
    batch = make_batch(units=3)
    worker = make_worker()

    first = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    second = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    assert second.pk == first.pk
    assert statuses(batch) == {"leased": 1, "open": 2}
    assert AuditEvent.objects.filter(action="task_unit.claimed").count() == 1


def test_claim_returns_none_when_every_unit_is_taken() -> None:
    batch = make_batch(units=1)
    task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    unit = task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    assert unit is None
    assert statuses(batch) == {"leased": 1}


def test_claim_gives_back_a_lease_that_ran_out_and_leases_afresh() -> None:
    batch = make_batch(units=2)
    worker = make_worker()
    stale = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    TaskUnit.objects.filter(pk=stale.pk).update(leased_until=timezone.now() - timedelta(seconds=1))

    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    assert unit.pk == stale.pk  # it went back to the queue and is still the oldest open unit
    assert unit.leased_until > timezone.now()
    assert statuses(batch) == {"leased": 1, "open": 1}
    assert AuditEvent.objects.filter(action="task_unit.lease_expired", target_id=str(stale.pk)).count() == 1


@pytest.mark.parametrize(
    ("batch_status", "gig_status", "code"),
    [
        (TaskBatch.Status.CLOSED, Gig.Status.OPEN, "batch_not_open"),
        (TaskBatch.Status.OPEN, Gig.Status.COMPLETED, "gig_not_open"),
    ],
)
def test_claim_refuses_when_the_batch_or_gig_is_not_taking_work(batch_status, gig_status, code) -> None:
    batch = make_batch(units=2, status=batch_status, gig_status=gig_status)

    with pytest.raises(ApplicationError) as error:
        task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    assert error.value.code == code and error.value.status == 409
    assert "another batch" in error.value.message
    assert statuses(batch) == {"open": 2}


def test_claim_on_a_cancelled_gig_is_not_found() -> None:
    batch = make_batch(units=2, gig_status=Gig.Status.CANCELLED)

    with pytest.raises(TaskBatch.DoesNotExist):
        task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    assert statuses(batch) == {"open": 2}


def test_claim_on_a_draft_batch_is_not_found() -> None:
    batch = make_batch(units=2, status=TaskBatch.Status.DRAFT)

    with pytest.raises(TaskBatch.DoesNotExist):
        task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    assert statuses(batch) == {"open": 2}


def test_claim_on_an_invite_only_gig_the_worker_was_not_invited_to_is_not_found() -> None:
    batch = make_batch(units=2, gig_fields={"visibility": Gig.Visibility.INVITE})

    with pytest.raises(TaskBatch.DoesNotExist):
        task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    assert statuses(batch) == {"open": 2}


def test_claim_refuses_someone_without_a_talent_profile() -> None:
    batch = make_batch(units=2)

    with pytest.raises(ApplicationError) as error:
        task_unit_claim_next(batch_id=batch.pk, worker=UserFactory())

    assert error.value.code == "not_a_freelancer" and error.value.status == 403
    assert error.value.message == "Only freelancers can claim micro-tasks: create a talent profile first."
    assert statuses(batch) == {"open": 2}


def test_claim_names_each_missing_skill_and_level() -> None:
    classification, sentiment = labelling_skill("Text classification"), labelling_skill("Sentiment labelling")
    batch = make_batch(units=2, skills=((classification, 3), (sentiment, 2)))
    worker = make_worker((classification, 2))

    with pytest.raises(ApplicationError) as error:
        task_unit_claim_next(batch_id=batch.pk, worker=worker)

    assert error.value.code == "missing_skills" and error.value.status == 403
    assert error.value.message == (
        "This batch needs skills your profile doesn’t show: Sentiment labelling at level 2 (you have none); "
        "Text classification at level 3 (you have level 2). Add them to your talent profile."
    )
    assert statuses(batch) == {"open": 2}


def test_claim_is_refused_below_the_minimum_accuracy_after_five_gold_answers() -> None:
    gold = dict.fromkeys(range(1, 6), "positive")
    batch = make_batch(units=8, gold=gold, min_accuracy=Decimal("70"))
    worker = make_worker()
    for answer in ["positive", "positive", "positive", "negative"]:  # 3 of 4: not judged yet
        unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
        task_unit_submit(unit_id=unit.pk, worker=worker, result=answer)
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    task_unit_submit(unit_id=unit.pk, worker=worker, result="negative")  # 3 of 5 = 60 %

    with pytest.raises(ApplicationError) as error:
        task_unit_claim_next(batch_id=batch.pk, worker=worker)

    assert error.value.code == "accuracy_too_low" and error.value.status == 403
    assert "60.0%, below the 70%" in error.value.message
    assert statuses(batch) == {"accepted": 3, "rejected": 2, "open": 3}
    assert task_unit_claim_next(batch_id=batch.pk, worker=make_worker()).external_id == "u6"  # others still can


def test_four_gold_misses_do_not_block_a_worker_yet() -> None:
    batch = make_batch(units=6, gold=dict.fromkeys(range(1, 5), "positive"), min_accuracy=Decimal("90"))
    worker = make_worker()
    _submit_units(batch, worker, 4, answer="negative")

    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    assert unit.external_id == "u5"


# --- submit and gold ------------------------------------------------------------------------------------------------
def test_submit_stores_the_result_and_ends_the_lease() -> None:
    batch = make_batch(units=2, answer_options=["positive", "negative"])
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    submitted = task_unit_submit(unit_id=unit.pk, worker=worker, result=" Positive ")

    submitted.refresh_from_db()
    assert (submitted.status, submitted.result, submitted.leased_until) == ("submitted", "positive", None)
    assert submitted.submitted_at is not None and submitted.claimed_by == worker
    assert _audit_actions(unit) == ["task_unit.claimed", "task_unit.submitted"]


def test_a_free_answer_with_a_nul_character_is_refused_with_a_message() -> None:
    batch = make_batch(units=1)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    with pytest.raises(ApplicationError, match="NUL character"):
        task_unit_submit(unit_id=unit.pk, worker=worker, result={"label": "ok\x00"})

    unit.refresh_from_db()
    assert (unit.status, unit.result) == ("leased", None)


def test_submit_after_the_lease_ran_out_is_refused_and_changes_nothing() -> None:
    batch = make_batch(units=1, time_limit_minutes=3)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    TaskUnit.objects.filter(pk=unit.pk).update(leased_until=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ApplicationError) as error:
        task_unit_submit(unit_id=unit.pk, worker=worker, result="positive")

    assert error.value.code == "lease_expired" and error.value.status == 409
    assert error.value.message == (
        "Your 3-minute lease on this unit ran out, so it goes back to the queue. Claim the next unit to keep working."
    )
    unit.refresh_from_db()
    assert (unit.status, unit.result, unit.submitted_at) == ("leased", None, None)


def test_submit_of_a_unit_that_went_back_to_the_queue_tells_the_worker() -> None:
    batch = make_batch(units=1)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    TaskUnit.objects.filter(pk=unit.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    task_unit_leases_expire()

    with pytest.raises(ApplicationError) as error:
        task_unit_submit(unit_id=unit.pk, worker=worker, result="positive")

    assert error.value.code == "lease_expired" and "went back to the queue" in error.value.message
    assert statuses(batch) == {"open": 1}


def test_submit_by_someone_other_than_the_lease_holder_changes_nothing() -> None:
    batch = make_batch(units=1)
    holder, other = make_worker(), make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=holder)

    with pytest.raises(ApplicationError) as error:
        task_unit_submit(unit_id=unit.pk, worker=other, result="positive")

    assert error.value.status == 409
    unit.refresh_from_db()
    assert (unit.status, unit.claimed_by, unit.result) == ("leased", holder, None)


def test_submitting_twice_is_refused() -> None:
    batch = make_batch(units=2)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    task_unit_submit(unit_id=unit.pk, worker=worker, result="first")

    with pytest.raises(ApplicationError) as error:
        task_unit_submit(unit_id=unit.pk, worker=worker, result="second")

    assert error.value.code == "already_submitted"
    unit.refresh_from_db()
    assert unit.result == "first"


@pytest.mark.parametrize(
    ("options", "result", "field_message"),
    [
        ([], "   ", "Enter an answer."),
        (["positive", "negative"], "maybe", "Choose one."),
    ],
)
def test_submit_refuses_an_empty_or_unlisted_answer(options, result, field_message) -> None:
    batch = make_batch(units=1, answer_options=options)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    with pytest.raises(ApplicationError) as error:
        task_unit_submit(unit_id=unit.pk, worker=worker, result=result)

    assert error.value.field_errors == {"answer": [field_message]}
    unit.refresh_from_db()
    assert (unit.status, unit.result) == ("leased", None)


@pytest.mark.parametrize(
    ("expected", "given", "match"),
    [
        ("Positive", "  positive ", True),
        ("New   York", "new york", True),
        ("cat", "dog", False),
        (5, "5", True),
        ({"label": "cat", "boxes": [1, 2]}, {"boxes": [1, 2], "label": "cat"}, True),
        ({"label": "cat"}, {"label": "Cat"}, False),
        (["a", "b"], ["b", "a"], False),
        ({"label": "cat"}, "cat", False),
    ],
)
def test_answers_match(expected, given, match) -> None:
    assert answers_match(expected=expected, given=given) is match


def test_a_gold_unit_is_scored_on_submission_and_earns_nothing() -> None:
    batch = make_batch(units=2, gold={1: "Positive", 2: {"label": "cat"}})
    worker = make_worker()

    right = _submit_units(batch, worker, 1, answer="positive ")[0]
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    wrong = task_unit_submit(unit_id=unit.pk, worker=worker, result={"label": "dog"})

    right.refresh_from_db()
    wrong.refresh_from_db()
    assert (right.status, right.is_gold_correct, right.earned_amount, right.reviewed_by) == (
        "accepted",
        True,
        None,
        None,
    )
    assert (wrong.status, wrong.is_gold_correct, wrong.earned_amount) == ("rejected", False, None)
    assert wrong.rejection_reason == "Quality check: the answer did not match the known answer."
    assert _audit_actions(wrong) == ["task_unit.claimed", "task_unit.submitted", "task_unit.gold_scored"]
    stats = task_worker_stats(batch_id=batch.pk, worker=worker)
    assert (stats.gold_answered, stats.gold_correct, stats.accuracy) == (2, 1, Decimal("50.0"))
    assert (stats.accepted_units, stats.earnings) == (0, Decimal("0.00"))


# --- review ---------------------------------------------------------------------------------------------------------
def test_accepting_units_adds_the_exact_unit_price_to_the_worker_earnings() -> None:
    batch = make_batch(units=3, unit_price=Decimal("0.10"))
    member = batch.gig.organization.memberships.get()
    worker = make_worker()
    units = _submit_units(batch, worker, 3)

    for unit in units:
        task_unit_accept(unit_id=unit.pk, by=member.user)

    stats = task_worker_stats(batch_id=batch.pk, worker=worker)
    assert (stats.accepted_units, stats.earnings) == (3, Decimal("0.30"))
    accepted = TaskUnit.objects.get(pk=units[0].pk)
    assert (accepted.status, accepted.reviewed_by, accepted.earned_amount) == ("accepted", member.user, Decimal("0.10"))
    event = AuditEvent.objects.filter(action="task_unit.accepted").first()
    assert (event.from_state, event.to_state, event.data) == (
        "submitted",
        "accepted",
        {"earned": "0.10", "currency": "USD"},
    )


def test_a_later_price_change_does_not_rewrite_earnings() -> None:
    batch = make_batch(units=2, unit_price=Decimal("0.10"))
    member = batch.gig.organization.memberships.get()
    worker = make_worker()
    first, second = _submit_units(batch, worker, 2)
    task_unit_accept(unit_id=first.pk, by=member.user)
    task_batch_update(
        batch_id=batch.pk,
        data=TaskBatchInput(instructions="Same", unit_price=Decimal("0.20"), time_limit_minutes=10),
        by=member.user,
    )

    task_unit_accept(unit_id=second.pk, by=member.user)

    assert task_worker_stats(batch_id=batch.pk, worker=worker).earnings == Decimal("0.30")


def test_reject_needs_a_reason_and_then_records_it() -> None:
    batch = make_batch(units=1)
    member = batch.gig.organization.memberships.get()
    worker = make_worker()
    unit = _submit_units(batch, worker, 1)[0]

    with pytest.raises(ApplicationError) as error:
        task_unit_reject(unit_id=unit.pk, by=member.user, reason="  ")
    unit.refresh_from_db()
    assert error.value.field_errors == {"reason": ["Enter a reason."]} and unit.status == "submitted"

    task_unit_reject(unit_id=unit.pk, by=member.user, reason="Labels the product, not the review.")

    unit.refresh_from_db()
    assert (unit.status, unit.rejection_reason, unit.earned_amount) == (
        "rejected",
        "Labels the product, not the review.",
        None,
    )
    assert task_worker_stats(batch_id=batch.pk, worker=worker).rejected_units == 1


def test_a_member_of_another_organisation_cannot_review_and_nothing_changes() -> None:
    batch = make_batch(units=2)
    outsider = make_client_member()
    worker = make_worker()
    first, second = _submit_units(batch, worker, 2)

    with pytest.raises(TaskUnit.DoesNotExist):
        task_unit_accept(unit_id=first.pk, by=outsider.user)
    with pytest.raises(TaskUnit.DoesNotExist):
        task_unit_reject(unit_id=second.pk, by=outsider.user, reason="No")
    with pytest.raises(TaskBatch.DoesNotExist):
        task_units_accept(batch_id=batch.pk, unit_ids=[first.pk, second.pk], by=outsider.user)

    assert statuses(batch) == {"submitted": 2}
    assert not AuditEvent.objects.filter(action__in=["task_unit.accepted", "task_unit.rejected"]).exists()


def test_the_worker_cannot_accept_their_own_unit() -> None:
    batch = make_batch(units=1)
    worker = make_worker()
    unit = _submit_units(batch, worker, 1)[0]

    with pytest.raises(TaskUnit.DoesNotExist):
        task_unit_accept(unit_id=unit.pk, by=worker)

    assert statuses(batch) == {"submitted": 1}


def test_review_refuses_gold_units_and_units_already_reviewed() -> None:
    batch = make_batch(units=2, gold={1: "positive"})
    member = batch.gig.organization.memberships.get()
    worker = make_worker()
    gold, regular = _submit_units(batch, worker, 2)
    task_unit_accept(unit_id=regular.pk, by=member.user)

    with pytest.raises(ApplicationError) as gold_error:
        task_unit_reject(unit_id=gold.pk, by=member.user, reason="No")
    with pytest.raises(ApplicationError) as again:
        task_unit_accept(unit_id=regular.pk, by=member.user)

    assert gold_error.value.code == "gold_unit" and gold_error.value.status == 409
    assert again.value.code == "not_reviewable" and "Reload the review queue" in again.value.message
    assert statuses(batch) == {"accepted": 2}
    assert AuditEvent.objects.filter(action="task_unit.accepted").count() == 1


def test_bulk_accept_reviews_the_units_still_waiting_and_counts_the_rest() -> None:
    batch = make_batch(units=4, unit_price=Decimal("0.05"))
    member = batch.gig.organization.memberships.get()
    worker = make_worker()
    units = _submit_units(batch, worker, 4)
    task_unit_reject(unit_id=units[0].pk, by=member.user, reason="Off-topic")

    result = task_units_accept(batch_id=batch.pk, unit_ids=[u.pk for u in units[:3]], by=member.user)

    assert (result.reviewed, result.skipped) == (2, 1)
    assert statuses(batch) == {"rejected": 1, "accepted": 2, "submitted": 1}
    assert task_worker_stats(batch_id=batch.pk, worker=worker).earnings == Decimal("0.10")
    assert AuditEvent.objects.filter(action="task_unit.accepted").count() == 2


def test_bulk_reject_needs_a_reason_and_units_of_this_batch() -> None:
    batch = make_batch(units=2)
    other_batch = make_batch(batch.gig.organization.memberships.get(), units=1)
    member = batch.gig.organization.memberships.get()
    worker = make_worker()
    units = _submit_units(batch, worker, 2)
    foreign = _submit_units(other_batch, worker, 1)[0]

    with pytest.raises(ApplicationError) as no_reason:
        task_units_reject(batch_id=batch.pk, unit_ids=[u.pk for u in units], by=member.user, reason="")
    with pytest.raises(TaskUnit.DoesNotExist):
        task_units_reject(batch_id=batch.pk, unit_ids=[units[0].pk, foreign.pk], by=member.user, reason="Bad")
    assert no_reason.value.field_errors == {"reason": ["Enter a reason."]}
    assert statuses(batch) == {"submitted": 2} and statuses(other_batch) == {"submitted": 1}

    result = task_units_reject(batch_id=batch.pk, unit_ids=[u.pk for u in units], by=member.user, reason="Bad")

    assert (result.reviewed, result.skipped) == (2, 0)
    assert set(batch.units.values_list("rejection_reason", flat=True)) == {"Bad"}


def test_bulk_review_of_units_no_longer_waiting_is_refused() -> None:
    batch = make_batch(units=1)
    member = batch.gig.organization.memberships.get()
    unit = _submit_units(batch, make_worker(), 1)[0]
    task_unit_accept(unit_id=unit.pk, by=member.user)

    with pytest.raises(ApplicationError) as error:
        task_units_reject(batch_id=batch.pk, unit_ids=[unit.pk], by=member.user, reason="Late")

    assert error.value.code == "not_reviewable" and error.value.status == 409
    assert statuses(batch) == {"accepted": 1}


# --- lease expiry ---------------------------------------------------------------------------------------------------
def test_lease_expiry_returns_expired_units_in_one_update() -> None:
    first, second = make_batch(units=3), make_batch(units=2)
    workers = [make_worker() for _ in range(4)]
    expired = [
        task_unit_claim_next(batch_id=first.pk, worker=workers[0]),
        task_unit_claim_next(batch_id=first.pk, worker=workers[1]),
        task_unit_claim_next(batch_id=second.pk, worker=workers[2]),
    ]
    live = task_unit_claim_next(batch_id=second.pk, worker=workers[3])
    TaskUnit.objects.filter(pk__in=[u.pk for u in expired]).update(leased_until=timezone.now() - timedelta(minutes=1))

    with CaptureQueriesContext(connection) as queries:
        count = task_unit_leases_expire()

    assert count == 3
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "marketplace_taskunit"')]
    assert len(updates) == 1
    assert statuses(first) == {"open": 3} and statuses(second) == {"open": 1, "leased": 1}
    assert TaskUnit.objects.get(pk=live.pk).claimed_by == workers[3]
    assert set(TaskUnit.objects.filter(pk__in=[u.pk for u in expired]).values_list("claimed_by", "leased_until")) == {
        (None, None)
    }
    events = AuditEvent.objects.filter(action="task_unit.leases_expired").order_by("target_id")
    assert [(e.target_id, sorted(e.data["unit_ids"])) for e in events] == [
        (str(first.pk), sorted([expired[0].pk, expired[1].pk])),
        (str(second.pk), [expired[2].pk]),
    ]
    assert task_unit_leases_expire() == 0  # idempotent


def test_units_returned_by_expiry_can_be_claimed_again() -> None:
    batch = make_batch(units=1)
    first_worker, second_worker = make_worker(), make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=first_worker)
    TaskUnit.objects.filter(pk=unit.pk).update(leased_until=timezone.now() - timedelta(seconds=5))
    task_unit_leases_expire()

    again = task_unit_claim_next(batch_id=batch.pk, worker=second_worker)

    assert (again.pk, again.claimed_by) == (unit.pk, second_worker)


def test_new_units_can_be_added_to_an_open_batch_and_are_served_after_the_older_ones() -> None:
    batch = make_batch(units=1)
    add_units(batch, 1, start=2)
    worker_a, worker_b = make_worker(), make_worker()

    units = [task_unit_claim_next(batch_id=batch.pk, worker=w).external_id for w in (worker_a, worker_b)]

    assert units == ["u1", "u2"]
