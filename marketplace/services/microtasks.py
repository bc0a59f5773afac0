"""Micro-task writes: the batch's settings and lifecycle, importing units, claiming (a lease), submitting, review and
lease expiry. Every state change writes an audit event; refusals raise ApplicationError with what to do next.

Gold units (known answers) are scored on submission: a match is accepted, a miss rejected, with nobody reviewing.
They measure accuracy and earn nothing: only accepted regular units are paid, at the batch's price at acceptance.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.money import quantize
from core.services import audit_record
from marketplace.models import Gig, TaskBatch, TaskUnit
from marketplace.selectors.microtasks import (
    WORKABLE_GIG_STATUSES,
    accuracy_blocks_claims,
    micro_task_gig_get_for_update,
    task_batch_get_for_client_for_update,
    task_batch_get_for_worker,
    task_unit_get_for_client_for_update,
    task_unit_get_for_worker_for_update,
    task_units_get_for_client_for_update,
    task_worker_missing_skills,
    task_worker_stats,
)
from talent.selectors import talent_profile_exists

if TYPE_CHECKING:
    from accounts.models import User

# Importing units lives in its own module; re-exported here so callers find every micro-task write in one place.
from marketplace.services.microtask_import import (
    IMPORT_EXTENSIONS,
    IMPORT_MAX_BYTES,
    IMPORT_MAX_LISTED_ERRORS,
    IMPORT_MAX_ROWS,
    ImportResult,
    task_units_import,
)

__all__ = [
    "IMPORT_EXTENSIONS",
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_LISTED_ERRORS",
    "IMPORT_MAX_ROWS",
    "ImportResult",
    "task_units_import",
]

ANSWER_OPTIONS_MAX = 20
RESULT_MAX_CHARS = 20_000
REVIEW_BULK_MAX = 500
REASON_MAX_CHARS = 1000
UNIT_PRICE_MAX = Decimal("10000")


# --- the batch --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskBatchInput:
    instructions: str
    unit_price: Decimal
    time_limit_minutes: int
    min_accuracy: Decimal | None = None
    answer_options: list[str] = field(default_factory=list)


def _validated(data: TaskBatchInput, *, currency: str) -> TaskBatchInput:
    errors: dict[str, list[str]] = {}
    instructions = data.instructions.strip()
    if not instructions:
        errors["instructions"] = ["Tell workers what to do with each unit."]
    if data.unit_price <= 0 or data.unit_price > UNIT_PRICE_MAX:
        errors["unit_price"] = [f"Enter a price per unit above 0 and at most {UNIT_PRICE_MAX:,} {currency}."]
    elif quantize(data.unit_price, currency) != data.unit_price:
        errors["unit_price"] = [f"{currency} amounts can’t have that many decimals."]
    if not 1 <= data.time_limit_minutes <= TaskBatch.TIME_LIMIT_MAX_MINUTES:
        errors["time_limit_minutes"] = [f"Give workers between 1 and {TaskBatch.TIME_LIMIT_MAX_MINUTES} minutes."]
    if data.min_accuracy is not None and not 0 <= data.min_accuracy <= 100:
        errors["min_accuracy"] = ["Enter a percentage between 0 and 100, or leave it empty for no minimum."]
    options: list[str] = []
    for option in (o.strip() for o in data.answer_options):
        if option and option.casefold() not in {o.casefold() for o in options}:
            options.append(option)
    if len(options) == 1:
        errors["answer_options"] = ["Give at least two answers to choose from, or none for a free answer."]
    elif len(options) > ANSWER_OPTIONS_MAX or any(len(o) > 100 for o in options):
        errors["answer_options"] = [f"Give at most {ANSWER_OPTIONS_MAX} answers of up to 100 characters each."]
    if errors:
        raise ApplicationError("Check the highlighted fields and save again.", field_errors=errors)
    return TaskBatchInput(instructions, data.unit_price, data.time_limit_minutes, data.min_accuracy, options)


@transaction.atomic
def task_batch_create(*, gig_id: int, data: TaskBatchInput, by: User) -> TaskBatch:
    gig = micro_task_gig_get_for_update(gig_id=gig_id, user=by)
    if gig.kind != Gig.Kind.MICRO_TASK:
        raise ApplicationError(
            "Only micro-task gigs take a batch of units. Post a gig of kind “Micro-task batch” instead.",
            code="gig_not_micro_task",
            status=409,
        )
    if gig.status in (Gig.Status.COMPLETED, Gig.Status.CANCELLED):
        raise ApplicationError(
            f"This gig is {gig.get_status_display().lower()}: post a new gig for more work.",
            code="gig_closed",
            status=409,
        )
    if TaskBatch.objects.filter(gig=gig).exists():
        raise ApplicationError("This gig already has a batch: edit it instead.", code="batch_exists", status=409)
    clean = _validated(data, currency=gig.currency)
    batch = TaskBatch.objects.create(
        gig=gig,
        created_by=by,
        instructions=clean.instructions,
        unit_price=clean.unit_price,
        currency=gig.currency,
        time_limit_minutes=clean.time_limit_minutes,
        min_accuracy=clean.min_accuracy,
        answer_options=clean.answer_options,
    )
    audit_record(
        actor=by, action="task_batch.created", target=batch, organization=gig.organization, to_state=batch.status
    )
    return batch


@transaction.atomic
def task_batch_update(*, batch_id: int, data: TaskBatchInput, by: User) -> TaskBatch:
    """Change the settings. Earnings already recorded keep the price they were accepted at."""
    batch = task_batch_get_for_client_for_update(batch_id=batch_id, user=by)
    clean = _validated(data, currency=batch.currency)
    changes: dict[str, list[Any]] = {}
    for name in ("instructions", "unit_price", "time_limit_minutes", "min_accuracy", "answer_options"):
        old, new = getattr(batch, name), getattr(clean, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(batch, name, new)
    if changes:
        batch.save()
        audit_record(
            actor=by, action="task_batch.updated", target=batch, organization=batch.gig.organization, data=changes
        )
    return batch


@transaction.atomic
def task_batch_open(*, batch_id: int, by: User) -> TaskBatch:
    batch = task_batch_get_for_client_for_update(batch_id=batch_id, user=by)
    if batch.gig.status not in WORKABLE_GIG_STATUSES:
        raise ApplicationError(
            "Publish the gig first: workers can only claim units of an open gig.", code="gig_not_open", status=409
        )
    if not batch.units.filter(status=TaskUnit.Status.OPEN).exists():
        raise ApplicationError(
            "There is no open unit to work on: upload units before opening the batch.", code="no_units", status=409
        )
    previous = batch.transition_to(TaskBatch.Status.OPEN)
    batch.opened_at = timezone.now()
    batch.save(update_fields=["status", "opened_at", "updated_at"])
    audit_record(
        actor=by,
        action="task_batch.opened",
        target=batch,
        organization=batch.gig.organization,
        from_state=previous,
        to_state=batch.status,
    )
    return batch


@transaction.atomic
def task_batch_close(*, batch_id: int, by: User) -> TaskBatch:
    """Stop new claims. Units already claimed can still be submitted until their lease runs out."""
    batch = task_batch_get_for_client_for_update(batch_id=batch_id, user=by)
    previous = batch.transition_to(TaskBatch.Status.CLOSED)
    batch.closed_at = timezone.now()
    batch.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(
        actor=by,
        action="task_batch.closed",
        target=batch,
        organization=batch.gig.organization,
        from_state=previous,
        to_state=batch.status,
    )
    return batch


# --- working on units -------------------------------------------------------------------------------------------
def _ensure_can_claim(batch: TaskBatch, worker: User) -> None:
    if batch.status != TaskBatch.Status.OPEN:
        raise ApplicationError(
            "This batch is closed to new claims. Pick another batch from your task list.",
            code="batch_not_open",
            status=409,
        )
    if batch.gig.status not in WORKABLE_GIG_STATUSES:
        raise ApplicationError(
            "This gig is no longer taking work. Pick another batch from your task list.",
            code="gig_not_open",
            status=409,
        )
    if not talent_profile_exists(user=worker):
        raise ApplicationError(
            "Only freelancers can claim micro-tasks: create a talent profile first.",
            code="not_a_freelancer",
            status=403,
        )
    missing = task_worker_missing_skills(gig_id=batch.gig_id, worker=worker)
    if missing:
        needs = "; ".join(
            f"{m.name} at level {m.min_level} (you have {'none' if m.level is None else f'level {m.level}'})"
            for m in missing
        )
        raise ApplicationError(
            f"This batch needs skills your profile doesn’t show: {needs}. Add them to your talent profile.",
            code="missing_skills",
            status=403,
        )
    stats = task_worker_stats(batch_id=batch.pk, worker=worker)
    minimum = batch.min_accuracy
    if minimum is not None and accuracy_blocks_claims(
        min_accuracy=minimum, answered=stats.gold_answered, correct=stats.gold_correct
    ):
        raise ApplicationError(
            f"Your accuracy on this batch’s quality checks is {stats.accuracy}%, below the {minimum.normalize():f}% "
            "it requires, so you can’t claim more of its units. Other batches are open to you.",
            code="accuracy_too_low",
            status=403,
        )


def _release(unit: TaskUnit, *, actor: User | None) -> None:
    worker_id = unit.claimed_by_id
    previous = unit.transition_to(TaskUnit.Status.OPEN)
    unit.claimed_by, unit.leased_until = None, None
    unit.save(update_fields=["status", "claimed_by", "leased_until", "updated_at"])
    audit_record(
        actor=actor,
        action="task_unit.lease_expired",
        target=unit,
        organization=unit.batch.gig.organization,
        from_state=previous,
        to_state=unit.status,
        data={"worker_id": worker_id},
    )


@transaction.atomic
def task_unit_claim_next(*, batch_id: int, worker: User) -> TaskUnit | None:
    """Lease the oldest open unit to the worker, or give back the unit they already hold. None when none is left.

    Concurrent claimers never wait for each other: each skips rows another transaction has locked."""
    batch = task_batch_get_for_worker(batch_id=batch_id, worker=worker)
    _ensure_can_claim(batch, worker)
    now = timezone.now()
    held = (
        TaskUnit.objects.select_for_update()
        .filter(batch=batch, claimed_by=worker, status=TaskUnit.Status.LEASED)
        .first()
    )
    if held is not None:
        held.batch = batch
        if held.leased_until and held.leased_until > now:
            return held
        _release(held, actor=None)  # their own lease ran out before the sweep got to it
    unit = (
        TaskUnit.objects.select_for_update(skip_locked=True)
        .filter(batch=batch, status=TaskUnit.Status.OPEN)
        .order_by("id")
        .first()
    )
    if unit is None:
        return None
    unit.batch = batch
    previous = unit.transition_to(TaskUnit.Status.LEASED)
    unit.claimed_by = worker
    unit.leased_until = now + timedelta(minutes=batch.time_limit_minutes)
    try:
        with transaction.atomic():
            unit.save(update_fields=["status", "claimed_by", "leased_until", "updated_at"])
    except IntegrityError:
        # The same worker claimed in another tab at the same moment and won: one lease per worker, so use theirs.
        return TaskUnit.objects.get(batch=batch, claimed_by=worker, status=TaskUnit.Status.LEASED)
    audit_record(
        actor=worker,
        action="task_unit.claimed",
        target=unit,
        organization=batch.gig.organization,
        from_state=previous,
        to_state=unit.status,
        data={"leased_until": unit.leased_until.isoformat()},
    )
    return unit


def _normalise(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return " ".join(str(value).split()).casefold()


def answers_match(*, expected: Any, given: Any) -> bool:
    """Objects and lists must be equal as JSON; text (and numbers) compare ignoring case and extra whitespace."""
    if isinstance(expected, dict | list) != isinstance(given, dict | list):
        return False
    return _normalise(expected) == _normalise(given)


def _clean_result(batch: TaskBatch, result: Any) -> Any:
    if isinstance(result, str):
        result = result.strip()
    if result in (None, "", [], {}):
        raise ApplicationError(
            "Enter your answer before submitting.", code="empty_result", field_errors={"answer": ["Enter an answer."]}
        )
    if "\\u0000" in json.dumps(result):  # PostgreSQL's jsonb cannot hold a NUL character
        raise ApplicationError(
            "Your answer contains a NUL character (\\0): remove it.",
            code="invalid_result",
            field_errors={"answer": ["Remove the NUL character."]},
        )
    if len(json.dumps(result)) > RESULT_MAX_CHARS:
        raise ApplicationError(
            f"Your answer is too long: keep it under {RESULT_MAX_CHARS:,} characters.",
            code="result_too_long",
            field_errors={"answer": ["This answer is too long."]},
        )
    if batch.answer_options:
        wanted = result.casefold() if isinstance(result, str) else None
        chosen = next((option for option in batch.answer_options if option.casefold() == wanted), None)
        if chosen is None:
            raise ApplicationError(
                "Choose one of the listed answers.", code="invalid_result", field_errors={"answer": ["Choose one."]}
            )
        return chosen
    return result


@transaction.atomic
def task_unit_submit(*, unit_id: int, worker: User, result: Any) -> TaskUnit:
    """Hand in the result of a unit the worker holds a live lease on. Gold units are scored on the spot."""
    unit = task_unit_get_for_worker_for_update(unit_id=unit_id, worker=worker)
    now = timezone.now()
    if unit.claimed_by_id == worker.pk and unit.status in TaskUnit.WORKED_STATUSES:
        raise ApplicationError("You already submitted this unit.", code="already_submitted", status=409)
    if unit.claimed_by_id != worker.pk or unit.status != TaskUnit.Status.LEASED:
        raise ApplicationError(
            "Your time on this unit ran out and it went back to the queue. Claim the next unit to keep working.",
            code="lease_expired",
            status=409,
        )
    if unit.leased_until is None or unit.leased_until <= now:
        raise ApplicationError(
            f"Your {unit.batch.time_limit_minutes}-minute lease on this unit ran out, so it goes back to the queue. "
            "Claim the next unit to keep working.",
            code="lease_expired",
            status=409,
        )
    batch = unit.batch
    unit.result = _clean_result(batch, result)
    previous = unit.transition_to(TaskUnit.Status.SUBMITTED)
    unit.submitted_at, unit.leased_until = now, None
    audit_record(
        actor=worker,
        action="task_unit.submitted",
        target=unit,
        organization=batch.gig.organization,
        from_state=previous,
        to_state=unit.status,
    )
    if unit.is_gold:
        unit.is_gold_correct = answers_match(expected=unit.gold_answer, given=unit.result)
        verdict = TaskUnit.Status.ACCEPTED if unit.is_gold_correct else TaskUnit.Status.REJECTED
        unit.transition_to(verdict)
        unit.reviewed_at = now
        if not unit.is_gold_correct:
            unit.rejection_reason = "Quality check: the answer did not match the known answer."
        audit_record(
            actor=None,
            action="task_unit.gold_scored",
            target=unit,
            organization=batch.gig.organization,
            from_state=TaskUnit.Status.SUBMITTED,
            to_state=unit.status,
            data={"worker_id": worker.pk, "correct": unit.is_gold_correct},
        )
    unit.save()
    return unit


# --- review -----------------------------------------------------------------------------------------------------
def _ensure_reviewable(unit: TaskUnit) -> None:
    if unit.is_gold:
        raise ApplicationError(
            "Gold units are scored automatically against their known answer; there is nothing to review.",
            code="gold_unit",
            status=409,
        )
    if unit.status != TaskUnit.Status.SUBMITTED:
        raise ApplicationError(
            f"This unit is {unit.get_status_display().lower()}, not waiting for review. Reload the review queue.",
            code="not_reviewable",
            status=409,
        )


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Say why the unit is rejected: the worker sees the reason.",
            code="reason_required",
            field_errors={"reason": ["Enter a reason."]},
        )
    if len(reason) > REASON_MAX_CHARS:
        raise ApplicationError(
            f"Keep the reason under {REASON_MAX_CHARS} characters.",
            field_errors={"reason": ["This reason is too long."]},
        )
    return reason


def _review(unit: TaskUnit, *, by: User, accept: bool, reason: str, now: datetime) -> None:
    previous = unit.transition_to(TaskUnit.Status.ACCEPTED if accept else TaskUnit.Status.REJECTED)
    unit.reviewed_by, unit.reviewed_at = by, now
    if accept:
        unit.earned_amount = unit.batch.unit_price
    else:
        unit.rejection_reason = reason
    audit_record(
        actor=by,
        action="task_unit.accepted" if accept else "task_unit.rejected",
        target=unit,
        organization=unit.batch.gig.organization,
        from_state=previous,
        to_state=unit.status,
        data={"earned": str(unit.earned_amount), "currency": unit.batch.currency} if accept else {"reason": reason},
    )


_REVIEW_FIELDS = ["status", "reviewed_by", "reviewed_at", "earned_amount", "rejection_reason", "updated_at"]


@transaction.atomic
def task_unit_accept(*, unit_id: int, by: User) -> TaskUnit:
    """Accept a submitted unit: the worker earns the batch's unit price."""
    unit = task_unit_get_for_client_for_update(unit_id=unit_id, user=by)
    _ensure_reviewable(unit)
    _review(unit, by=by, accept=True, reason="", now=timezone.now())
    unit.save(update_fields=_REVIEW_FIELDS)
    return unit


