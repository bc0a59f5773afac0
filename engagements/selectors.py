"""Engagement reads: a contract is visible to its client organisation's members and to the worker side (the
freelancer, or members of the vendor firm); to nobody else (DoesNotExist → 404)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet

from accounts.models import Membership
from engagements.models import (
    Contract,
    Milestone,
    SLABreach,
    SLAEvaluation,
    SLAMeasurement,
    StatementOfWork,
    Timesheet,
)

if TYPE_CHECKING:
    from accounts.models import User

CLIENT = "client"
WORKER = "worker"


def _party_filter(user: User) -> Q:
    orgs = Membership.objects.filter(user=user).values("organization_id")
    return Q(organization_id__in=orgs) | Q(freelancer=user) | Q(vendor_id__in=orgs)


def contract_list_for_user(*, user: User) -> QuerySet[Contract]:
    if not user.is_authenticated:
        return Contract.objects.none()
    return Contract.objects.filter(_party_filter(user)).select_related("organization", "freelancer", "vendor", "gig")


def contract_get(*, contract_id: int, user: User) -> Contract:
    return contract_list_for_user(user=user).get(pk=contract_id)


def contract_side(*, contract: Contract, user: User) -> str:
    """Which side `user` is on: "client" or "worker"; Contract.DoesNotExist if neither."""
    if Membership.objects.filter(user=user, organization_id=contract.organization_id).exists():
        return CLIENT
    if contract.freelancer_id == user.pk or (
        contract.vendor_id and Membership.objects.filter(user=user, organization_id=contract.vendor_id).exists()
    ):
        return WORKER
    raise Contract.DoesNotExist


def contract_get_for_update(*, contract_id: int, user: User) -> tuple[Contract, str]:
    """Lock the contract row for a state change and say which side the user acts from."""
    contract = Contract.objects.select_for_update().get(_party_filter(user), pk=contract_id)
    return contract, contract_side(contract=contract, user=user)


def milestone_get_for_update(*, milestone_id: int, user: User) -> tuple[Milestone, str]:
    """Lock the milestone (and its contract, first, so every writer takes the locks in one order)."""
    contract_id = Milestone.objects.filter(pk=milestone_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise Milestone.DoesNotExist
    try:
        _contract, side = contract_get_for_update(contract_id=contract_id, user=user)
    except Contract.DoesNotExist as error:
        raise Milestone.DoesNotExist from error
    milestone = Milestone.objects.select_for_update().select_related("contract__organization").get(pk=milestone_id)
    return milestone, side


def timesheet_list_for_contract(*, contract: Contract) -> QuerySet[Timesheet]:
    """The contract's weeks, newest first, with their entries (the caller already checked access)."""
    return Timesheet.objects.filter(contract=contract).prefetch_related("entries").order_by("-week_start")


def micro_task_earnings_by_week(*, worker: User, weeks: int = 12) -> list[Any]:
    """What the worker earned from accepted micro-task units, per ISO week and currency, newest first
    (one aggregate query; the amounts were fixed when each unit was accepted)."""
    from datetime import timedelta

    from django.db.models import Count, Sum
    from django.db.models.functions import TruncWeek
    from django.utils import timezone

    from marketplace.models import TaskUnit

    since = timezone.now() - timedelta(weeks=weeks)
    return list(
        TaskUnit.objects.filter(
            claimed_by=worker, status=TaskUnit.Status.ACCEPTED, earned_amount__isnull=False, reviewed_at__gte=since
        )
        .annotate(week_start=TruncWeek("reviewed_at"))
        .values("week_start", "batch__currency")
        .annotate(units=Count("id"), earned=Sum("earned_amount"))
        .order_by("-week_start", "batch__currency")
    )


# --- statements of work -------------------------------------------------------------------------------------------
def _sow_party_filter(user: User) -> Q:
    orgs = Membership.objects.filter(user=user).values("organization_id")
    return Q(organization_id__in=orgs) | Q(vendor_id__in=orgs)


def sow_list_for_user(*, user: User) -> QuerySet[StatementOfWork]:
    """SOWs of the organisations the user belongs to, on either side."""
    if not user.is_authenticated:
        return StatementOfWork.objects.none()
    return StatementOfWork.objects.filter(_sow_party_filter(user)).select_related("organization", "vendor")


def sow_get(*, sow_id: int, user: User) -> StatementOfWork:
    return sow_list_for_user(user=user).get(pk=sow_id)


def sow_side(*, sow: StatementOfWork, user: User) -> str:
    """CLIENT or WORKER (the vendor); StatementOfWork.DoesNotExist if the user is on neither side."""
    roles = dict(
        Membership.objects.filter(user=user, organization_id__in=[sow.organization_id, sow.vendor_id]).values_list(
            "organization_id", "role"
        )
    )
    if sow.organization_id in roles:
        return CLIENT
    if sow.vendor_id in roles:
        return WORKER
    raise StatementOfWork.DoesNotExist


