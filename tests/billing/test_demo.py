"""Billing demo data: seed_demo invoices the demo's work, pays part of it through the Stripe stand-in (card and
verified webhook, as in the product), credits one invoice, leaves one overdue, connects three payout accounts and
leaves payouts paid, failed and queued; a second run changes nothing."""

from __future__ import annotations

import random
from datetime import time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from billing.demo import seed_billing_demo
from billing.models import (
    CreditNote,
    Invoice,
    LedgerLine,
    LedgerTransaction,
    Payment,
    Payout,
    PayoutAccount,
    Refund,
    StripeEvent,
)
from core.models import AuditEvent
from engagements.models import Contract, Timesheet
from engagements.services import TimeEntryInput, time_entry_add, timesheet_approve, timesheet_submit, week_start_of

pytestmark = pytest.mark.django_db


def _billing_counts() -> dict[str, object]:
    return {
        "invoices": sorted(Invoice.objects.values_list("kind", "status", "credited", "due_date")),
        "credit_notes": CreditNote.objects.count(),
        "payments": sorted(Payment.objects.values_list("status", "amount")),
        "refunds": Refund.objects.count(),
        "payouts": sorted(Payout.objects.values_list("status", "amount", "attempts")),
        "payout_accounts": PayoutAccount.objects.count(),
        "ledger_transactions": LedgerTransaction.objects.count(),
        "stripe_events": StripeEvent.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def test_seed_demo_leaves_invoices_and_payouts_in_every_state_and_a_second_run_changes_nothing() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _billing_counts()

    call_command("seed_demo", stdout=StringIO())

    assert _billing_counts() == first
    today = timezone.localdate()
    open_invoices = Invoice.objects.filter(status="issued")
    assert open_invoices.filter(kind="hourly_week").count() >= 10
    assert Invoice.objects.filter(kind="hourly_week", status="paid").count() == 8  # 4 contracts × 2 weeks
    assert Invoice.objects.filter(kind="sow_month", status="paid").count() == 15  # 3 SOWs × 5 months
    assert open_invoices.filter(kind="sow_month").count() == 3  # each SOW's newest month
    overdue = open_invoices.get(due_date__lt=today)
    assert overdue.kind == "hourly_week" and overdue.issued_at.date() == overdue.period_end + timedelta(days=1)
    credited = Invoice.objects.get(credited__gt=0)
    note = credited.credit_notes.get()
    assert (credited.status, note.amount, credited.amount_due) == (
        "issued",
        credited.credited,
        credited.total - note.amount,
    )
    assert (
        all(payment.status == "succeeded" for payment in Payment.objects.filter(invoice__isnull=False))
        and Payment.objects.filter(invoice__isnull=False).count() == 23
    )

    accounts = {
        str(account.user.email if account.user else account.organization.slug): account
        for account in PayoutAccount.objects.select_related("user", "organization")
    }
    assert set(accounts) >= {"freelancer@tandem.test", "indus-ridge-solutions"} and len(accounts) == 3
    assert all(account.payouts_enabled and account.details_submitted for account in accounts.values())
    payouts = {
        (payout.status, str(payout.user.email if payout.user else payout.organization.slug))
        for payout in Payout.objects.select_related("user", "organization")
    }
    (held,) = [email for email in accounts if email not in ("freelancer@tandem.test", "indus-ridge-solutions")]
    assert payouts == {
        ("paid", "freelancer@tandem.test"),
        ("paid", "indus-ridge-solutions"),
        ("pending", "indus-ridge-solutions"),
        ("failed", held),
    }
    failed = Payout.objects.get(status="failed")
    assert failed.last_error.startswith("Payouts are on hold until") and failed.stripe_transfer_id == ""
    assert all(payout.stripe_transfer_id.startswith("tr_") for payout in Payout.objects.filter(status="paid"))
    assert not LedgerLine.objects.values("transaction_id", "currency").annotate(total=Sum("amount")).exclude(total=0)
    assert StripeEvent.objects.filter(status="failed").count() == 0
    invoices = Invoice.objects.exclude(kind="milestone")
    assert (
        f"Billing: {invoices.count()} invoices (23 paid, {open_invoices.count()} open, 1 overdue, 1 credited), "
        "23 invoice payments; payouts 2 paid, 1 queued, 1 failed."
    ) in out.getvalue()


def test_without_the_stand_in_the_demo_only_invoices_the_approved_weeks(hire) -> None:
    contract, member, freelancer = hire(kind="hourly")
    monday = week_start_of(timezone.localdate()) - timedelta(weeks=2)
    Contract.objects.filter(pk=contract.pk).update(start_date=monday - timedelta(days=7))
    for day in range(3):
        time_entry_add(
            contract_id=contract.pk,
            data=TimeEntryInput(
                work_date=monday + timedelta(days=day), start_time=time(9), hours=Decimal("4"), description="API"
            ),
            by=freelancer,
        )
    timesheet = Timesheet.objects.get()
    timesheet_submit(timesheet_id=timesheet.pk, by=freelancer)
    timesheet_approve(timesheet_id=timesheet.pk, by=member.user)

    first = seed_billing_demo(rng=random.Random(1), fund=None)
    second = seed_billing_demo(rng=random.Random(1), fund=None)

    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.status, invoice.subtotal) == ("hourly_week", "issued", Decimal("600.00"))
    assert (
        first
        == second
        == {
            "invoices": 1,
            "paid": 0,
            "open": 1,
            "overdue": 0,
            "credited": 0,
            "invoice_payments": 0,
            "payouts_paid": 0,
            "payouts_pending": 0,
            "payouts_failed": 0,
        }
    )
    assert not Payment.objects.exists() and not PayoutAccount.objects.exists()
