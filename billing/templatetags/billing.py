"""Template helpers for money on pages: `money` formats an amount in its currency, `fee_split_for` splits a price
into what the client pays and what the worker receives with the same arithmetic invoices and the ledger use
(billing.services.fee_split + fees_for), so a bid shows the figures the invoice will carry."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from billing.services.fees import Fees, FeeSplit, fee_split, fees_for
from core.errors import ApplicationError
from core.money import quantize

register = template.Library()

_CACHE_KEY = "billing_fee_rates"


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """1234.5 + "USD" → "1,234.50 USD": rounded to the currency's minor unit, grouped, never a float; a negative
    amount (a credit line) with a typographic minus, "−500.00 USD", as the credit columns write it."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
        if currency:
            value = quantize(value, currency)
    except (InvalidOperation, ApplicationError):
        return str(amount)
    text = str(intcomma(value)).replace("-", "\u2212", 1)
    return f"{text} {currency}" if currency else str(text)


@register.filter
def amount(value: Any, currency: str) -> str:
    """The number alone, as `money` formats it (for a figure whose currency is shown beside it)."""
    return money(value, currency).removesuffix(f" {currency}")


@register.filter
def percent(value: Any) -> str:
    """Decimal("10.00") → "10", Decimal("2.50") → "2.5" (fee rates)."""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)


def _fees(context: template.Context, client: Any, vendor: Any) -> Fees:
    """fees_for, once per (client, vendor) pair and request: a list of bids costs queries per distinct pair,
    not per row. Kept on the request because each included template gets its own render context."""
    request = context.get("request")
    if request is None:
        return fees_for(client=client, vendor=vendor)
    cache: dict[tuple[int | None, int | None], Fees] = getattr(request, _CACHE_KEY, None) or {}
    setattr(request, _CACHE_KEY, cache)
    key = (getattr(client, "pk", None), getattr(vendor, "pk", None))
    if key not in cache:
        cache[key] = fees_for(client=client, vendor=vendor)
    return cache[key]


@register.simple_tag(takes_context=True)
def fee_split_for(
    context: template.Context, amount: Any, currency: str, client: Any = None, vendor: Any = None
) -> FeeSplit | None:
    """`{% fee_split_for bid.amount bid.currency client=gig.organization vendor=bid.vendor as split %}`: the
    split of a price, or None when there is no price."""
    if amount is None or amount == "" or not currency:
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return None
    if value < 0:
        return None
    return fee_split(amount=value, currency=currency, fees=_fees(context, client, vendor))


@register.simple_tag(takes_context=True)
def fee_rates_for(context: template.Context, client: Any = None, vendor: Any = None) -> Fees:
    """`{% fee_rates_for client=gig.organization as fees %}`: the marketplace and service fee percentages."""
    return _fees(context, client, vendor)
