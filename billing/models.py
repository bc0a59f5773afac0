"""Billing: ledger, invoices, payments, payout accounts, payouts (models arrive with their issue)."""
