"""Demo money for seed_demo: payments go through the same Stripe flow as the product (PaymentIntent, card,
verified webhook). With no STRIPE_SECRET_KEY, seeding runs a Stripe stand-in in this process that keeps its
state in the file `make run`'s stand-in process loads, so the objects the demo created are there afterwards.

`seed_billing_demo` (run after the engagement and SOW seeders) bills the demo's work and moves its money:

- the daily invoicing run invoices every approved week of hours (SOW months were invoiced when evaluated);
- clients pay the older weeks of the first hourly contracts and the older SOW months, card and webhook as in
  the product; the newest stay open, one of them overdue (its dates as if the daily run had issued it on time);
  the issuer credits part of one open invoice;
- the demo freelancer, the demo vendor firm and one hourly freelancer connect Stripe payout accounts (Express
  account, onboarding completed, `account.updated` applied); the daily payout run pays the three out. The
  freelancer's and the firm's transfers are sent; the hourly freelancer's payouts are put on hold first (as a
  change of sign-in email does), so theirs fails (finance sees it in the admin, to retry after the hold or
  cancel). Then the
  clients pay more SOW months and the next payout run queues the firm's second payout (the worker sends it after
  the seeding commits, as in production).

Idempotent: once any payout account exists, it does nothing but the (idempotent) invoicing run.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Q
from django.test.utils import override_settings
from django.utils import timezone

from billing.stripe_client import uses_standin

if TYPE_CHECKING:
    from accounts.models import Organization, User
    from billing.models import Invoice
    from billing.stripe_standin import StripeStandIn

Fund = Callable[[int, "User"], None]

TIMESHEET_CONTRACTS_PAID = 4  # hourly contracts whose older weeks the client pays
WEEKS_PAID = 2  # of each of those: the oldest approved weeks
SOW_MONTHS_PAID_FIRST = 3  # before the first payout run
SOW_MONTHS_PAID_LATER = 2  # before the second one; the newest month stays open
DEMO_SITE_URL = "http://127.0.0.1:8000"  # where the onboarding link returns to (nobody follows it here)


class DemoPayments:
    """Money through the in-process stand-in. Called as `fund(milestone_id, by)`, it funds a milestone."""

    def __init__(self) -> None:
        self.standin: StripeStandIn | None = None
        self.stack = contextlib.ExitStack()
        self.delivered: set[str] = set()

    def _start(self) -> StripeStandIn:
        if self.standin is None:
            from billing.stripe_client import _client
            from billing.stripe_standin import StripeStandIn

            standin = StripeStandIn(
                webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
                port=0,  # a free port: `make run`'s own stand-in may not be running yet, or may be
                state_file=settings.STRIPE_STANDIN_STATE_FILE or None,
                auto_deliver=False,
            )
            self.stack.enter_context(standin)
            self.stack.enter_context(override_settings(STRIPE_STANDIN_URL=standin.url))
            _client.cache_clear()
            self.stack.callback(_client.cache_clear)
            # Events already in a saved state file were delivered by an earlier seeding.
            self.delivered = {event["id"] for event in standin.events()}
            self.standin = standin
        return self.standin

    def deliver(self) -> None:
        """Every new stand-in event through the real webhook path: signature check, storage, processing."""
        from billing.services import stripe_event_process, stripe_event_record

        standin = self._start()
        for event in standin.events():
            if event["id"] in self.delivered:
                continue
            self.delivered.add(event["id"])
            body, headers = standin.webhook_request(event["id"])
            if stripe_event_record(payload=body, signature=headers["Stripe-Signature"]):
                stripe_event_process(event_id=event["id"])

    def __call__(self, milestone_id: int, by: User) -> None:
        self.fund(milestone_id, by)

    def fund(self, milestone_id: int, by: User) -> None:
        from billing.services import payment_confirm
        from engagements.services import milestone_fund

        self._start()
        payment = milestone_fund(milestone_id=milestone_id, by=by)
        payment_confirm(payment_id=payment.pk, payment_method="pm_card_visa", by=by)
        self.deliver()

    def pay_invoice(self, invoice_id: int, by: User) -> None:
        from billing.services import payment_confirm, payment_start_for_invoice

        self._start()
        payment = payment_start_for_invoice(invoice_id=invoice_id, by=by)
        payment_confirm(payment_id=payment.pk, payment_method="pm_card_visa", by=by)
        self.deliver()

    def connect(self, *, by: User, organization: Organization | None = None) -> None:
        """An onboarded Express account for `by` (a freelancer) or their vendor firm: the onboarding link service
        creates it, the stand-in's onboarding page is completed, and its `account.updated` event applied."""
        from billing.services import payout_account_onboarding_link
        from billing.services.payouts import payout_account_for

        standin = self._start()
        payout_account_onboarding_link(
            by=by, organization_id=organization.pk if organization else None, site_url=DEMO_SITE_URL
        )
        account = payout_account_for(user=None if organization else by, organization=organization)
        assert account is not None
        standin.complete_onboarding(account.stripe_account_id)
        self.deliver()


