"""Billing: the double-entry ledger, fees, invoices and credit notes, payments and refunds, Stripe events, payout
accounts and payouts."""

from billing.models.fees import FeeRate
from billing.models.invoices import CreditNote, Invoice, InvoiceLine, InvoiceSequence
from billing.models.ledger import LedgerAccount, LedgerLine, LedgerTransaction
from billing.models.payments import Payment, Refund, StripeEvent
from billing.models.payouts import Payout, PayoutAccount

__all__ = [
    "CreditNote",
    "FeeRate",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "LedgerAccount",
    "LedgerLine",
    "LedgerTransaction",
    "Payment",
    "Payout",
    "PayoutAccount",
    "Refund",
    "StripeEvent",
]
