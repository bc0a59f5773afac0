"""A freelancer's or vendor firm's earnings: balances, earnings by week, payouts, issued invoices, and the Stripe
payout account (connect, continue, come back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Membership, Organization
from accounts.selectors import organization_list_for_user, user_context, user_is_freelancer
from billing import services
from billing.models import LedgerAccount, PayoutAccount
from billing.selectors import (
    PAYEE_ROLES,
    payee_earnings_by_week,
    payee_invoice_list,
    payee_ledger_accounts,
    payee_payout_list,
    payee_payout_totals,
)
from billing.services.payouts import payable_available, payout_account_for
from billing.views.common import ChartRow, MoneyChart, local_date, money_chart, query_string, recent_weeks, start_of
from core.errors import ApplicationError
from core.types import AuthenticatedHttpRequest

PAGE_SIZE = 20
ISSUED_PAGE_SIZE = 10
EARNING_WEEKS = 12
PAYEE_SESSION_KEY = "billing_payout_payee"  # whose payout account the Stripe round trip is for
Kind = LedgerAccount.Kind


@dataclass(frozen=True)
class Payee:
    key: str  # "me", or "org:<id>" for a vendor firm
    label: str
    organization: Organization | None

    @property
    def organization_id(self) -> int | None:
        return self.organization.pk if self.organization is not None else None


@dataclass(frozen=True)
class CurrencySummary:
    currency: str
    pending: Decimal
    payable: Decimal
    available: Decimal
    queued: Decimal
    paid: Decimal


def payee_options(request: AuthenticatedHttpRequest) -> list[Payee]:
    options = []
    if user_is_freelancer(user=request.user):
        options.append(Payee("me", "Your freelance earnings", None))
    firms = Membership.objects.filter(
        user=request.user, organization__kind=Organization.Kind.VENDOR, role__in=PAYEE_ROLES
    ).select_related("organization")
    options += [Payee(f"org:{m.organization_id}", m.organization.name, m.organization) for m in firms]
    return options


def _chosen_payee(request: AuthenticatedHttpRequest, options: list[Payee], requested: str) -> Payee:
    if requested:
        chosen = next((option for option in options if option.key == requested), None)
        if chosen is None:
            raise Organization.DoesNotExist
        return chosen
    current = user_context(user=request.user, session=request.session).organization
    return next((option for option in options if current and option.organization_id == current.pk), options[0])


def _payees_or_refuse(request: AuthenticatedHttpRequest, options: list[Payee] | None = None) -> list[Payee]:
    options = payee_options(request) if options is None else options
    if not options:
        raise ApplicationError(
            "Earnings and payouts are for freelancers, and for a vendor firm's owners, admins and finance members. "
            "Ask your firm's owner if you need access.",
            status=403,
        )
    return options


def _account_status(account: PayoutAccount | None) -> tuple[str, str]:
    """(status key, words) for the payout account card."""
    if account is None:
        return "none", "Not connected"
    if not account.details_submitted:
        return "incomplete", "Onboarding incomplete"
    if not account.payouts_enabled:
        return "restricted", "Stripe needs more information"
    if account.hold_until and account.hold_until > django_timezone.now():
        held = django_timezone.localtime(account.hold_until)
        return "hold", f"On hold until {held:%-d %b %Y, %H:%M}"
    return "enabled", "Enabled"


def _earnings_by_week(payable: list[LedgerAccount]) -> list[MoneyChart]:
    weeks = recent_weeks(EARNING_WEEKS)
    amounts: dict[str, dict[date, Decimal]] = {}
    for row in payee_earnings_by_week(accounts=payable, since=start_of(weeks[0])):
        amounts.setdefault(row["currency"], {})[local_date(row["week"])] = -row["credited"]
    return [
        money_chart(
            currency,
            [ChartRow(f"Week of {week:%-d %b %Y}", by_week.get(week, Decimal("0.00"))) for week in weeks],
            [f"{week:%-d %b}" for week in weeks],
            what=f"Earnings by week, {EARNING_WEEKS} weeks from {weeks[0]:%-d %B %Y}",
            width=680,  # about the card's width, so the 11px labels stay 11px
            height=260,
        )
        for currency, by_week in sorted(amounts.items())
    ]


@login_required
@require_GET
def earnings(request: AuthenticatedHttpRequest) -> HttpResponse:
    options = payee_options(request)
    if not options and organization_list_for_user(user=request.user).filter(kind=Organization.Kind.CLIENT).exists():
        return redirect("billing:client_billing")
    options = _payees_or_refuse(request, options)
    payee = _chosen_payee(request, options, request.GET.get("payee", ""))
    organization_id = payee.organization_id
    accounts = payee_ledger_accounts(user=request.user, organization_id=organization_id)
    pending = {a.currency: a.balance for a in accounts if a.kind in (Kind.WORKER_PENDING, Kind.VENDOR_PENDING)}
    payable = [a for a in accounts if a.kind in (Kind.WORKER_PAYABLE, Kind.VENDOR_PAYABLE)]
    totals = payee_payout_totals(user=request.user, organization_id=organization_id)
    currencies = sorted(set(pending) | {a.currency for a in payable} | set(totals))
    zero = Decimal("0.00")
    summaries = []
    for currency in currencies:
        account = next((a for a in payable if a.currency == currency), None)
        available = payable_available(account=account) if account is not None else zero
        summaries.append(
            CurrencySummary(
                currency=currency,
                pending=pending.get(currency, zero),
                payable=account.balance if account is not None else zero,
                available=max(available, zero),
                queued=totals.get(currency, {}).get("queued", zero),
                paid=totals.get(currency, {}).get("paid", zero),
            )
        )
    payout_account = payout_account_for(
        user=None if payee.organization else request.user, organization=payee.organization
    )
    status, status_text = _account_status(payout_account)
    payouts = Paginator(payee_payout_list(user=request.user, organization_id=organization_id), PAGE_SIZE)
    issued = Paginator(
        payee_invoice_list(user=request.user, organization_id=organization_id), ISSUED_PAGE_SIZE
    ).get_page(request.GET.get("invoices_page"))
    payouts_page = payouts.get_page(request.GET.get("payouts_page"))
    context = {
        "payee": payee,
        "payees": options,
        "summaries": summaries,
        "payout_account": payout_account,
        "account_status": status,
        "account_status_text": status_text,
        "blockers": services.payout_blockers(account=payout_account),
        "earnings_by_week": _earnings_by_week(payable),
        "earning_weeks": EARNING_WEEKS,
        "today": django_timezone.localdate(),
        "payouts_page": payouts_page,
        "issued_page": issued,
        "payee_query": query_string(payee=payee.key),
        "payouts_query": query_string(payee=payee.key, invoices_page=issued.number if issued.number > 1 else ""),
        "invoices_query": query_string(
            payee=payee.key, payouts_page=payouts_page.number if payouts_page.number > 1 else ""
        ),
    }
    return render(request, "billing/earnings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def payout_account_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    """POST: to Stripe's onboarding for the payee's payout account (created on first use). Stripe sends people
    back here with a GET when a link has expired: that asks again rather than acting on a GET."""
    options = _payees_or_refuse(request)
    if request.method == "GET":
        payee = _chosen_payee(request, options, request.session.get(PAYEE_SESSION_KEY, ""))
        return render(request, "billing/payout_account_start.html", {"payee": payee})
    payee = _chosen_payee(request, options, request.POST.get("payee", ""))
    request.session[PAYEE_SESSION_KEY] = payee.key  # the return page refreshes the same account
    url = services.payout_account_onboarding_link(
        by=request.user, organization_id=payee.organization_id, site_url=request.build_absolute_uri("/")[:-1]
    )
    return redirect(url)


@login_required
@require_GET
def payout_account_return(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Back from Stripe's onboarding: read the account from Stripe and say where it stands."""
    options = _payees_or_refuse(request)
    remembered = request.GET.get("payee") or request.session.get(PAYEE_SESSION_KEY, "")
    payee = _chosen_payee(request, options, remembered if any(o.key == remembered for o in options) else "")
    account = services.payout_account_refresh(by=request.user, organization_id=payee.organization_id)
    blockers = services.payout_blockers(account=account)
    if account is None:
        messages.info(request, "No payout account yet: connect with Stripe to get paid.")
    elif not blockers:
        messages.success(request, "Your payout account is ready: what is payable is paid out in the next daily run.")
    elif account.payouts_enabled:
        messages.warning(request, f"Your payout account is connected. {' '.join(blockers)}")
    else:
        messages.warning(request, f"Stripe needs a little more before payouts can start. {' '.join(blockers)}")
    return redirect(f"{reverse('billing:earnings')}?{query_string(payee=payee.key)}")
