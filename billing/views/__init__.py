"""Billing pages: a client organisation's billing, an invoice for either side (pay, credit, print), a freelancer's
or vendor firm's earnings and payout account, paying and following a payment, the fee preview on bids, and the
Stripe webhook. Each write calls one service; refusals come back as messages (core.middleware) or next to the
fields they concern."""

from billing.views.client import client_billing
from billing.views.earnings import earnings, payout_account_return, payout_account_start
from billing.views.fees import fee_preview
from billing.views.invoices import invoice_credit, invoice_detail, invoice_pay, invoice_print
from billing.views.payments import payment_detail, payment_pay, stripe_webhook

__all__ = [
    "client_billing",
    "earnings",
    "fee_preview",
    "invoice_credit",
    "invoice_detail",
    "invoice_pay",
    "invoice_print",
    "payment_detail",
    "payment_pay",
    "payout_account_return",
    "payout_account_start",
    "stripe_webhook",
]
