"""Builders shared by the micro-task tests (plain functions, so each test shows what it arranges)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import Membership, Organization, User
from marketplace.models import Gig, GigSkill, TaskBatch, TaskUnit
from talent.models import Skill
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProfileSkillFactory,
    SkillFactory,
    TalentProfileFactory,
)


def labelling_skill(name: str = "Text classification") -> Skill:
    return SkillFactory(name=name, category=Skill.Category.DATA_LABELLING)


def make_client_member(*, role: str = Membership.Role.OWNER) -> Membership:
    return MembershipFactory(organization=OrganizationFactory(kind=Organization.Kind.CLIENT), role=role)


def make_worker(*skills: tuple[Skill, int]) -> User:
    """A freelancer with the given (skill, level) pairs."""
    profile = TalentProfileFactory(headline="Data labeller")
    for skill, level in skills:
        ProfileSkillFactory(profile=profile, skill=skill, level=level)
    profile.skill_ids = [skill.pk for skill, _ in skills]
    profile.save(update_fields=["skill_ids"])
    return profile.user


def make_gig(
    member: Membership,
    *,
    skills: tuple[tuple[Skill, int], ...] = (),
    kind: str = Gig.Kind.MICRO_TASK,
    status: str = Gig.Status.OPEN,
    **fields: Any,
) -> Gig:
    gig = Gig.objects.create(
        organization=member.organization,
        created_by=member.user,
        title=fields.pop("title", "Label customer reviews"),
        description="Read each review and label its sentiment.",
        kind=kind,
        status=status,
        currency=fields.pop("currency", "USD"),
        budget_amount=Decimal("500") if kind == Gig.Kind.FIXED else None,
        skill_ids=[skill.pk for skill, _ in skills],
        **fields,
    )
    GigSkill.objects.bulk_create([GigSkill(gig=gig, skill=skill, min_level=level) for skill, level in skills])
    return gig


def make_batch(
    member: Membership | None = None,
    *,
    units: int = 0,
    gold: dict[int, Any] | None = None,
    skills: tuple[tuple[Skill, int], ...] = (),
    status: str = TaskBatch.Status.OPEN,
    gig_status: str = Gig.Status.OPEN,
    gig_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> TaskBatch:
    """A batch with `units` units u1..uN; `gold` maps a unit number to its gold answer."""
    member = member or make_client_member()
    gig = make_gig(member, skills=skills, status=gig_status, **(gig_fields or {}))
    batch = TaskBatch.objects.create(
        gig=gig,
        created_by=member.user,
        status=status,
        instructions=fields.pop("instructions", "Label the sentiment."),
        unit_price=fields.pop("unit_price", Decimal("0.25")),
        currency=gig.currency,
        time_limit_minutes=fields.pop("time_limit_minutes", 10),
        **fields,
    )
    add_units(batch, units, gold=gold)
    return batch


def add_units(batch: TaskBatch, count: int, *, gold: dict[int, Any] | None = None, start: int = 1) -> list[TaskUnit]:
    gold = gold or {}
    return TaskUnit.objects.bulk_create(
        [
            TaskUnit(
                batch=batch,
                external_id=f"u{number}",
                payload={"text": f"Review number {number}"},
                is_gold=number in gold,
                gold_answer=gold.get(number),
            )
            for number in range(start, start + count)
        ]
    )


def statuses(batch: TaskBatch) -> dict[str, int]:
    """How many units of the batch are in each status (only the non-zero ones)."""
    counts: dict[str, int] = {}
    for status in batch.units.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts
