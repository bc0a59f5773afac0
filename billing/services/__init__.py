"""Billing writes: the ledger (one posting function every money movement goes through), fees, escrow, invoices,
payments and refunds, Stripe webhooks, payout accounts and payouts."""

from billing.services.escrow import escrow_release
from billing.services.fees import Fees, FeeSplit, fee_split, fees_for
from billing.services.invoices import (
    invoice_credit,
    invoice_issue_for_micro_tasks,
    invoice_issue_for_milestone,
    invoice_issue_for_sow_month,
    invoice_issue_for_timesheet,
    invoice_record_payment,
)
from billing.services.invoicing_runs import invoices_issue_due
from billing.services.ledger import LedgerEntry, ledger_account, ledger_post, ledger_reverse
from billing.services.payments import (
    payment_apply_intent,
    payment_confirm,
    payment_start_for_invoice,
    payment_start_for_milestone,
    refund_apply,
    refund_create,
)
from billing.services.payouts import (
    payout_account_apply,
    payout_account_onboarding_link,
    payout_account_refresh,
    payout_apply_transfer,
    payout_blockers,
    payout_cancel,
    payout_hold_start,
    payout_retry,
    payout_send,
    payouts_create_due,
)
from billing.services.webhooks import stripe_event_process, stripe_event_record

__all__ = [
    "FeeSplit",
    "Fees",
    "LedgerEntry",
    "escrow_release",
    "fee_split",
    "fees_for",
    "invoice_credit",
    "invoice_issue_for_micro_tasks",
    "invoice_issue_for_milestone",
    "invoice_issue_for_sow_month",
    "invoice_issue_for_timesheet",
    "invoice_record_payment",
    "invoices_issue_due",
    "ledger_account",
    "ledger_post",
    "ledger_reverse",
    "payment_apply_intent",
    "payment_confirm",
    "payment_start_for_invoice",
    "payment_start_for_milestone",
    "payout_account_apply",
    "payout_account_onboarding_link",
    "payout_account_refresh",
    "payout_apply_transfer",
    "payout_blockers",
    "payout_cancel",
    "payout_hold_start",
    "payout_retry",
    "payout_send",
    "payouts_create_due",
    "refund_apply",
    "refund_create",
    "stripe_event_process",
    "stripe_event_record",
]
