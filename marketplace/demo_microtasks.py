"""Demo data for micro-tasks: one open sentiment-labelling gig with a batch of 500 units (25 of them gold), part of
it already worked on (leased, submitted, accepted, rejected) by demo freelancers.

Called by `manage.py seed_demo`. Idempotent: the gig is found by its client organisation and title, and once it has
its batch a second run changes nothing. Deterministic for a given `rng` seed.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Membership, Organization, User
from marketplace.models import Gig, GigSkill, TaskBatch, TaskUnit
from talent.models import ProfileSkill, Skill

DEMO_GIG_TITLE = "Label the sentiment of 500 customer reviews"
UNIT_COUNT = 500
GOLD_EVERY = 20  # one unit in 20 is a quality check: 25 gold units
WORKED_UNITS = 260  # the oldest units (FIFO) have been worked on; the rest are open
LEASED_UNITS = 3
SUBMITTED_UNITS = 45  # the newest submissions wait for review
UNIT_PRICE = Decimal("0.12")
MIN_LEVEL = 2
PRIMARY_SKILL = "Text classification"
SECONDARY_SKILL = "Sentiment labelling"
OPTIONS = ["positive", "negative", "neutral"]

_PRODUCTS = [
    "Aero wireless earbuds",
    "Northwind espresso machine",
    "Trailblazer hiking boots",
    "Lumen desk lamp",
    "Kestrel carry-on suitcase",
    "Orbit smart thermostat",
    "Harbor cotton bedsheets",
    "Pulse fitness tracker",
]
_PHRASES = {
    "positive": [
        "Works exactly as described and arrived a day early.",
        "Honestly the best purchase I made this year.",
        "Great build quality, and support answered within an hour.",
        "My whole family uses it every day. Would buy again.",
        "Setup took two minutes and it has been flawless since.",
    ],
    "negative": [
        "Stopped working after a week and the refund is still pending.",
        "Cheap materials, it cracked the first time I used it.",
        "Nothing like the photos. Sending it back.",
        "Customer service never replied to my three emails.",
        "Loud, slow and the battery dies by lunchtime.",
    ],
    "neutral": [
        "It does the job. Nothing special, nothing wrong.",
        "Arrived on time. Haven't used it enough to say more.",
        "Average for the price; the colour is slightly different.",
        "Fine, though the manual could be clearer.",
        "About what I expected from this brand.",
    ],
}


def _required_skills(workers: list[User]) -> list[Skill]:
    """Text classification, plus sentiment labelling when enough of the given workers have both."""
    skills = {s.name: s for s in Skill.objects.filter(category=Skill.Category.DATA_LABELLING)}
    if not skills:
        raise ValueError("Load the skill taxonomy first (data_labelling skills are missing).")
    primary = skills.get(PRIMARY_SKILL) or skills[min(skills)]
    secondary = skills.get(SECONDARY_SKILL)
    if secondary is not None:
        holders = (
            ProfileSkill.objects.filter(profile__user__in=workers, skill__in=[primary, secondary], level__gte=MIN_LEVEL)
            .values("profile_id")
            .annotate(n=Count("skill_id"))
            .filter(n=2)
            .count()
        )
        if holders >= 3:
            return [primary, secondary]
    return [primary]


def _qualified(workers: list[User], skills: list[Skill]) -> list[User]:
    levels: dict[int, set[int]] = {}
    for user_id, skill_id in ProfileSkill.objects.filter(
        profile__user__in=workers, skill__in=skills, level__gte=MIN_LEVEL
    ).values_list("profile__user_id", "skill_id"):
        levels.setdefault(user_id, set()).add(skill_id)
    needed = {skill.pk for skill in skills}
    return sorted((w for w in workers if levels.get(w.pk, set()) >= needed), key=lambda w: w.pk)


def _counts(batch: TaskBatch) -> dict[str, int]:
    by_status = dict(batch.units.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {
        "gigs": 1,
        "batches": 1,
        "units": sum(by_status.values()),
        "gold_units": batch.units.filter(is_gold=True).count(),
        **{status: by_status.get(status, 0) for status in TaskUnit.Status.values},
    }


@transaction.atomic
def seed_microtask_demo(
    *, client_organization: Organization, workers: list[User], rng: random.Random
) -> dict[str, int]:
    """Create the demo micro-task gig, batch and units once; return counts of what exists."""
    existing = Gig.objects.filter(organization=client_organization, title=DEMO_GIG_TITLE).first()
    if existing is not None:
        batch = TaskBatch.objects.filter(gig=existing).first()
        if batch is not None:
            return _counts(batch)
    members = Membership.objects.filter(organization=client_organization).select_related("user").order_by("created_at")
    owner = members.filter(role=Membership.Role.OWNER).first() or members.first()
    if owner is None:
        raise ValueError(f"{client_organization} has no members to post the demo gig.")
    now = timezone.now()
    skills = _required_skills(workers)
    gig = existing or Gig.objects.create(
        organization=client_organization,
        created_by=owner.user,
        title=DEMO_GIG_TITLE,
        description=(
            "Read short product reviews from our marketplace and label each as positive, negative or neutral. "
            "About 20 seconds per review. Paid per accepted review; a few known-answer checks keep quality high."
        ),
        deliverables="One label per review, following the guidelines in the batch instructions.",
        kind=Gig.Kind.MICRO_TASK,
        status=Gig.Status.OPEN,
        currency="USD",
        visibility=Gig.Visibility.PUBLIC,
        skill_ids=[skill.pk for skill in skills],
        published_at=now - timedelta(days=6),
    )
    GigSkill.objects.bulk_create(
        [GigSkill(gig=gig, skill=skill, min_level=MIN_LEVEL) for skill in skills], ignore_conflicts=True
    )
    batch = TaskBatch.objects.create(
        gig=gig,
        created_by=owner.user,
        status=TaskBatch.Status.OPEN,
        instructions=(
            "Read the review and pick the sentiment the customer expresses about the product.\n"
            "• positive: they are happy or would recommend it.\n"
            "• negative: they are unhappy, returned it, or warn others.\n"
            "• neutral: mixed, factual, or too early to tell.\n"
            "Judge the review, not the product name."
        ),
        answer_options=OPTIONS,
        payload_columns=["review", "product", "stars"],
        unit_price=UNIT_PRICE,
        currency="USD",
        time_limit_minutes=10,
        min_accuracy=Decimal("70"),
        opened_at=now - timedelta(days=6),
    )
    people = _qualified(workers, skills)
    reviewer = owner.user
    units: list[TaskUnit] = []
    leases_left = min(LEASED_UNITS, len(people))
    worked = WORKED_UNITS if people else 0
    for index in range(UNIT_COUNT):
        truth = rng.choice(OPTIONS)
        unit = TaskUnit(
            batch=batch,
            external_id=f"review-{index + 1:04d}",
            payload={
                "review": rng.choice(_PHRASES[truth]),
                "product": rng.choice(_PRODUCTS),
                "stars": {"positive": rng.choice([4, 5]), "negative": rng.choice([1, 2]), "neutral": 3}[truth],
            },
            is_gold=index % GOLD_EVERY == GOLD_EVERY // 2,
        )
        if unit.is_gold:
            unit.gold_answer = truth
        if index < worked - leases_left:
            _worked_unit(unit, truth=truth, worker=rng.choice(people), reviewer=reviewer, rng=rng, now=now, index=index)
        elif index < worked:
            unit.status = TaskUnit.Status.LEASED
            unit.claimed_by = people[worked - 1 - index]
            unit.leased_until = now + timedelta(minutes=batch.time_limit_minutes)
        units.append(unit)
    # The newest regular submissions are still waiting for the client (gold units never wait: they are scored).
    reviewed = [u for u in reversed(units) if u.status in TaskUnit.WORKED_STATUSES and not u.is_gold]
    for unit in reviewed[:SUBMITTED_UNITS]:
        unit.status, unit.reviewed_by, unit.reviewed_at = TaskUnit.Status.SUBMITTED, None, None
        unit.earned_amount, unit.rejection_reason = None, ""
    TaskUnit.objects.bulk_create(units, batch_size=1000)
    return _counts(batch)


def _worked_unit(
    unit: TaskUnit, *, truth: str, worker: User, reviewer: User, rng: random.Random, now: Any, index: int
) -> None:
    """A unit someone submitted (most answers right), reviewed by the client or scored against its gold answer."""
    is_right = rng.random() < (0.9 if unit.is_gold else 0.88)
    answer = truth if is_right else rng.choice([o for o in OPTIONS if o != truth])
    submitted_at = now - timedelta(days=5) + timedelta(minutes=index * 25 + rng.randint(0, 20))
    unit.claimed_by, unit.result, unit.submitted_at = worker, answer, submitted_at
    unit.reviewed_at = submitted_at + timedelta(hours=rng.randint(1, 20))
    if unit.is_gold:
        unit.is_gold_correct = is_right
        unit.status = TaskUnit.Status.ACCEPTED if is_right else TaskUnit.Status.REJECTED
        if not is_right:
            unit.rejection_reason = "Quality check: the answer did not match the known answer."
        return
    unit.reviewed_by = reviewer
    if is_right:
        unit.status, unit.earned_amount = TaskUnit.Status.ACCEPTED, UNIT_PRICE
    else:
        unit.status = TaskUnit.Status.REJECTED
        unit.rejection_reason = f"The review reads as {truth}, not {answer}: see the guidelines."
