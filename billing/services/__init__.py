"""Billing writes: the ledger (one posting function every money movement goes through); escrow, invoices,
payments and payouts as they land."""

from billing.services.ledger import (
    LedgerEntry,
    ledger_account,
    ledger_post,
    ledger_reverse,
)
from billing.services.placeholders import (
    escrow_fund_placeholder,
    escrow_release_placeholder,
    sla_adjustments_placeholder,
)

__all__ = [
    "LedgerEntry",
    "escrow_fund_placeholder",
    "escrow_release_placeholder",
    "ledger_account",
    "ledger_post",
    "ledger_reverse",
    "sla_adjustments_placeholder",
]
