"""The compliance gate: engagements and billing ask here whether an action may happen; compliance decides, and
answers with one sentence per unmet requirement, saying what is missing and what to do.

Who must meet what is data (the Requirement catalogue, edited by ops): the party (freelancer or vendor firm),
their country, the kind of engagement, the gig's or SOW's flags, and for worker classification the hours and
duration. A document requirement is met by an approved, unexpired document of the party; the classification
requirement by an assessment that is low or medium risk, or signed off by ops. An open sanctions-screening hit
blocks everything until ops clear it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.models import ClassificationAssessment, ComplianceDocument, Requirement, ScreeningHit

if TYPE_CHECKING:
    from accounts.models import Organization, User
    from engagements.models import Contract, StatementOfWork


@dataclass(frozen=True)
class Party:
    """Who must meet requirements: a freelancer (user) or a vendor firm (organisation)."""

    user: User | None = None
    organization: Organization | None = None

    @property
    def kind(self) -> str:
        return Requirement.Party.VENDOR if self.organization is not None else Requirement.Party.FREELANCER

    @property
    def country(self) -> str:
        owner = self.organization if self.organization is not None else self.user
        return (getattr(owner, "country", "") or "").upper()

    def documents(self) -> QuerySet[ComplianceDocument]:
        if self.organization is not None:
            return ComplianceDocument.objects.filter(organization=self.organization)
        return ComplianceDocument.objects.filter(user=self.user)

    def screening_hits(self) -> QuerySet[ScreeningHit]:
        if self.organization is not None:
            return ScreeningHit.objects.filter(organization=self.organization)
        return ScreeningHit.objects.filter(user=self.user)


@dataclass(frozen=True)
class Engagement:
    """What about a contract or SOW decides which requirements apply."""

    kind: str  # fixed | hourly | micro_task | sow
    flags: frozenset[str]
    weekly_hours: int | None = None
    duration_weeks: int | None = None  # None: open-ended


@dataclass(frozen=True)
class RequirementState:
    requirement: Requirement
    state: str  # met | missing | submitted | rejected | expired | assessment_pending | assessment_rejected
    document: ComplianceDocument | None = None

    @property
    def is_met(self) -> bool:
        return self.state == "met"

    @property
    def message(self) -> str:
        name = self.requirement.name
        document = self.document
        if self.state == "met":
            return f"{name}: approved."
        if self.state == "submitted":
            return f"{name}: uploaded, waiting for review by our compliance team."
        if self.state == "rejected" and document is not None:
            again = "upload a corrected one" if document.appealed_at else "upload a corrected one or appeal"
            return f"{name}: rejected — {document.rejection_reason} Please {again}."
        if self.state == "expired" and document is not None and document.expires_at:
            return f"{name}: expired on {timezone.localtime(document.expires_at):%-d %b %Y}; upload a current one."
        if self.state == "assessment_pending":
            return f"{name}: the engagement looks like employment (high risk) and needs our compliance team's sign-off."
        if self.state == "assessment_rejected":
            return f"{name}: our compliance team did not sign off this engagement; change its terms or contact support."
        return f"{name}: missing — upload it on your compliance checklist."


def party_for_contract(contract: Contract) -> Party:
    return Party(user=contract.freelancer, organization=contract.vendor)


def engagement_of_contract(contract: Contract) -> Engagement:
    gig = contract.gig
    flags = frozenset(flag for flag in Requirement.FLAGS if gig is not None and getattr(gig, flag, False))
    duration = None
    if contract.end_date:
        start = contract.start_date or timezone.localdate()
        duration = max(0, (contract.end_date - start).days) // 7
    return Engagement(kind=contract.kind, flags=flags, weekly_hours=contract.weekly_hour_cap, duration_weeks=duration)


def engagement_of_sow(sow: StatementOfWork) -> Engagement:
    flags = frozenset(flag for flag in Requirement.FLAGS if getattr(sow, flag, False))
    duration = (sow.end_date - sow.start_date).days // 7 if sow.end_date else None
    return Engagement(kind="sow", flags=flags, duration_weeks=duration)


def requirement_applies(requirement: Requirement, *, party: Party, engagement: Engagement | None) -> bool:
    """Does `requirement` apply to `party` (for `engagement`, or in general when None: payouts, the checklist)?"""
    if not requirement.is_active:
        return False
    if requirement.party != Requirement.Party.ANY and requirement.party != party.kind:
        return False
    country = party.country
    if requirement.countries and country not in requirement.countries:
        return False
    if country and country in requirement.excluded_countries:
        return False
    if engagement is None:
        return not requirement.is_engagement_specific
    if requirement.engagement_kinds and engagement.kind not in requirement.engagement_kinds:
        return False
    if requirement.engagement_flags and not engagement.flags.intersection(requirement.engagement_flags):
        return False
    if requirement.min_weekly_hours or requirement.min_duration_weeks:
        heavy = bool(
            requirement.min_weekly_hours
            and engagement.weekly_hours is not None
            and engagement.weekly_hours >= requirement.min_weekly_hours
        )
        long = bool(
            requirement.min_duration_weeks
            and (engagement.duration_weeks is None or engagement.duration_weeks >= requirement.min_duration_weeks)
        )
        return heavy or long
    return True


def requirements_applying(*, party: Party, engagement: Engagement | None) -> list[Requirement]:
    return [
        requirement
        for requirement in Requirement.objects.filter(is_active=True).order_by("name")
        if requirement_applies(requirement, party=party, engagement=engagement)
    ]


def requirement_states(
    *, party: Party, requirements: list[Requirement], contract: Contract | None = None
) -> list[RequirementState]:
    """The state of each requirement for the party, from their latest document of each (one query)."""
    now = timezone.now()
    latest: dict[int, ComplianceDocument] = {}
    approved: set[int] = set()
    for uploaded in party.documents().filter(requirement__in=requirements).order_by("created_at", "id"):
        latest[uploaded.requirement_id] = uploaded
        if uploaded.status == ComplianceDocument.Status.APPROVED and (
            uploaded.expires_at is None or uploaded.expires_at > now
        ):
            approved.add(uploaded.requirement_id)
    states = []
    for requirement in requirements:
        if requirement.evidence == Requirement.Evidence.ASSESSMENT:
            states.append(_assessment_state(requirement, contract))
            continue
        document = latest.get(requirement.pk)
        if requirement.pk in approved:
            states.append(RequirementState(requirement, "met", document))
        elif document is None:
            states.append(RequirementState(requirement, "missing"))
        elif document.status == ComplianceDocument.Status.APPROVED:  # approved but past its expiry
            states.append(RequirementState(requirement, "expired", document))
        else:
            states.append(RequirementState(requirement, document.status, document))
    return states


def _assessment_state(requirement: Requirement, contract: Contract | None) -> RequirementState:
    if contract is None:
        return RequirementState(requirement, "met")
    assessment = ClassificationAssessment.objects.filter(contract=contract).first()
    if assessment is None:
        from compliance.services.checks import classification_assess

        assessment = classification_assess(contract=contract)
    if assessment.status in (ClassificationAssessment.Status.NOT_NEEDED, ClassificationAssessment.Status.SIGNED_OFF):
        return RequirementState(requirement, "met")
    if assessment.status == ClassificationAssessment.Status.REJECTED:
        return RequirementState(requirement, "assessment_rejected")
    return RequirementState(requirement, "assessment_pending")


def _screening_blockers(party: Party) -> list[str]:
    open_hits = party.screening_hits().exclude(status=ScreeningHit.Status.CLEARED)
    if open_hits.filter(status=ScreeningHit.Status.CONFIRMED).exists():
        return ["Sanctions screening: a confirmed match; the marketplace cannot work with this party."]
    if open_hits.exists():
        return ["Sanctions screening: a possible name match is being checked by our compliance team."]
    return []


def _blockers(states: list[RequirementState], *, field: str) -> list[str]:
    return [state.message for state in states if getattr(state.requirement, field) and not state.is_met]


def contract_activation_blockers(*, contract: Contract) -> list[str]:
    """Why this contract may not start yet: one sentence per unmet requirement (empty: it may start)."""
    party = party_for_contract(contract)
    requirements = requirements_applying(party=party, engagement=engagement_of_contract(contract))
    states = requirement_states(party=party, requirements=requirements, contract=contract)
    return _screening_blockers(party) + _blockers(states, field="blocks_activation")


def sow_activation_blockers(*, sow: StatementOfWork) -> list[str]:
    """Why this statement of work may not start yet (the vendor firm's requirements)."""
    party = Party(organization=sow.vendor)
    requirements = requirements_applying(party=party, engagement=engagement_of_sow(sow))
    states = requirement_states(party=party, requirements=requirements)
    return _screening_blockers(party) + _blockers(states, field="blocks_activation")


def payout_blockers(*, user: User | None, organization: Organization | None) -> list[str]:
    """Why money may not be paid out to this freelancer or firm yet (empty: it may)."""
    party = Party(user=user if organization is None else None, organization=organization)
    states = requirement_states(party=party, requirements=requirements_applying(party=party, engagement=None))
    return _screening_blockers(party) + _blockers(states, field="blocks_payout")


def checklist_for(*, party: Party) -> list[RequirementState]:
    """Everything that applies to the party in general and to their live engagements, each once."""
    from engagements.models import Contract, StatementOfWork

    requirements: dict[int, Requirement] = {r.pk: r for r in requirements_applying(party=party, engagement=None)}
    live = (Contract.Status.PENDING_COMPLIANCE, Contract.Status.ACTIVE, Contract.Status.PAUSED)
    contracts = Contract.objects.filter(status__in=live).select_related("gig")
    contracts = (
        contracts.filter(vendor=party.organization) if party.organization else contracts.filter(freelancer=party.user)
    )
    for contract in contracts:
        for requirement in requirements_applying(party=party, engagement=engagement_of_contract(contract)):
            if requirement.evidence == Requirement.Evidence.DOCUMENT:
                requirements.setdefault(requirement.pk, requirement)
    if party.organization is not None:
        sows = StatementOfWork.objects.filter(vendor=party.organization).exclude(status=StatementOfWork.Status.ENDED)
        for sow in sows:
            for requirement in requirements_applying(party=party, engagement=engagement_of_sow(sow)):
                requirements.setdefault(requirement.pk, requirement)
    return requirement_states(party=party, requirements=sorted(requirements.values(), key=lambda r: r.name))


def expiring_documents(*, within_days: int) -> QuerySet[ComplianceDocument]:
    now = timezone.now()
    return ComplianceDocument.objects.filter(
        status=ComplianceDocument.Status.APPROVED,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=within_days),
    ).filter(Q(user__isnull=False) | Q(organization__isnull=False))
