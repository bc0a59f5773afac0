"""Micro-task reads, scoped to who asks.

- Client side: members of the gig's client organisation see its batch and every unit (others: DoesNotExist → 404).
- Worker side: a freelancer sees batches that are open or closed (never drafts) of gigs they may see
  (marketplace.selectors.gigs.gig_visibility_filter: public, in their talent pool, or invited), and only the units
  they hold or worked on.

Per-worker figures (accuracy on gold units, accepted units, earnings) are aggregates over TaskUnit rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.selectors import scope_to_member_organizations
from marketplace.models import Gig, GigSkill, TaskBatch, TaskUnit
from marketplace.selectors.gigs import gig_visibility_filter
from talent.models import ProfileSkill, TalentProfile

if TYPE_CHECKING:
    from accounts.models import User

WORKABLE_GIG_STATUSES = (Gig.Status.OPEN, Gig.Status.IN_PROGRESS)
REVIEWED_STATUSES = (TaskUnit.Status.ACCEPTED, TaskUnit.Status.REJECTED)


# --- rules shared by the selectors and the services ---------------------------------------------------------------
def accuracy_percent(*, answered: int, correct: int) -> Decimal | None:
    """Share of gold units answered correctly, in percent with one decimal; None before the first gold answer."""
    if not answered:
        return None
    return (Decimal(correct) * 100 / answered).quantize(Decimal("0.1"))


def accuracy_blocks_claims(*, min_accuracy: Decimal | None, answered: int, correct: int) -> bool:
    """The batch's minimum accuracy applies once the worker answered enough gold units to judge them fairly."""
    if min_accuracy is None or answered < TaskBatch.ACCURACY_MIN_GOLD_ANSWERS:
        return False
    return Decimal(correct) * 100 < min_accuracy * answered


# --- worker side --------------------------------------------------------------------------------------------------
def _batches_visible_to_worker(worker: User) -> QuerySet[TaskBatch]:
    """Open or closed batches (never drafts) of micro-task gigs the user may see under the gig visibility rules."""
    if not worker.is_authenticated:
        return TaskBatch.objects.none()
    visible_gigs = Gig.objects.filter(gig_visibility_filter(user=worker), kind=Gig.Kind.MICRO_TASK).values("pk")
    return TaskBatch.objects.filter(
        gig_id__in=visible_gigs, status__in=[TaskBatch.Status.OPEN, TaskBatch.Status.CLOSED]
    )


def _lacks_required_skill(worker: User) -> Exists:
    """True for a batch whose gig requires a skill the worker lacks at the minimum level."""
    has_skill = ProfileSkill.objects.filter(
        profile__user=worker, skill_id=OuterRef("skill_id"), level__gte=OuterRef("min_level")
    )
    return Exists(GigSkill.objects.filter(gig_id=OuterRef("gig_id")).exclude(Exists(has_skill)))


