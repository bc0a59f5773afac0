"""Gig writes: create and edit drafts, publish, cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.postgres.search import SearchVector
from django.db import transaction
from django.db.models import Value
from django.utils import timezone as django_timezone

from accounts.models import Membership, Organization
from core.countries import TIMEZONE_CHOICES
from core.errors import ApplicationError
from core.services import audit_record
from marketplace.models import Bid, Gig, GigSkill
from marketplace.selectors.gigs import gig_get_for_update
from talent.models import Skill, TalentPool

if TYPE_CHECKING:
    from accounts.models import User

MAX_GIG_SKILLS = 15


@dataclass
class GigInput:
    """What a client fills in for a gig (the form and the API both build one)."""

    title: str
    description: str
    kind: str
    currency: str = "USD"
    deliverables: str = ""
    budget_amount: Decimal | None = None
    hourly_rate_min: Decimal | None = None
    hourly_rate_max: Decimal | None = None
    estimated_hours: int | None = None
    guardrail_min: Decimal | None = None
    guardrail_max: Decimal | None = None
    deadline_date: date | None = None
    visibility: str = Gig.Visibility.PUBLIC
    talent_pool_id: int | None = None
    timezone: str = "UTC"
    required_country: str = ""
    handles_personal_data: bool = False
    is_healthcare: bool = False
    is_finance: bool = False
    screening_questions: list[str] = field(default_factory=list)
    skills: list[tuple[int, int]] = field(default_factory=list)  # (skill id, minimum level 1-5)


def _validate(data: GigInput, *, organization: Organization) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not data.title.strip():
        add("title", "Give the gig a title.")
    if not data.description.strip():
        add("description", "Describe the work.")
    if data.kind not in Gig.Kind.values:
        add("kind", "Choose fixed price, hourly or micro-task batch.")
    if data.kind == Gig.Kind.FIXED and not (data.budget_amount and data.budget_amount > 0):
        add("budget_amount", "A fixed-price gig needs a budget above zero.")
    if data.kind == Gig.Kind.HOURLY:
        if not (data.hourly_rate_min and data.hourly_rate_min > 0):
            add("hourly_rate_min", "An hourly gig needs a minimum rate above zero.")
        elif not data.hourly_rate_max or data.hourly_rate_max < data.hourly_rate_min:
            add("hourly_rate_max", "The maximum rate must be at least the minimum rate.")
    if data.guardrail_min is not None and data.guardrail_max is not None and data.guardrail_max < data.guardrail_min:
        add("guardrail_max", "The guardrail's maximum must be at least its minimum.")
    if data.deadline_date and data.deadline_date < django_timezone.localdate():
        add("deadline_date", "The deadline can't be in the past.")
    if data.timezone not in TIMEZONE_CHOICES:
        add("timezone", "Choose a time zone from the list.")
    if data.visibility not in Gig.Visibility.values:
        add("visibility", "Choose who can see the gig.")
    if data.visibility == Gig.Visibility.POOL and not (
        data.talent_pool_id and TalentPool.objects.filter(pk=data.talent_pool_id, organization=organization).exists()
    ):
        add("talent_pool_id", "Choose one of your talent pools, or another visibility.")
    if len(data.skills) > MAX_GIG_SKILLS:
        add("skills", f"List at most {MAX_GIG_SKILLS} skills: the ones that matter most.")
    skill_ids = [skill_id for skill_id, _ in data.skills]
    if len(set(skill_ids)) != len(skill_ids):
        add("skills", "Each skill can be listed once.")
    if any(not 1 <= level <= 5 for _, level in data.skills):
        add("skills", "Minimum levels go from 1 (beginner) to 5 (expert).")
    if Skill.objects.filter(pk__in=skill_ids).count() != len(set(skill_ids)):
        add("skills", "One of the skills doesn't exist; pick skills from the list.")
    if any(len(q) > 300 for q in data.screening_questions) or len(data.screening_questions) > 10:
        add("screening_questions", "Ask at most 10 screening questions of up to 300 characters.")
    return errors


def _client_organization(*, organization_id: int, by: User) -> Organization:
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=by, organization_id=organization_id, organization__kind=Organization.Kind.CLIENT)
        .first()
    )
    if membership is None:
        raise Organization.DoesNotExist
    if membership.role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't post gigs; ask an owner, admin or member.", status=403)
    return membership.organization


def _apply(gig: Gig, data: GigInput) -> None:
    gig.title = data.title.strip()
    gig.description = data.description.strip()
    gig.deliverables = data.deliverables.strip()
    gig.kind = data.kind
    gig.currency = data.currency
    gig.budget_amount = data.budget_amount if data.kind == Gig.Kind.FIXED else None
    gig.hourly_rate_min = data.hourly_rate_min if data.kind == Gig.Kind.HOURLY else None
    gig.hourly_rate_max = data.hourly_rate_max if data.kind == Gig.Kind.HOURLY else None
    gig.estimated_hours = data.estimated_hours
    gig.guardrail_min = data.guardrail_min
    gig.guardrail_max = data.guardrail_max
    gig.deadline_date = data.deadline_date
    gig.visibility = data.visibility
    gig.talent_pool_id = data.talent_pool_id if data.visibility == Gig.Visibility.POOL else None
    gig.timezone = data.timezone
    gig.required_country = data.required_country
    gig.handles_personal_data = data.handles_personal_data
    gig.is_healthcare = data.is_healthcare
    gig.is_finance = data.is_finance
    gig.screening_questions = [q.strip() for q in data.screening_questions if q.strip()]
    gig.skill_ids = sorted(skill_id for skill_id, _ in data.skills)


def _save_skills_and_search(gig: Gig, data: GigInput) -> None:
    GigSkill.objects.filter(gig=gig).delete()
    GigSkill.objects.bulk_create([GigSkill(gig=gig, skill_id=s, min_level=level) for s, level in data.skills])
    skill_names = " ".join(Skill.objects.filter(pk__in=gig.skill_ids).values_list("name", flat=True))
    Gig.objects.filter(pk=gig.pk).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector(Value(skill_names), weight="A", config="english")
        + SearchVector("description", weight="B", config="english")
        + SearchVector("deliverables", weight="C", config="english")
    )


@transaction.atomic
def gig_create(*, organization_id: int, data: GigInput, by: User) -> Gig:
    """A draft gig of the client organisation; publish it to receive bids and matches."""
    organization = _client_organization(organization_id=organization_id, by=by)
    errors = _validate(data, organization=organization)
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    gig = Gig(organization=organization, created_by=by)
    _apply(gig, data)
    gig.save()
    _save_skills_and_search(gig, data)
    audit_record(actor=by, action="gig.created", target=gig, organization=organization, to_state=gig.status)
    return gig


@transaction.atomic
def gig_update(*, gig_id: int, data: GigInput, by: User) -> Gig:
    """Edit a draft or open gig. The kind can't change once bids may exist (after publishing)."""
    gig = gig_get_for_update(gig_id=gig_id, user=by)
    _client_organization(organization_id=gig.organization_id, by=by)
    if gig.status not in (Gig.Status.DRAFT, Gig.Status.OPEN):
        raise ApplicationError(
            f"This gig is {gig.get_status_display().lower()}; it can no longer be edited.", status=409
        )
    if gig.status == Gig.Status.OPEN and data.kind != gig.kind:
        raise ApplicationError(
            "A published gig can't change kind; cancel it and post a new one.",
            field_errors={"kind": ["Can't change after publishing."]},
            status=409,
        )
    errors = _validate(data, organization=gig.organization)
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    _apply(gig, data)
    gig.save()
    _save_skills_and_search(gig, data)
    audit_record(actor=by, action="gig.updated", target=gig, organization=gig.organization)
    return gig