def sow_role(*, sow: StatementOfWork, user: User) -> tuple[str, str]:
    """(side, membership role) of the user on this SOW."""
    side = sow_side(sow=sow, user=user)
    organization_id = sow.organization_id if side == CLIENT else sow.vendor_id
    role = Membership.objects.filter(user=user, organization_id=organization_id).values_list("role", flat=True)[0]
    return side, role


def sow_get_for_update(*, sow_id: int, user: User) -> tuple[StatementOfWork, str, str]:
    """Lock the SOW row for a change; returns (sow, side, role)."""
    sow = StatementOfWork.objects.select_for_update().get(_sow_party_filter(user), pk=sow_id)
    side, role = sow_role(sow=sow, user=user)
    return sow, side, role


def sla_measurement_series(*, sow: StatementOfWork, months: int = 12) -> list[SLAMeasurement]:
    """The last `months` months of measurements, oldest first (one query; the caller checked access)."""
    periods = list(
        SLAMeasurement.objects.filter(sow=sow).values_list("period", flat=True).distinct().order_by("-period")[:months]
    )
    if not periods:
        return []
    return list(SLAMeasurement.objects.filter(sow=sow, period__gte=min(periods)).order_by("period", "metric"))


def sla_evaluation_list(*, sow: StatementOfWork) -> QuerySet[SLAEvaluation]:
    return SLAEvaluation.objects.filter(sow=sow).prefetch_related("breaches").order_by("-period")


# --- statement-of-work pages --------------------------------------------------------------------------------------
if TYPE_CHECKING:
    from accounts.models import Organization


def sow_list_for_page(*, user: User, status: str | None = None) -> QuerySet[StatementOfWork]:
    """sow_list_for_user (optionally one status), newest first, each row annotated in the same query with its
    latest evaluated month (`latest_period`, `latest_levels_met`, `latest_levels_total`; None when no month has
    been evaluated) and `viewer_is_client` (the user belongs to the client side)."""
    from django.db.models import Exists, OuterRef, Subquery

    latest = SLAEvaluation.objects.filter(sow=OuterRef("pk")).order_by("-period")
    sows = sow_list_for_user(user=user)
    if status:
        sows = sows.filter(status=status)
    return sows.annotate(
        latest_period=Subquery(latest.values("period")[:1]),
        latest_levels_met=Subquery(latest.values("levels_met")[:1]),
        latest_levels_total=Subquery(latest.values("levels_total")[:1]),
        viewer_is_client=Exists(Membership.objects.filter(user=user, organization_id=OuterRef("organization_id"))),
    ).order_by("-created_at", "-pk")


def sow_counterparty_list(*, organization: Organization) -> QuerySet[Organization]:
    """Whom `organization` can draft a statement of work with (the caller checked the user belongs to it): a
    client, any vendor firm with a profile; a vendor, the clients it knows: whose gigs it bid on or was invited
    to, or who already have a statement of work or a contract with it."""
    from accounts.models import Organization as OrganizationModel
    from marketplace.models import Bid, Invitation

    if organization.kind == OrganizationModel.Kind.CLIENT:
        return OrganizationModel.objects.filter(
            kind=OrganizationModel.Kind.VENDOR, vendor_profile__isnull=False
        ).order_by("name")
    known = (
        Q(pk__in=Bid.objects.filter(vendor=organization).values("gig__organization_id"))
        | Q(pk__in=Invitation.objects.filter(vendor=organization).values("gig__organization_id"))
        | Q(pk__in=StatementOfWork.objects.filter(vendor=organization).values("organization_id"))
        | Q(pk__in=Contract.objects.filter(vendor=organization).values("organization_id"))
    )
    return (
        OrganizationModel.objects.filter(known, kind=OrganizationModel.Kind.CLIENT)
        .exclude(pk=organization.pk)
        .order_by("name")
    )


# --- partner API reads --------------------------------------------------------------------------------------------
def timesheet_get(*, timesheet_id: int, user: User) -> Timesheet:
    """One week of a contract the user is a party to, with its entries; Timesheet.DoesNotExist for the rest."""
    return (
        Timesheet.objects.filter(contract__in=contract_list_for_user(user=user).values("pk"))
        .prefetch_related("entries")
        .get(pk=timesheet_id)
    )


def sla_measurement_list(*, sow: StatementOfWork) -> QuerySet[SLAMeasurement]:
    """Every measurement of the SOW, latest month first (the caller checked access)."""
    return SLAMeasurement.objects.filter(sow=sow).order_by("-period", "metric")


# --- ops overview: SLA breaches across every SOW ---------------------------------------------------------------
def _require_breach_viewer(user: Any) -> None:
    if not (user.is_staff and user.has_perm("engagements.view_slabreach")):
        raise PermissionDenied("SLA breaches across every statement of work are for ops staff.")


def sla_breach_counts_by_month(*, user: Any, since: date) -> dict[date, int]:
    """Breaches per evaluated month from `since` (the first of a month) on, across every SOW: one grouped query.
    Months without a breach are absent. Staff who may view breaches only (PermissionDenied for anyone else)."""
    _require_breach_viewer(user)
    rows = (
        SLABreach.objects.filter(period__gte=since)
        .order_by()
        .values("period")
        .annotate(count=Count("id"))
        .values_list("period", "count")
    )
    return dict(rows)