def _count(queryset: QuerySet[TaskUnit]) -> Coalesce:
    counted = queryset.order_by().values("batch_id").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def task_batch_list_for_worker(*, worker: User) -> QuerySet[TaskBatch]:
    """Open batches of workable gigs the freelancer qualifies for by skill, newest first, in one query.

    Each batch carries: remaining_units, my_gold_answered, my_gold_correct, my_accepted_units, my_earnings,
    my_lease_until (a live lease, or None) and is_accuracy_blocked (their gold accuracy is below the batch minimum).
    """
    now = timezone.now()
    mine = TaskUnit.objects.filter(batch_id=OuterRef("pk"), claimed_by=worker)
    my_gold = mine.filter(is_gold=True, status__in=REVIEWED_STATUSES)
    live_lease = mine.filter(status=TaskUnit.Status.LEASED, leased_until__gt=now).values("leased_until")[:1]
    batches = (
        _batches_visible_to_worker(worker)
        .filter(Exists(TalentProfile.objects.filter(user=worker)), status=TaskBatch.Status.OPEN)
        .filter(gig__status__in=WORKABLE_GIG_STATUSES)
        .exclude(_lacks_required_skill(worker))
        .select_related("gig", "gig__organization")
        .annotate(
            remaining_units=_count(TaskUnit.objects.filter(batch_id=OuterRef("pk"), status=TaskUnit.Status.OPEN)),
            my_gold_answered=_count(my_gold),
            my_gold_correct=_count(my_gold.filter(is_gold_correct=True)),
            my_accepted_units=_count(mine.filter(status=TaskUnit.Status.ACCEPTED, is_gold=False)),
            my_earnings=Coalesce(
                Subquery(
                    mine.filter(earned_amount__isnull=False)
                    .order_by()
                    .values("batch_id")
                    .annotate(total=Sum("earned_amount"))
                    .values("total"),
                    output_field=DecimalField(max_digits=14, decimal_places=2),
                ),
                Decimal("0.00"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            my_lease_until=Subquery(live_lease),
        )
        .annotate(
            is_accuracy_blocked=Case(
                When(
                    Q(min_accuracy__isnull=False)
                    & Q(my_gold_answered__gte=TaskBatch.ACCURACY_MIN_GOLD_ANSWERS)
                    & Q(my_gold_correct__lt=F("min_accuracy") * F("my_gold_answered") / 100),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-opened_at", "-id")
    )
    return batches


def task_batch_get_for_worker(*, batch_id: int, worker: User) -> TaskBatch:
    """A batch the worker may see (open or closed, gig visible to them); TaskBatch.DoesNotExist otherwise."""
    return (
        _batches_visible_to_worker(worker)
        .select_related("gig", "gig__organization")
        .prefetch_related("gig__gig_skills__skill")
        .get(pk=batch_id)
    )


@dataclass(frozen=True)
class WorkerStats:
    gold_answered: int
    gold_correct: int
    accepted_units: int
    rejected_units: int
    submitted_units: int
    earnings: Decimal

    @property
    def accuracy(self) -> Decimal | None:
        return accuracy_percent(answered=self.gold_answered, correct=self.gold_correct)


def task_worker_stats(*, batch_id: int, worker: User) -> WorkerStats:
    """One worker's figures in one batch, in one aggregate query. Gold units earn nothing and are not counted as
    accepted or rejected work: they only measure accuracy."""
    gold_reviewed = Q(is_gold=True, status__in=REVIEWED_STATUSES)
    row = TaskUnit.objects.filter(batch_id=batch_id, claimed_by=worker).aggregate(
        gold_answered=Count("id", filter=gold_reviewed),
        gold_correct=Count("id", filter=gold_reviewed & Q(is_gold_correct=True)),
        accepted_units=Count("id", filter=Q(is_gold=False, status=TaskUnit.Status.ACCEPTED)),
        rejected_units=Count("id", filter=Q(is_gold=False, status=TaskUnit.Status.REJECTED)),
        submitted_units=Count("id", filter=Q(status=TaskUnit.Status.SUBMITTED)),
        earnings=Coalesce(Sum("earned_amount"), Decimal("0.00")),
    )
    return WorkerStats(**row)


@dataclass(frozen=True)
class MissingSkill:
    name: str
    min_level: int
    level: int | None  # the worker's level, or None if they don't list the skill


def task_worker_missing_skills(*, gig_id: int, worker: User) -> list[MissingSkill]:
    """The gig's required skills the worker lacks at the required level, in one query."""
    worker_level = ProfileSkill.objects.filter(profile__user=worker, skill_id=OuterRef("skill_id")).values("level")[:1]
    rows = (
        GigSkill.objects.filter(gig_id=gig_id)
        .annotate(level=Subquery(worker_level, output_field=IntegerField()))
        .filter(Q(level__isnull=True) | Q(level__lt=F("min_level")))
        .order_by("skill__name")
        .values_list("skill__name", "min_level", "level")
    )
    return [MissingSkill(name=name, min_level=min_level, level=level) for name, min_level, level in rows]


def task_unit_current_for_worker(*, batch_id: int, worker: User) -> TaskUnit | None:
    """The unit the worker holds a live lease on in this batch, if any."""
    return (
        TaskUnit.objects.filter(
            batch_id=batch_id, claimed_by=worker, status=TaskUnit.Status.LEASED, leased_until__gt=timezone.now()
        )
        .select_related("batch")
        .first()
    )


def task_unit_get_for_worker_for_update(*, unit_id: int, worker: User) -> TaskUnit:
    """Lock a unit of a batch the worker may see (whoever holds it now: the service tells them what happened)."""
    batch_ids = _batches_visible_to_worker(worker).values("id")
    return (
        TaskUnit.objects.select_for_update(of=("self",))
        .select_related("batch__gig__organization")
        .get(pk=unit_id, batch_id__in=batch_ids)
    )


def task_unit_get_for_worker(*, unit_id: int, worker: User) -> TaskUnit:
    """A unit the worker holds or worked on; TaskUnit.DoesNotExist otherwise."""
    return TaskUnit.objects.select_related("batch").get(pk=unit_id, claimed_by=worker)


# --- client side --------------------------------------------------------------------------------------------------
def micro_task_gig_get_for_client(*, gig_id: int, user: User) -> Gig:
    """A micro-task gig of one of the user's organisations; Gig.DoesNotExist (→ 404) otherwise."""
    gigs = scope_to_member_organizations(Gig.objects.all(), user=user)
    return gigs.select_related("organization").prefetch_related("gig_skills__skill").get(pk=gig_id)


def micro_task_gig_get_for_update(*, gig_id: int, user: User) -> Gig:
    """Lock the client's gig row: creating its batch is serialised with other changes to the gig."""
    return scope_to_member_organizations(Gig.objects.select_for_update(), user=user).get(pk=gig_id)


def _client_batches(user: User) -> QuerySet[TaskBatch]:
    return scope_to_member_organizations(TaskBatch.objects.all(), user=user, field_name="gig__organization")


def task_batch_get_for_client(*, gig_id: int, user: User) -> TaskBatch:
    """The batch of a gig of one of the user's organisations; TaskBatch.DoesNotExist otherwise."""
    return _client_batches(user).select_related("gig", "gig__organization").get(gig_id=gig_id)


def task_batch_get_for_client_by_id(*, batch_id: int, user: User) -> TaskBatch:
    return _client_batches(user).select_related("gig", "gig__organization").get(pk=batch_id)


def task_batch_get_for_client_for_update(*, batch_id: int, user: User) -> TaskBatch:
    """Lock the batch row (imports, settings and status changes queue up behind it)."""
    batch_ids = _client_batches(user).values("id")
    return (
        TaskBatch.objects.select_for_update(of=("self",))
        .select_related("gig", "gig__organization")
        .get(pk=batch_id, pk__in=batch_ids)
    )


def task_batch_progress(*, batch_id: int) -> dict[str, int | Decimal]:
    """Counts per status, gold units and money earned so far, in one aggregate query."""
    statuses = {status: Count("id", filter=Q(status=status)) for status in TaskUnit.Status.values}
    row = TaskUnit.objects.filter(batch_id=batch_id).aggregate(
        total=Count("id"),
        gold=Count("id", filter=Q(is_gold=True)),
        gold_answered=Count("id", filter=Q(is_gold=True, status__in=REVIEWED_STATUSES)),
        gold_correct=Count("id", filter=Q(is_gold=True, is_gold_correct=True)),
        earned=Coalesce(Sum("earned_amount"), Decimal("0.00")),
        **statuses,
    )
    row["reviewed"] = row[TaskUnit.Status.ACCEPTED] + row[TaskUnit.Status.REJECTED]
    return row


def task_unit_list_for_review(*, batch_id: int, user: User) -> QuerySet[TaskUnit]:
    """Submitted units waiting for the client, oldest first, each with its worker's gold record in this batch.

    One query per page whatever its size (the worker and their accuracy come in the same query)."""
    batch = task_batch_get_for_client_by_id(batch_id=batch_id, user=user)
    worker_gold = TaskUnit.objects.filter(
        batch_id=batch.pk, claimed_by_id=OuterRef("claimed_by_id"), is_gold=True, status__in=REVIEWED_STATUSES
    )
    return (
        TaskUnit.objects.filter(batch=batch, status=TaskUnit.Status.SUBMITTED, is_gold=False)
        .select_related("claimed_by")
        .annotate(
            worker_gold_answered=_count(worker_gold),
            worker_gold_correct=_count(worker_gold.filter(is_gold_correct=True)),
        )
        .order_by("submitted_at", "id")
    )


def task_unit_get_for_client_for_update(*, unit_id: int, user: User) -> TaskUnit:
    """Lock a unit of one of the user's organisations' batches; TaskUnit.DoesNotExist otherwise."""
    batch_ids = _client_batches(user).values("id")
    return (
        TaskUnit.objects.select_for_update(of=("self",))
        .select_related("batch__gig__organization")
        .get(pk=unit_id, batch_id__in=batch_ids)
    )


def task_units_get_for_client_for_update(*, batch_id: int, unit_ids: list[int], user: User) -> list[TaskUnit]:
    """Lock the given units of the client's batch in id order (so concurrent bulk reviews cannot deadlock).

    TaskUnit.DoesNotExist if any id is not a unit of that batch."""
    batch = task_batch_get_for_client_by_id(batch_id=batch_id, user=user)
    units = list(TaskUnit.objects.select_for_update().filter(batch=batch, pk__in=unit_ids).order_by("id"))
    if len(units) != len(set(unit_ids)):
        raise TaskUnit.DoesNotExist("Some of the selected units are not in this batch.")
    for unit in units:
        unit.batch = batch  # saves a query per unit when the services read the price
    return units


def task_unit_list_for_client(*, gig_id: int, user: User) -> QuerySet[TaskUnit]:
    """Every unit of the batch of a gig of one of the user's organisations, with its worker, oldest first
    (TaskBatch.DoesNotExist → 404 for others, or when the gig has no batch)."""
    batch = task_batch_get_for_client(gig_id=gig_id, user=user)
    return TaskUnit.objects.filter(batch=batch).select_related("batch", "claimed_by").order_by("id")
