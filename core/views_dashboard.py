"""The signed-in home's role panels: the figures and charts each role looks at first. Each app's selector
aggregates its own rows in PostgreSQL (scoped to the user and the organisation chosen in the session); this module
only turns the aggregates into server-rendered SVG charts (core.charts) with their data tables.

- client: open gigs and their bids (new and shortlisted), contracts waiting for a decision, what is owed, and
  spend by month;
- freelancer: hours logged by week (and how many of them were approved), ratings received, bids and contracts;
- vendor: SLA attainment by month across the firm's statements of work, with breaches; SOWs and bids.

Every panel costs a constant number of queries, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from billing.views.common import month_labels, recent_months, recent_weeks
from core import charts

if TYPE_CHECKING:
    from accounts.models import Organization, User

HOUR_WEEKS = 12
SLA_MONTHS = 12
SPEND_MONTHS = 6
OPEN_GIGS = 8


@dataclass(frozen=True)
class GigBids:
    """One open gig's bar in the "open gigs and bids" chart: widths are shares (0-100) of the busiest gig."""

    gig_id: int
    title: str
    kind: str
    new: int
    shortlisted: int
    live: int
    new_width: Decimal
    shortlisted_width: Decimal


@dataclass(frozen=True)
class WeekHours:
    week_start: date
    logged: Decimal
    approved: Decimal


@dataclass(frozen=True)
class MonthAttainment:
    month: date
    met: int
    total: int
    sows: int
    breaches: int

    @property
    def percent(self) -> Decimal:
        return (Decimal(100) * self.met / self.total).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else Decimal(0)


