"""A client organisation's billing: its invoices, what is outstanding, its payments, and what it spent by month
and by gig or statement of work."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_GET

from accounts.models import Organization, User
from accounts.selectors import organization_list_for_user, user_context
from billing.models import Invoice
from billing.selectors import (
    client_spend_by_work,
    invoice_list_for_user,
    invoice_outstanding_by_currency,
    payment_list_for_user,
)
from billing.views.common import (
    ChartRow,
    MoneyChart,
    money_chart,
    query_string,
    recent_months,
    short,
    spend_by_month_charts,
    start_of,
)
from billing.views.earnings import payee_options
from core.errors import ApplicationError
from core.types import AuthenticatedHttpRequest

PAGE_SIZE = 20
PAYMENTS_PAGE_SIZE = 10
SPEND_MONTHS = 12
WORK_BARS = 8  # the largest gigs and SOWs; the rest is one "Other" bar


def _spend_by_work(user: User, organization_ids: list[int]) -> list[MoneyChart]:
    since = start_of(recent_months(SPEND_MONTHS)[0])
    by_currency: dict[str, list[ChartRow]] = defaultdict(list)
    for row in client_spend_by_work(user=user, organization_ids=organization_ids, since=since):
        if row["work_sow_id"]:
            label = row["work_sow_title"]
            url = reverse("engagements:sow_detail", args=[row["work_sow_id"]])
        elif row["work_gig_id"]:
            label = row["work_gig_title"]
            url = reverse("marketplace:gig_detail", args=[row["work_gig_id"]])
        else:
            label, url = "Micro-tasks and other work", ""
        by_currency[row["currency"]].append(ChartRow(label, row["amount"], url))
    result = []
    for currency, rows in sorted(by_currency.items()):
        if len(rows) > WORK_BARS:
            other = sum((row.value for row in rows[WORK_BARS - 1 :]), Decimal(0))
            rows = [*rows[: WORK_BARS - 1], ChartRow(f"{len(rows) - WORK_BARS + 1} more", other)]
        result.append(
            money_chart(
                currency,
                rows,
                [short(row.label) for row in rows],
                what=f"Spend by gig and statement of work over the last {SPEND_MONTHS} months",
                slots=WORK_BARS,
                width=1040,
                height=240,
            )
        )
    return result


def _chosen_organizations(
    request: AuthenticatedHttpRequest, organizations: list[Organization]
) -> tuple[list[Organization], Organization | None]:
    """The organisation asked for (404 if it isn't one of the user's), all of them, or the one chosen in the
    session (else the first)."""
    requested = request.GET.get("organization", "")
    if requested == "all":
        return organizations, None
    if requested:
        chosen = next((org for org in organizations if str(org.pk) == requested), None)
        if chosen is None:
            raise Organization.DoesNotExist
        return [chosen], chosen
    current = user_context(user=request.user, session=request.session).organization
    chosen = next((org for org in organizations if current is not None and org.pk == current.pk), organizations[0])
    return [chosen], chosen


@login_required
@require_GET
def client_billing(request: AuthenticatedHttpRequest) -> HttpResponse:
    organizations = list(organization_list_for_user(user=request.user).filter(kind=Organization.Kind.CLIENT))
    if not organizations:
        if payee_options(request):
            return redirect("billing:earnings")
        raise ApplicationError(
            "Billing belongs to client organisations. Ask your organisation's owner to invite you to see its "
            "invoices and payments.",
            status=403,
        )
    chosen, selected = _chosen_organizations(request, organizations)
    ids = [org.pk for org in chosen]
    status = request.GET.get("status") or ""
    if status not in Invoice.Status.values:
        status = ""
    invoices = invoice_list_for_user(user=request.user).filter(organization_id__in=ids)
    listed = invoices.filter(status=status) if status else invoices
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    payments = Paginator(payment_list_for_user(user=request.user, organization_ids=ids), PAYMENTS_PAGE_SIZE)
    organization_param = "all" if selected is None else str(selected.pk)
    context = {
        "organizations": organizations,
        "selected": selected,
        "organization_param": organization_param,
        "is_all": selected is None,
        "status": status,
        "statuses": Invoice.Status.choices,
        "page": page,
        "payments_page": payments.get_page(request.GET.get("payments_page")),
        "outstanding": invoice_outstanding_by_currency(invoices=invoices),
        "spend_by_month": spend_by_month_charts(user=request.user, organization_ids=ids, months=SPEND_MONTHS),
        "spend_by_work": _spend_by_work(request.user, ids),
        "spend_months": SPEND_MONTHS,
        "today": django_timezone.localdate(),
        "filter_query": query_string(organization=request.GET.get("organization")),
        "invoices_query": query_string(organization=request.GET.get("organization"), status=status),
        "payments_query": query_string(organization=request.GET.get("organization"), status=status, page=page.number),
    }
    return render(request, "billing/client_billing.html", context)