@transaction.atomic
def gig_publish(*, gig_id: int, by: User) -> Gig:
    """Draft → open: the gig becomes visible (per its visibility) and matching runs for it."""
    gig = gig_get_for_update(gig_id=gig_id, user=by)
    _client_organization(organization_id=gig.organization_id, by=by)
    if not gig.skill_ids:
        raise ApplicationError("Add at least one required skill before publishing, so we can match talent.")
    previous = gig.transition_to(Gig.Status.OPEN)
    gig.published_at = django_timezone.now()
    gig.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(
        actor=by,
        action="gig.published",
        target=gig,
        organization=gig.organization,
        from_state=previous,
        to_state=gig.status,
    )
    if gig.kind != Gig.Kind.MICRO_TASK:
        from marketplace.tasks.matching import match_gig

        match_gig.delay_on_commit(gig_id=gig.pk)  # type: ignore[attr-defined]  # Django task API, not in stubs
    return gig


@transaction.atomic
def gig_cancel(*, gig_id: int, by: User, reason: str = "") -> Gig:
    """Cancel a draft or open gig; live bids are declined."""
    gig = gig_get_for_update(gig_id=gig_id, user=by)
    _client_organization(organization_id=gig.organization_id, by=by)
    if gig.status == Gig.Status.IN_PROGRESS:
        raise ApplicationError(
            "Someone is already hired for this gig; end the contract instead of cancelling the gig.", status=409
        )
    previous = gig.transition_to(Gig.Status.CANCELLED)
    gig.save(update_fields=["status", "updated_at"])
    declined = Bid.objects.filter(gig=gig, status__in=[Bid.Status.SUBMITTED, Bid.Status.SHORTLISTED]).update(
        status=Bid.Status.DECLINED, decided_at=django_timezone.now()
    )
    audit_record(
        actor=by,
        action="gig.cancelled",
        target=gig,
        organization=gig.organization,
        from_state=previous,
        to_state=gig.status,
        data={"reason": reason, "bids_declined": declined},
    )
    return gig