def sow_list_most_breached(*, user: Any, since: date, limit: int = 5) -> QuerySet[StatementOfWork]:
    """The statements of work with the most breaches from `since` on (each with `breach_count` and
    `last_breach_period`), most first, at most `limit`. Staff who may view breaches only."""
    _require_breach_viewer(user)
    return (
        StatementOfWork.objects.filter(breaches__period__gte=since)
        .annotate(breach_count=Count("breaches"), last_breach_period=Max("breaches__period"))
        .select_related("organization", "vendor")
        .order_by("-breach_count", "-last_breach_period", "title", "pk")[:limit]
    )


# --- dashboards ---------------------------------------------------------------------------------------------------
def hours_by_week_for_freelancer(*, user: User, since: date) -> dict[date, dict[str, Any]]:
    """The hours `user` logged on their own contracts per week (Monday) from `since` on: `logged` (every entry),
    `approved` (in approved weeks). Weeks without entries are absent. One grouped query."""
    from decimal import Decimal

    from django.db.models import Sum

    from engagements.models import TimeEntry

    rows = (
        TimeEntry.objects.filter(timesheet__contract__freelancer=user, timesheet__week_start__gte=since)
        .order_by()
        .values("timesheet__week_start")
        .annotate(
            logged=Sum("hours"),
            approved=Sum("hours", filter=Q(timesheet__status=Timesheet.Status.APPROVED)),
        )
    )
    return {
        row["timesheet__week_start"]: {"logged": row["logged"], "approved": row["approved"] or Decimal("0.00")}
        for row in rows
    }


def contract_counts_for_user(*, user: User, organization_id: int | None = None) -> dict[str, int]:
    """Contracts by state for a dashboard: the organisation's (client or vendor side, if `user` belongs to it) or,
    without one, the freelancer's own. `active`, `pending` (waiting for compliance), `to_review` (submitted
    weeks and milestones waiting for the client). One query."""
    contracts = Contract.objects.filter(_party_filter(user))
    if organization_id is not None:
        contracts = contracts.filter(Q(organization_id=organization_id) | Q(vendor_id=organization_id))
    else:
        contracts = contracts.filter(freelancer=user)
    counts = contracts.aggregate(
        active=Count("pk", filter=Q(status=Contract.Status.ACTIVE), distinct=True),
        pending=Count("pk", filter=Q(status=Contract.Status.PENDING_COMPLIANCE), distinct=True),
        weeks_to_review=Count("timesheets", filter=Q(timesheets__status=Timesheet.Status.SUBMITTED), distinct=True),
        milestones_to_review=Count(
            "milestones", filter=Q(milestones__status=Milestone.Status.SUBMITTED), distinct=True
        ),
    )
    return {
        "active": counts["active"],
        "pending": counts["pending"],
        "to_review": counts["weeks_to_review"] + counts["milestones_to_review"],
    }


def sla_attainment_by_month_for_vendor(*, user: User, organization_id: int, since: date) -> dict[date, dict[str, int]]:
    """Across the vendor firm's statements of work (if `user` belongs to it): per evaluated month from `since`,
    the service levels met and evaluated, the SOWs evaluated and the breaches. Months not evaluated are absent.
    Two grouped queries."""
    from django.db.models import Sum

    rows = (
        SLAEvaluation.objects.filter(
            sow__vendor_id=organization_id,
            sow__vendor_id__in=Membership.objects.filter(user=user).values("organization_id"),
            period__gte=since,
        )
        .order_by()
        .values("period")
        .annotate(met=Sum("levels_met"), total=Sum("levels_total"), sows=Count("sow_id", distinct=True))
    )
    breaches = dict(
        SLABreach.objects.filter(
            sow__vendor_id=organization_id,
            sow__vendor_id__in=Membership.objects.filter(user=user).values("organization_id"),
            period__gte=since,
        )
        .order_by()
        .values("period")
        .annotate(count=Count("id"))
        .values_list("period", "count")
    )
    return {
        row["period"]: {
            "met": row["met"],
            "total": row["total"],
            "sows": row["sows"],
            "breaches": breaches.get(row["period"], 0),
        }
        for row in rows
    }


def sow_counts_for_vendor(*, user: User, organization_id: int) -> dict[str, int]:
    """The vendor firm's statements of work by state (if `user` belongs to it): `active`, `to_sign` (proposed,
    waiting for a signature). One query."""
    counts = StatementOfWork.objects.filter(
        vendor_id=organization_id, vendor_id__in=Membership.objects.filter(user=user).values("organization_id")
    ).aggregate(
        active=Count("pk", filter=Q(status=StatementOfWork.Status.ACTIVE)),
        to_sign=Count("pk", filter=Q(status=StatementOfWork.Status.PROPOSED)),
    )
    return dict(counts)
