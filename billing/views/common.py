"""What the billing pages share: money charts (core.charts bar charts with their data tables), recent months
and weeks, query strings."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone as django_timezone

from accounts.models import User
from billing.selectors import client_spend_by_month
from core import charts


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: Decimal
    url: str = ""


@dataclass(frozen=True)
class MoneyChart:
    """One currency's bar chart with the rows of its accessible data table."""

    currency: str
    chart: charts.BarChart
    rows: list[ChartRow]
    total: Decimal
    description: str


def money_chart(
    currency: str, rows: list[ChartRow], axis_labels: list[str], *, what: str, slots: int = 0, **size: Any
) -> MoneyChart:
    """`slots`: draw at least that many bar places, so a single bar keeps a bar's width."""
    total = sum((row.value for row in rows), Decimal(0))
    padding = max(slots - len(rows), 0)
    values: list[Decimal | None] = [row.value for row in rows]
    chart = charts.bar_chart(
        labels=[*axis_labels, *[""] * padding],
        values=[*values, *[None] * padding],
        tones=["money"] * (len(rows) + padding),
        **size,
    )
    parts = "; ".join(f"{row.label}: {row.value} {currency}" for row in rows)
    return MoneyChart(currency, chart, rows, total, f"{what}, {total} {currency} in all. {parts}.")


def spend_by_month_charts(
    *, user: User, organization_ids: list[int], months: int, width: int = 1040, height: int = 240
) -> list[MoneyChart]:
    """What the organisations paid per month over the last `months` months, one chart per currency."""
    recent = recent_months(months)
    amounts: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for row in client_spend_by_month(user=user, organization_ids=organization_ids, since=start_of(recent[0])):
        amounts[row["currency"]][local_date(row["month"])] = row["amount"]
    labels = month_labels(recent)
    return [
        money_chart(
            currency,
            [ChartRow(f"{m:%B %Y}", by_month.get(m, Decimal("0.00"))) for m in recent],
            labels,
            what=f"Spend by month, {recent[0]:%B %Y} to {recent[-1]:%B %Y}",
            width=width,
            height=height,
        )
        for currency, by_month in sorted(amounts.items())
    ]


def month_labels(months: list[date]) -> list[str]:
    """Axis labels for a row of months: "Jun ’26", then "Jul", "Aug"…, the year again each January."""
    return [f"{m:%b} ’{m:%y}" if index == 0 or m.month == 1 else f"{m:%b}" for index, m in enumerate(months)]


def start_of(day: date) -> datetime:
    return django_timezone.make_aware(datetime.combine(day, time.min))


def recent_months(count: int) -> list[date]:
    month = django_timezone.localdate().replace(day=1)
    months = [month]
    for _ in range(count - 1):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def recent_weeks(count: int) -> list[date]:
    today = django_timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=back) for back in range(count - 1, -1, -1)]


def local_date(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        return django_timezone.localtime(moment).date() if django_timezone.is_aware(moment) else moment.date()
    return moment


def query_string(**params: Any) -> str:
    return urlencode({key: value for key, value in params.items() if value})


def short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
