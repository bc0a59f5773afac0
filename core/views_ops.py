"""The ops overview: one staff page, linked from the admin index, with what needs attention across the apps —
the compliance review queues, payouts by state, SLA breaches and the audit chain's health. Each app's selector
aggregates its own rows in PostgreSQL; this view only checks which sections the user may see, turns the
aggregates into server-rendered SVG charts (core.charts) and links each number to the filtered admin list.

The page costs a constant number of queries, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_GET

from core import charts

BREACH_MONTHS = 6
MOST_BREACHED = 5


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    description: str
    count: int
    oldest_at: datetime | None
    url: str


@dataclass(frozen=True)
class PayoutRow:
    status: str
    label: str
    currency: str
    count: int
    amount: Decimal
    url: str

    @property
    def is_failed(self) -> bool:
        return self.status == "failed"


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class MonthCount:
    month: date
    count: int
    url: str


def _changelist(model: str, **filters: Any) -> str:
    """The admin list of `model` ("app_label.modelname"), filtered by the given query parameters."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def _count_chart(labels: list[str], counts: list[int], tones: list[str], width: int) -> charts.BarChart:
    return charts.bar_chart(
        labels=labels, values=[Decimal(count) for count in counts], tones=tones, width=width, height=200, integers=True
    )


def _summary(parts: list[tuple[str, int]]) -> str:
    return "; ".join(f"{label}: {count}" for label, count in parts) + "."


# --- sections -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueSpec:
    key: str  # as compliance_review_queue_summaries names it
    label: str
    short_label: str  # under its bar
    description: str
    model: str  # the admin list, "app_label.modelname"
    filters: dict[str, str]  # the admin list's filter for the items waiting


QUEUES = (
    QueueSpec(
        "documents",
        "Compliance documents",
        "Documents",
        "Waiting for review",
        "compliance.compliancedocument",
        {"status": "submitted"},
    ),
    QueueSpec(
        "screening_hits",
        "Screening hits",
        "Screening",
        "Possible sanctions matches, open",
        "compliance.screeninghit",
        {"status": "pending"},
    ),
    QueueSpec(
        "assessments",
        "Classification assessments",
        "Classification",
        "Waiting for ops sign-off",
        "compliance.classificationassessment",
        {"status": "pending"},
    ),
    QueueSpec(
        "erasures",
        "Erasure requests",
        "Erasure",
        "Waiting to be confirmed or declined",
        "compliance.erasurerequest",
        {"status__exact": "requested"},
    ),
)


def _review_section(user: Any) -> dict[str, Any] | None:
    from compliance.selectors import compliance_review_queue_summaries

    summaries = compliance_review_queue_summaries(user=user)
    visible = [spec for spec in QUEUES if spec.key in summaries]
    if not visible:
        return None
    queues = [
        Queue(
            key=spec.key,
            label=spec.label,
            description=spec.description,
            count=summaries[spec.key].count,
            oldest_at=summaries[spec.key].oldest_at,
            url=_changelist(spec.model, **spec.filters),
        )
        for spec in visible
    ]
    chart = _count_chart(
        [spec.short_label for spec in visible],
        [queue.count for queue in queues],
        ["money"] * len(queues),
        width=1040,  # the chart spans the page: a narrower canvas would scale its labels up
    )
    return {
        "queues": queues,
        "total": sum(queue.count for queue in queues),
        "chart": chart,
        "description": "Items waiting, by queue. " + _summary([(queue.label, queue.count) for queue in queues]),
    }


def _payout_section(user: Any) -> dict[str, Any] | None:
    from billing.models import Payout
    from billing.selectors import payout_totals_by_status

    try:
        totals = payout_totals_by_status(user=user)
    except PermissionDenied:
        return None

    labels = dict(Payout.Status.choices)
    rows = [
        PayoutRow(
            status=row["status"],
            label=labels.get(row["status"], row["status"]),
            currency=row["currency"],
            count=row["count"],
            amount=row["amount"],
            url=_changelist("billing.payout", status__exact=row["status"], currency__exact=row["currency"]),
        )
        for row in totals
    ]
    order = {status: index for index, status in enumerate(labels)}
    rows.sort(key=lambda row: (order.get(row.status, len(order)), row.currency))
    # Already-aggregated rows (a state × currency each), summed across currencies for the chart.
    by_status = [
        StatusCount(
            status=status,
            label=label,
            count=sum(row.count for row in rows if row.status == status),
            url=_changelist("billing.payout", status__exact=status),
        )
        for status, label in labels.items()
    ]
    chart = _count_chart(
        [status.label for status in by_status],
        [status.count for status in by_status],
        ["breach" if status.status == Payout.Status.FAILED else "money" for status in by_status],
        width=560,
    )
    failed = next(status for status in by_status if status.status == Payout.Status.FAILED)
    return {
        "rows": rows,
        "by_status": by_status,
        "failed": failed,
        "chart": chart,
        "description": "Payouts by state, all currencies. "
        + _summary([(status.label, status.count) for status in by_status]),
    }


def _recent_months(count: int) -> list[date]:
    """The last `count` finished months, oldest first: breaches exist only for months already evaluated."""
    month = django_timezone.localdate().replace(day=1)
    months = []
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def _sla_section(user: Any) -> dict[str, Any] | None:
    from engagements.selectors import sla_breach_counts_by_month, sow_list_most_breached

    months = _recent_months(BREACH_MONTHS)
    try:
        counts = sla_breach_counts_by_month(user=user, since=months[0])
    except PermissionDenied:
        return None
    rows = [
        MonthCount(
            month=month,
            count=counts.get(month, 0),
            url=_changelist("engagements.slabreach", month=f"{month:%Y-%m}"),
        )
        for month in months
    ]
    chart = _count_chart(
        [
            f"{row.month:%b %Y}" if index == 0 or row.month.month == 1 else f"{row.month:%b}"
            for index, row in enumerate(rows)
        ],
        [row.count for row in rows],
        ["breach"] * len(rows),
        width=560,
    )
    most_breached = [
        {
            "sow": sow,
            "breach_count": sow.breach_count,  # type: ignore[attr-defined]
            "last_breach_period": sow.last_breach_period,  # type: ignore[attr-defined]
            "url": _changelist("engagements.slabreach", sow__id__exact=sow.pk),
        }
        for sow in sow_list_most_breached(user=user, since=months[0], limit=MOST_BREACHED)
    ]
    return {
        "rows": rows,
        "months": months,
        "total": sum(row.count for row in rows),
        "chart": chart,
        "most_breached": most_breached,
        "description": f"SLA breaches by month, {months[0]:%B %Y} to {months[-1]:%B %Y}. "
        + _summary([(f"{row.month:%B %Y}", row.count) for row in rows]),
    }


def _audit_section(user: Any) -> dict[str, Any] | None:
    from core.selectors import audit_chain_health

    try:
        health = audit_chain_health(user=user)
    except PermissionDenied:
        return None
    return {"health": health, "url": _changelist("core.auditevent")}


@staff_member_required
@require_GET
def ops_overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    sections = {
        "reviews": _review_section(user),
        "payouts": _payout_section(user),
        "sla": _sla_section(user),
        "audit": _audit_section(user),
    }
    context = {**sections, "has_any_section": any(sections.values()), "now": django_timezone.now()}
    return render(request, "core/ops_overview.html", context)
