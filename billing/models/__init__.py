"""Billing: the double-entry ledger (and, as they land, fees, invoices, payments, payout accounts, payouts)."""

from billing.models.ledger import LedgerAccount, LedgerLine, LedgerTransaction

__all__ = ["LedgerAccount", "LedgerLine", "LedgerTransaction"]
