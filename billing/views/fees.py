"""The fee breakdown on the bid form."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Organization
from accounts.selectors import organization_list_for_user
from core.types import AuthenticatedHttpRequest
from marketplace.selectors.gigs import gig_get


@login_required
@require_GET
def fee_preview(request: AuthenticatedHttpRequest, gig_id: int) -> HttpResponse:
    """The fee breakdown of the price being typed on a bid form (htmx)."""
    gig = gig_get(gig_id=gig_id, user=request.user)
    vendor = None
    bidder = request.GET.get("bidder", "")
    if bidder.startswith("vendor:") and bidder[7:].isdigit():
        vendor = (
            organization_list_for_user(user=request.user)
            .filter(pk=int(bidder[7:]), kind=Organization.Kind.VENDOR)
            .first()
        )
    raw = (request.GET.get("amount") or request.GET.get("hourly_rate") or "").strip().replace(",", "")
    try:
        amount: Decimal | None = Decimal(raw) if raw else None
    except InvalidOperation:
        amount = None
    if amount is not None and (not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12")):
        amount = None
    context = {"gig": gig, "amount": amount, "vendor": vendor}
    return render(request, "billing/_bid_fees.html", context)