def _summary(pairs: list[tuple[str, Any]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in pairs) + "."


# --- client -------------------------------------------------------------------------------------------------------
def client_panel(*, user: User, organization: Organization) -> dict[str, Any]:
    from billing.selectors import invoice_list_for_user, invoice_outstanding_by_currency
    from billing.views.common import spend_by_month_charts
    from engagements.selectors import contract_counts_for_user
    from marketplace.models import Gig
    from marketplace.selectors.gigs import gig_list_open_with_bid_counts, gig_pipeline_counts

    gigs = gig_list_open_with_bid_counts(user=user, organization_id=organization.pk, limit=OPEN_GIGS)
    busiest = max((gig["bids_new"] + gig["bids_shortlisted"] for gig in gigs), default=0)
    open_gigs = [
        GigBids(
            gig_id=gig["pk"],
            title=gig["title"],
            kind=Gig.Kind(gig["kind"]).label,
            new=gig["bids_new"],
            shortlisted=gig["bids_shortlisted"],
            live=gig["bids_live"],
            new_width=_share(gig["bids_new"], busiest),
            shortlisted_width=_share(gig["bids_shortlisted"], busiest),
        )
        for gig in gigs
    ]
    invoices = invoice_list_for_user(user=user).filter(organization_id=organization.pk)
    return {
        "pipeline": gig_pipeline_counts(user=user, organization_id=organization.pk),
        "contracts": contract_counts_for_user(user=user, organization_id=organization.pk),
        "outstanding": invoice_outstanding_by_currency(invoices=invoices),
        "open_gigs": open_gigs,
        "open_gigs_description": "Bids on your open gigs. "
        + _summary([(gig.title, f"{gig.new} new, {gig.shortlisted} shortlisted") for gig in open_gigs]),
        "spend_months": SPEND_MONTHS,
        "spend_by_month": spend_by_month_charts(
            user=user, organization_ids=[organization.pk], months=SPEND_MONTHS, width=640, height=220
        ),
    }


# --- freelancer ---------------------------------------------------------------------------------------------------
def freelancer_panel(*, user: User, profile: Any) -> dict[str, Any]:
    from engagements.selectors import contract_counts_for_user, hours_by_week_for_freelancer
    from marketplace.selectors.bids import bid_count_waiting
    from marketplace.selectors.reviews import rating_counts_for_freelancer

    mondays = recent_weeks(HOUR_WEEKS)
    logged = hours_by_week_for_freelancer(user=user, since=mondays[0])
    zero = Decimal("0.00")
    weeks = [
        WeekHours(
            week_start=monday,
            logged=logged.get(monday, {}).get("logged", zero),
            approved=logged.get(monday, {}).get("approved", zero),
        )
        for monday in mondays
    ]
    hours_chart = charts.bar_chart(
        labels=[f"{week.week_start:%-d %b}" for week in weeks],
        values=[week.logged or None for week in weeks],  # a week without hours has no bar (no "0" mark)
        tones=["met" if week.logged and week.approved == week.logged else "hours" for week in weeks],
        width=640,
        height=220,
        max_x_labels=6,
    )
    ratings = rating_counts_for_freelancer(user_id=user.pk)
    reviews = sum(ratings.values())
    ratings_chart = charts.bar_chart(
        labels=[f"{stars}★" for stars in ratings],
        values=[Decimal(count) for count in ratings.values()],
        tones=["rating"] * len(ratings),
        width=640,
        height=220,
        integers=True,
    )
    this_week = weeks[-1]
    return {
        "contracts": contract_counts_for_user(user=user),
        "live_bids": bid_count_waiting(user=user),
        "hours_this_week": this_week.logged,
        "hour_weeks": weeks,
        "hours_total": sum((week.logged for week in weeks), zero),
        "hours_approved": sum((week.approved for week in weeks), zero),
        "hours_chart": hours_chart,
        "hours_description": f"Hours logged per week over the last {HOUR_WEEKS} weeks. "
        + _summary([(f"week of {week.week_start:%-d %B}", f"{week.logged} h") for week in weeks]),
        "ratings": ratings,
        "review_count": reviews,
        "rating_average": profile.rating if profile is not None else None,
        "ratings_chart": ratings_chart,
        "ratings_description": f"Ratings from {reviews} client reviews. "
        + _summary([(f"{stars} stars", count) for stars, count in ratings.items()]),
    }


# --- vendor -------------------------------------------------------------------------------------------------------
def vendor_panel(*, user: User, organization: Organization) -> dict[str, Any]:
    from engagements.selectors import sla_attainment_by_month_for_vendor, sow_counts_for_vendor
    from marketplace.selectors.bids import bid_count_waiting

    months = recent_months(SLA_MONTHS)
    evaluated = sla_attainment_by_month_for_vendor(user=user, organization_id=organization.pk, since=months[0])
    attainment = [
        MonthAttainment(month=month, met=row["met"], total=row["total"], sows=row["sows"], breaches=row["breaches"])
        for month in months
        if (row := evaluated.get(month)) and row["total"]
    ]
    by_month = {row.month: row for row in attainment}
    chart = charts.bar_chart(
        labels=month_labels(months),
        values=[by_month[month].percent if month in by_month else None for month in months],
        tones=["met" if month in by_month and not by_month[month].breaches else "breach" for month in months],
        maximum=Decimal(100),
        width=1040,  # the chart spans the page
        height=240,
    )
    latest = attainment[-1] if attainment else None
    return {
        "sows": sow_counts_for_vendor(user=user, organization_id=organization.pk),
        "live_bids": bid_count_waiting(user=user, vendor_id=organization.pk),
        "attainment": attainment[::-1],
        "attainment_latest": latest,
        "attainment_chart": chart,
        "attainment_description": "Share of service levels met per evaluated month, across your statements of work. "
        + _summary(
            [
                (
                    f"{row.month:%B %Y}",
                    f"{row.percent.normalize():f} % ({row.breaches} breach{'es' if row.breaches != 1 else ''})",
                )
                for row in attainment
            ]
        )
        if attainment
        else "No month has been evaluated yet.",
    }


def dashboard_panels(
    *, user: User, role: str | None, organization: Organization | None, profile: Any
) -> dict[str, Any]:
    """The panel of the user's current role (empty for staff and people without a role yet)."""
    if role == "client" and organization is not None:
        return {"panel": client_panel(user=user, organization=organization)}
    if role == "vendor" and organization is not None:
        return {"panel": vendor_panel(user=user, organization=organization)}
    if role == "freelancer":
        return {"panel": freelancer_panel(user=user, profile=profile)}
    return {}