@transaction.atomic
def task_unit_reject(*, unit_id: int, by: User, reason: str) -> TaskUnit:
    """Reject a submitted unit with a reason the worker sees; it earns nothing."""
    reason = _clean_reason(reason)
    unit = task_unit_get_for_client_for_update(unit_id=unit_id, user=by)
    _ensure_reviewable(unit)
    _review(unit, by=by, accept=False, reason=reason, now=timezone.now())
    unit.save(update_fields=_REVIEW_FIELDS)
    return unit


@dataclass(frozen=True)
class BulkReviewResult:
    reviewed: int
    skipped: int  # selected units that were no longer waiting for review (e.g. a colleague got there first)


def _bulk_review(*, batch_id: int, unit_ids: Sequence[int], by: User, accept: bool, reason: str) -> BulkReviewResult:
    ids = sorted(set(unit_ids))
    if not ids:
        raise ApplicationError("Select at least one unit.", code="nothing_selected")
    if len(ids) > REVIEW_BULK_MAX:
        raise ApplicationError(f"Select at most {REVIEW_BULK_MAX} units at a time.", code="too_many_selected")
    units = task_units_get_for_client_for_update(batch_id=batch_id, unit_ids=ids, user=by)
    pending = [u for u in units if u.status == TaskUnit.Status.SUBMITTED and not u.is_gold]
    if not pending:
        raise ApplicationError(
            "None of the selected units is waiting for review any more. Reload the review queue.",
            code="not_reviewable",
            status=409,
        )
    now = timezone.now()
    for unit in pending:
        _review(unit, by=by, accept=accept, reason=reason, now=now)
    TaskUnit.objects.bulk_update(pending, _REVIEW_FIELDS)
    return BulkReviewResult(reviewed=len(pending), skipped=len(units) - len(pending))