@contextlib.contextmanager
def demo_payments() -> Iterator[DemoPayments | None]:
    """Yields the stand-in's `DemoPayments` (callable as `fund(milestone_id, by)`), or None with real Stripe keys
    (the demo then leaves milestones unfunded and invoices unpaid: real webhooks reach a deployed site, not a
    seeding command)."""
    if not uses_standin():
        yield None
        return
    payments = DemoPayments()
    with payments.stack:
        yield payments


# --- invoices, payments and payouts -------------------------------------------------------------------------------
def _payer(organization_id: int) -> User:
    """Who pays the client's invoices: its finance member if it has one, else its owner."""
    from accounts.models import Membership

    membership = (
        Membership.objects.filter(
            organization_id=organization_id, role__in=[Membership.Role.FINANCE, Membership.Role.OWNER]
        )
        .select_related("user")
        .order_by("role", "pk")  # "finance" sorts before "owner"
        .first()
    )
    assert membership is not None, "every client organisation has an owner"
    return membership.user


def _issuer(invoice: Invoice) -> User:
    """Who credits the invoice: the freelancer who issued it, or the owner of the vendor firm that did."""
    from accounts.models import Membership

    if invoice.issuer_user is not None:
        return invoice.issuer_user
    assert invoice.issuer_organization_id is not None
    membership = (
        Membership.objects.filter(organization_id=invoice.issuer_organization_id, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    assert membership is not None, "every vendor firm has an owner"
    return membership.user


def _plan(invoices: list[Invoice], key: Callable[[Invoice], Any]) -> dict[Any, list[Invoice]]:
    groups: dict[Any, list[Invoice]] = {}
    for invoice in invoices:
        groups.setdefault(key(invoice), []).append(invoice)
    return groups


def _summary() -> dict[str, int]:
    from billing.models import Invoice, Payment, Payout

    today = timezone.localdate()
    invoices = Invoice.objects.exclude(kind=Invoice.Kind.MILESTONE).aggregate(
        invoices=Count("pk"),
        paid=Count("pk", filter=Q(status=Invoice.Status.PAID)),
        open=Count("pk", filter=Q(status=Invoice.Status.ISSUED)),
        overdue=Count("pk", filter=Q(status=Invoice.Status.ISSUED, due_date__lt=today)),
        credited=Count("pk", filter=Q(credited__gt=0)),
    )
    payouts = Payout.objects.aggregate(
        payouts_paid=Count("pk", filter=Q(status=Payout.Status.PAID)),
        payouts_pending=Count("pk", filter=Q(status=Payout.Status.PENDING)),
        payouts_failed=Count("pk", filter=Q(status=Payout.Status.FAILED)),
    )
    return {
        **invoices,
        "invoice_payments": Payment.objects.filter(invoice__isnull=False, status=Payment.Status.SUCCEEDED).count(),
        **payouts,
    }


def seed_billing_demo(*, rng: random.Random, fund: Fund | None) -> dict[str, int]:
    """Invoice the demo's work; with the stand-in (`fund` from `demo_payments`), pay, credit and pay out. Returns
    counts: invoices (other than milestone receipts), paid, open, overdue, credited, invoice_payments,
    payouts_paid, payouts_pending, payouts_failed."""
    from accounts.models import Organization, User
    from billing.models import Invoice, Payout, PayoutAccount
    from billing.services import invoices_issue_due

    invoices_issue_due()
    payments = fund if isinstance(fund, DemoPayments) else None
    if payments is None or PayoutAccount.objects.exists() or Payout.objects.exists():
        return _summary()

    open_invoices = list(
        Invoice.objects.filter(status=Invoice.Status.ISSUED, total__gt=0)
        .exclude(kind=Invoice.Kind.MILESTONE)
        .select_related("contract", "sow", "issuer_user")
        .order_by("period_start", "pk")
    )
    weeks = _plan(
        [invoice for invoice in open_invoices if invoice.kind == Invoice.Kind.HOURLY_WEEK],
        lambda invoice: invoice.contract_id,
    )
    months = _plan(
        [invoice for invoice in open_invoices if invoice.kind == Invoice.Kind.SOW_MONTH],
        lambda invoice: invoice.sow_id,
    )
    # The demo freelancer's hourly weeks are among those paid (their earnings page shows a payout).
    demo_login = User.objects.filter(email="freelancer@tandem.test").values_list("pk", flat=True).first()
    hourly_contracts = sorted(
        weeks, key=lambda contract_id: (weeks[contract_id][0].issuer_user_id != demo_login, contract_id)
    )[:TIMESHEET_CONTRACTS_PAID]

    # Clients pay the older weeks and months.
    for contract_id in hourly_contracts:
        for invoice in weeks[contract_id][:WEEKS_PAID]:
            payments.pay_invoice(invoice.pk, _payer(invoice.organization_id))
    for sow_id in sorted(months):
        for invoice in months[sow_id][:SOW_MONTHS_PAID_FIRST]:
            payments.pay_invoice(invoice.pk, _payer(invoice.organization_id))

    # Three payees connect their payout accounts; the daily run pays them out.
    freelancer = User.objects.filter(email="freelancer@tandem.test").first()
    vendor = Organization.objects.filter(slug="indus-ridge-solutions").first()
    vendor_owner = User.objects.filter(email="vendor@tandem.test").first()
    # Another hourly freelancer (not the demo login, whose earnings page shows a paid payout) is put on hold.
    hourly_freelancer = None
    for contract_id in hourly_contracts:
        contract = weeks[contract_id][0].contract
        if contract is not None and contract.freelancer is not None and contract.freelancer != freelancer:
            hourly_freelancer = contract.freelancer
            break
    if freelancer is not None:
        payments.connect(by=freelancer)
    if vendor is not None and vendor_owner is not None:
        payments.connect(by=vendor_owner, organization=vendor)
    if hourly_freelancer is not None:
        payments.connect(by=hourly_freelancer)
    _pay_out(payments, held=hourly_freelancer)

    # More months paid; the next run queues the firm's second payout (sent by the worker after the commit).
    for sow_id in sorted(months):
        for invoice in months[sow_id][SOW_MONTHS_PAID_FIRST : SOW_MONTHS_PAID_FIRST + SOW_MONTHS_PAID_LATER]:
            payments.pay_invoice(invoice.pk, _payer(invoice.organization_id))
    from billing.services import payouts_create_due

    payouts_create_due()

    # Open invoices: the issuer credits part of one; another would have been issued weeks ago, so it is overdue.
    still_open = [
        invoice
        for contract_id in hourly_contracts
        for invoice in weeks[contract_id][WEEKS_PAID:]
        if Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.ISSUED).exists()
    ]
    if still_open:
        _credit(still_open[-1], hours=Decimal(rng.choice([1, 2])))
        _backdate(still_open[0])
    return _summary()


def _pay_out(payments: DemoPayments, *, held: User | None) -> None:
    from billing.models import Payout
    from billing.services import payout_hold_start, payout_send, payouts_create_due

    created = payouts_create_due()
    if held is not None:
        payout_hold_start(user=held)  # as after a change of their sign-in email: sending must refuse
    for payout in Payout.objects.filter(pk__in=created).order_by("pk"):
        payout_send(payout_id=payout.pk)
    payments.deliver()


def _credit(invoice: Invoice, *, hours: Decimal) -> None:
    from billing.services import invoice_credit
    from core.money import quantize

    line = invoice.lines.filter(unit="hours").order_by("position").first()
    rate = line.unit_price if line is not None else invoice.subtotal
    amount = min(quantize(hours * rate * invoice.total / invoice.subtotal, invoice.currency), invoice.amount_due)
    invoice_credit(
        invoice_id=invoice.pk,
        amount=amount,
        reason=f"{hours.normalize():f} h of the client call were not billable, as agreed with the client.",
        by=_issuer(invoice),
    )


def _backdate(invoice: Invoice) -> None:
    """Dates as if the daily invoicing run had issued it the Monday after its week (demo cosmetics: billing's
    own row, no money moves)."""
    from billing.models import Invoice
    from billing.services.invoices import PAYMENT_TERMS

    if invoice.period_end is None:
        return
    issued_on = invoice.period_end + timedelta(days=1)
    issued_at = timezone.make_aware(datetime.combine(issued_on, time(4)))
    Invoice.objects.filter(pk=invoice.pk).update(issued_at=issued_at, due_date=issued_on + PAYMENT_TERMS)
