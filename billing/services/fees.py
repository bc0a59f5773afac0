"""Fee arithmetic. One function splits a price into what the client pays, what the platform keeps and what the
worker earns; pages (bids, invoices, payouts), invoices and the ledger all use it, so they always agree."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from billing.models import FeeRate
from core.money import quantize

if TYPE_CHECKING:
    from accounts.models import Organization


@dataclass(frozen=True)
class Fees:
    client_fee_pct: Decimal
    worker_fee_pct: Decimal


@dataclass(frozen=True)
class FeeSplit:
    currency: str
    amount: Decimal  # the price of the work
    client_fee: Decimal
    worker_fee: Decimal

    @property
    def client_total(self) -> Decimal:
        return self.amount + self.client_fee

    @property
    def worker_net(self) -> Decimal:
        return self.amount - self.worker_fee

    @property
    def platform_revenue(self) -> Decimal:
        return self.client_fee + self.worker_fee


def fees_for(*, client: Organization | None, vendor: Organization | None = None) -> Fees:
    """The client's marketplace fee and the worker's service fee: an organisation's own rate where finance set
    one, otherwise the platform default (one query)."""
    owners = [pk for pk in (client.pk if client else None, vendor.pk if vendor else None) if pk is not None]
    rates = {rate.organization_id: rate for rate in FeeRate.objects.filter(organization_id__in=owners)}
    default = FeeRate.objects.filter(organization__isnull=True).first() or FeeRate()
    client_rate = rates.get(client.pk if client else None, default)
    worker_rate = rates.get(vendor.pk if vendor else None, default)
    return Fees(client_fee_pct=client_rate.client_fee_pct, worker_fee_pct=worker_rate.worker_fee_pct)


def fee_split(*, amount: Decimal, currency: str, fees: Fees) -> FeeSplit:
    """Each fee is its percentage of the price, rounded half-up to the currency's minor unit; the parts add up
    to the cent: client_total = amount + client_fee and amount = worker_net + worker_fee."""
    amount = quantize(amount, currency)
    return FeeSplit(
        currency=currency,
        amount=amount,
        client_fee=quantize(amount * fees.client_fee_pct / 100, currency),
        worker_fee=quantize(amount * fees.worker_fee_pct / 100, currency),
    )