@transaction.atomic
def task_units_accept(*, batch_id: int, unit_ids: Sequence[int], by: User) -> BulkReviewResult:
    """Accept the selected units that are still waiting for review."""
    return _bulk_review(batch_id=batch_id, unit_ids=unit_ids, by=by, accept=True, reason="")


@transaction.atomic
def task_units_reject(*, batch_id: int, unit_ids: Sequence[int], by: User, reason: str) -> BulkReviewResult:
    """Reject the selected units that are still waiting for review, all with the same reason."""
    return _bulk_review(batch_id=batch_id, unit_ids=unit_ids, by=by, accept=False, reason=_clean_reason(reason))


# --- lease expiry -----------------------------------------------------------------------------------------------
@transaction.atomic
def task_unit_leases_expire(*, now: datetime | None = None) -> int:
    """Return every unit whose lease ran out to the queue, in one UPDATE; returns how many.

    Rows a worker is submitting at this moment are locked and skipped: their submit sees the lease ended and refuses,
    and the next run returns them."""
    now = now or timezone.now()
    expired = list(
        TaskUnit.objects.select_for_update(skip_locked=True)
        .filter(status=TaskUnit.Status.LEASED, leased_until__lte=now)
        .order_by("id")
        .values_list("id", "batch_id", "claimed_by_id")
    )
    if not expired:
        return 0
    TaskUnit.objects.filter(pk__in=[row[0] for row in expired]).update(
        status=TaskUnit.Status.OPEN, claimed_by=None, leased_until=None, updated_at=now
    )
    by_batch: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for unit_id, batch_id, worker_id in expired:
        by_batch[batch_id].append((unit_id, worker_id))
    batches = TaskBatch.objects.select_related("gig__organization").in_bulk(list(by_batch))
    for batch_id, rows in by_batch.items():
        batch = batches[batch_id]
        audit_record(
            actor=None,
            action="task_unit.leases_expired",
            target=batch,
            organization=batch.gig.organization,
            from_state=TaskUnit.Status.LEASED,
            to_state=TaskUnit.Status.OPEN,
            data={"unit_ids": [u for u, _ in rows], "worker_ids": sorted({w for _, w in rows})},
        )
    return len(expired)


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


__all__ = [
    "BulkReviewResult",
    "ImportResult",
    "TaskBatchInput",
    "answers_match",
    "task_batch_close",
    "task_batch_create",
    "task_batch_open",
    "task_batch_update",
    "task_unit_accept",
    "task_unit_claim_next",
    "task_unit_leases_expire",
    "task_unit_reject",
    "task_unit_submit",
    "task_units_accept",
    "task_units_import",
    "task_units_reject",
]
