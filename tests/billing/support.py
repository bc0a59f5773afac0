"""Billing test support: invoice rows as the services leave them, for list, filter and access tests that need many
of them (the invoicing itself is tested through the services)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import Invoice

_numbers = itertools.count(1)


def invoice_row(
    organization, *, issuer_user=None, issuer_organization=None, status="issued", total="105.00"
) -> Invoice:
    """An invoice row as the services leave it: 5 % marketplace fee on top, 10 % service fee kept."""
    amount = Decimal(total)
    subtotal = (amount / Decimal("1.05")).quantize(Decimal("0.01"))
    number = next(_numbers)
    invoice = Invoice.objects.create(
        number=f"T-{number:05d}",
        kind=Invoice.Kind.HOURLY_WEEK,
        source_key=f"test:{number}",
        organization=organization,
        issuer_user=issuer_user,
        issuer_organization=issuer_organization,
        issuer_name=issuer_organization.name if issuer_organization else issuer_user.full_name,
        bill_to_name=organization.name,
        currency="USD",
        subtotal=subtotal,
        client_fee=amount - subtotal,
        total=amount,
        worker_fee=(subtotal / 10).quantize(Decimal("0.01")),
        status=status,
        issued_at=timezone.now(),
        due_date=timezone.localdate() + timedelta(days=14),
        paid_at=timezone.now() if status == "paid" else None,
    )
    invoice.lines.create(
        description="Work", unit="hours", quantity=Decimal("2"), unit_price=subtotal / 2, amount=subtotal
    )
    invoice.lines.create(
        kind="marketplace_fee",
        description="Marketplace fee (5 %)",
        unit_price=amount - subtotal,
        amount=amount - subtotal,
    )
    return invoice
