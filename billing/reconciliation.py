"""Reconciliation (reads only): does the ledger agree with Stripe, and with itself?

- recent succeeded payments: Stripe's PaymentIntent succeeded, for the same amount and currency;
- recent paid payouts: Stripe's transfer exists, for the same amount and currency, to the payee's account, and was
  not reversed;
- queued and failed payouts: Stripe made no transfer for them (a transfer for a failed payout means a retry would
  pay twice; one for a queued payout means its webhook was not processed);
- the ledger: every transaction's lines sum to zero per currency, and every account's cached balance equals the
  sum of its lines;
- per currency, what the ledger says is at Stripe (processor clearing) next to Stripe's balance (informative only:
  Stripe's balance also holds money the ledger never saw, such as the platform's own top-ups).

Stripe is asked in pages of 100 (then one by one for what the pages didn't cover), so the page stays quick with real
Stripe. A Stripe error stops only the check it happened in; the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import stripe
from django.db.models import Case, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone as django_timezone

from billing.models import LedgerAccount, LedgerLine, LedgerTransaction, Payment, Payout
from core.money import Money, from_minor_units, to_minor_units

RECENT_DAYS = 30
MAX_ROWS = 100  # of each kind of row checked
MAX_LISTED = 1000  # Stripe objects read through list pages before asking for the rest one by one
MAX_RETRIEVED = 50


@dataclass(frozen=True)
class Finding:
    """One row compared with Stripe. `ok` False is a mismatch; `explanation` says what it means and what to do."""

    model: str  # "payment" or "payout" (for the admin link)
    object_id: int
    label: str
    ok: bool
    ours: str
    stripe: str
    explanation: str


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    clearing: Decimal
    stripe_available: Decimal | None
    stripe_pending: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        if self.stripe_available is None or self.stripe_pending is None:
            return None
        return self.stripe_available + self.stripe_pending - self.clearing


@dataclass(frozen=True)
class UnbalancedTransaction:
    transaction_id: int
    currency: str
    total: Decimal


@dataclass(frozen=True)
class BalanceDrift:
    account: LedgerAccount
    from_lines: Decimal


@dataclass
class Reconciliation:
    findings: list[Finding] = field(default_factory=list)
    stripe_errors: list[str] = field(default_factory=list)
    totals: list[CurrencyTotal] = field(default_factory=list)
    unbalanced: list[UnbalancedTransaction] = field(default_factory=list)
    drifts: list[BalanceDrift] = field(default_factory=list)
    transactions_checked: int = 0
    accounts_checked: int = 0

    @property
    def mismatches(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.ok]

    @property
    def matches(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.ok]

    @property
    def ledger_is_consistent(self) -> bool:
        return not self.unbalanced and not self.drifts


def _stripe() -> stripe.StripeClient:
    from billing.stripe_client import stripe_client

    return stripe_client()


def _message(error: stripe.StripeError) -> str:
    from billing.services.payments import stripe_error_message

    return stripe_error_message(error)


def _is_missing(error: stripe.StripeError) -> bool:
    return isinstance(error, stripe.InvalidRequestError) and (
        error.code == "resource_missing" or error.http_status == 404
    )


def _fetch(
    listing: Callable[[Any], Any],
    retrieve: Callable[[str], Any],
    wanted: Iterable[str],
    created_since: int,
) -> dict[str, dict[str, Any] | None]:
    """Stripe's objects by id (None: Stripe has no such object). Raises stripe.StripeError."""
    wanted = set(wanted)
    found: dict[str, dict[str, Any] | None] = {}
    if not wanted:
        return found
    listed = listing({"limit": 100, "created": {"gte": created_since}}).auto_paging_iter()
    for seen, obj in enumerate(listed, start=1):
        if obj.id in wanted:
            found[obj.id] = obj.to_dict()
        if len(found) == len(wanted) or seen >= MAX_LISTED:
            break
    for object_id in sorted(wanted - set(found))[:MAX_RETRIEVED]:
        try:
            found[object_id] = retrieve(object_id).to_dict()
        except stripe.StripeError as error:
            if not _is_missing(error):
                raise
            found[object_id] = None
    return found


def _money(minor: Any, currency: str) -> str:
    try:
        return str(Money(from_minor_units(int(minor), currency), currency))
    except (TypeError, ValueError):
        return f"{minor} (minor units) {currency}"


def _payments(since: Any, created_since: int) -> list[Finding]:
    payments = list(
        Payment.objects.filter(status=Payment.Status.SUCCEEDED, succeeded_at__gte=since)
        .select_related("organization")
        .order_by("-succeeded_at", "-pk")[:MAX_ROWS]
    )
    client = _stripe()
    intents = _fetch(
        lambda params: client.v1.payment_intents.list(params=params),
        client.v1.payment_intents.retrieve,
        (payment.stripe_payment_intent_id for payment in payments),
        created_since,
    )
    findings = []
    for payment in payments:
        label = f"Payment {payment.stripe_payment_intent_id} ({payment.organization})"
        ours = f"paid {Money(payment.amount, payment.currency)}"
        if payment.stripe_payment_intent_id not in intents:
            continue  # beyond what one page load asks Stripe for
        intent = intents[payment.stripe_payment_intent_id]
        if intent is None:
            findings.append(
                Finding(
                    "payment",
                    payment.pk,
                    label,
                    False,
                    ours,
                    "no such PaymentIntent",
                    "Recorded as paid, but Stripe has no PaymentIntent with this id: the money may never have "
                    "arrived. Check the Stripe dashboard and the payment's webhook events before paying anyone out.",
                )
            )
            continue
        currency = str(intent.get("currency") or "").upper()
        received = intent.get("amount_received") or 0
        theirs = f"{intent.get('status')}, received {_money(received, currency or payment.currency)}"
        expected = to_minor_units(payment.amount, payment.currency)
        if intent.get("status") != "succeeded":
            ok, explanation = (
                False,
                f"Recorded as paid, but Stripe says the PaymentIntent is {intent.get('status')}: the ledger counts "
                "money Stripe does not have.",
            )
        elif received != expected or currency != payment.currency:
            ok, explanation = (
                False,
                f"Stripe received {_money(received, currency or payment.currency)}, the ledger recorded "
                f"{Money(payment.amount, payment.currency)}.",
            )
        else:
            ok, explanation = True, "Stripe received the amount the ledger recorded."
        findings.append(Finding("payment", payment.pk, label, ok, ours, theirs, explanation))
    return findings


def _payout_label(payout: Payout) -> str:
    return f"Payout {payout.pk} to {payout.user or payout.organization}"


def _paid_payouts(since: Any, created_since: int) -> list[Finding]:
    payouts = list(
        Payout.objects.filter(status=Payout.Status.PAID, paid_at__gte=since)
        .select_related("user", "organization", "payout_account")
        .order_by("-paid_at", "-pk")[:MAX_ROWS]
    )
    client = _stripe()
    transfers = _fetch(
        lambda params: client.v1.transfers.list(params=params),
        client.v1.transfers.retrieve,
        (payout.stripe_transfer_id for payout in payouts if payout.stripe_transfer_id),
        created_since,
    )
    findings = []
    for payout in payouts:
        ours = f"paid {Money(payout.amount, payout.currency)} to {payout.payout_account.stripe_account_id}"
        if not payout.stripe_transfer_id:
            findings.append(
                Finding(
                    "payout",
                    payout.pk,
                    _payout_label(payout),
                    False,
                    ours,
                    "—",
                    "Marked paid without a Stripe transfer id: nothing shows the payee was paid.",
                )
            )
            continue
        if payout.stripe_transfer_id not in transfers:
            continue
        transfer = transfers[payout.stripe_transfer_id]
        if transfer is None:
            findings.append(
                Finding(
                    "payout",
                    payout.pk,
                    _payout_label(payout),
                    False,
                    f"{ours} (transfer {payout.stripe_transfer_id})",
                    "no such transfer",
                    f"Marked paid, but Stripe has no transfer {payout.stripe_transfer_id}: the payee was probably not "
                    "paid although the ledger took the money off their balance. Check the Stripe dashboard.",
                )
            )
            continue
        currency = str(transfer.get("currency") or "").upper()
        amount = transfer.get("amount") or 0
        reversed_amount = transfer.get("amount_reversed") or 0
        destination = transfer.get("destination")
        theirs = f"transfer {transfer.get('id')}: {_money(amount, currency or payout.currency)} to {destination}"
        problems = []
        if amount != to_minor_units(payout.amount, payout.currency) or currency != payout.currency:
            problems.append(
                f"Stripe sent {_money(amount, currency or payout.currency)}, the ledger paid out "
                f"{Money(payout.amount, payout.currency)}."
            )
        if destination != payout.payout_account.stripe_account_id:
            problems.append(
                f"The transfer went to {destination}, not to the payee's account "
                f"{payout.payout_account.stripe_account_id}."
            )
        if reversed_amount:
            problems.append(
                f"Stripe reversed {_money(reversed_amount, currency or payout.currency)} of the transfer; the ledger "
                "still counts it as paid."
            )
        findings.append(
            Finding(
                "payout",
                payout.pk,
                _payout_label(payout),
                not problems,
                ours,
                theirs,
                " ".join(problems) or "Stripe sent the amount the ledger paid out, to the payee's account.",
            )
        )
    return findings


def _open_payouts() -> list[Finding]:
    payouts = list(
        Payout.objects.filter(status__in=[Payout.Status.PENDING, Payout.Status.FAILED])
        .select_related("user", "organization")
        .order_by("-created_at", "-pk")[:MAX_ROWS]
    )
    client = _stripe()
    findings = []
    for payout in payouts:
        listed = client.v1.transfers.list(params={"transfer_group": f"payout-{payout.pk}", "limit": 10})
        made = [
            transfer
            for transfer in (item.to_dict() for item in listed.data)
            if (transfer.get("metadata") or {}).get("payout_id") == str(payout.pk)
        ]
        ours = f"{payout.get_status_display().lower()}, {Money(payout.amount, payout.currency)}"
        if not made:
            findings.append(
                Finding(
                    "payout", payout.pk, _payout_label(payout), True, ours, "no transfer", "Stripe made no transfer."
                )
            )
            continue
        transfer = made[0]
        transfer_id = transfer.get("id")
        theirs = f"transfer {transfer_id}: {_money(transfer.get('amount'), str(transfer.get('currency')).upper())}"
        if payout.status == Payout.Status.FAILED:
            explanation = (
                f"Failed here, but Stripe made transfer {transfer_id}: the payee was paid. Do not retry it (a retry "
                "would pay again); the transfer.created webhook event can complete it (process it again)."
            )
        else:
            explanation = (
                f"Stripe made transfer {transfer_id}, but the payout is still queued: its transfer.created webhook "
                "event has not been processed yet. Process that event again if this lasts."
            )
        findings.append(Finding("payout", payout.pk, _payout_label(payout), False, ours, theirs, explanation))
    return findings


def _totals() -> list[CurrencyTotal]:
    clearing: dict[str, Decimal] = {}
    for currency, balance in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.PROCESSOR_CLEARING).values_list(
        "currency", "balance"
    ):
        clearing[currency] = clearing.get(currency, Decimal(0)) + balance
    remote = _stripe().v1.balance.retrieve()
    available = {str(m.currency).upper(): int(m.amount) for m in remote.available}
    pending = {str(m.currency).upper(): int(m.amount) for m in remote.pending}
    return [
        CurrencyTotal(
            currency=currency,
            clearing=clearing.get(currency, Decimal(0)),
            stripe_available=from_minor_units(available.get(currency, 0), currency),
            stripe_pending=from_minor_units(pending.get(currency, 0), currency),
        )
        for currency in sorted(set(clearing) | set(available) | set(pending))
    ]


def _ledger_checks(result: Reconciliation) -> None:
    """Two aggregates in SQL, whatever the number of lines."""
    unbalanced = (
        LedgerLine.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("transaction_id", "currency")
    )
    result.unbalanced = [
        UnbalancedTransaction(row["transaction_id"], row["currency"], row["total"]) for row in unbalanced[:MAX_ROWS]
    ]
    result.transactions_checked = LedgerTransaction.objects.count()
    lines_total = Coalesce(Sum("lines__amount"), Value(Decimal(0)), output_field=DecimalField())
    accounts: QuerySet[LedgerAccount] = LedgerAccount.objects.annotate(
        from_lines=Case(
            When(is_debit_normal=True, then=lines_total),
            default=-lines_total,
            output_field=DecimalField(),
        )
    )
    result.accounts_checked = LedgerAccount.objects.count()
    result.drifts = [
        BalanceDrift(account, account.from_lines)  # type: ignore[attr-defined]
        for account in accounts.filter(~Q(balance=F("from_lines")))
        .select_related("organization", "user")
        .order_by("pk")[:MAX_ROWS]
    ]


def reconciliation_run(*, days: int = RECENT_DAYS) -> Reconciliation:
    """Compare the ledger with Stripe and with itself; Stripe errors are collected, not raised."""
    result = Reconciliation()
    since = django_timezone.now() - timedelta(days=days)
    created_since = int(since.timestamp()) - 24 * 3600  # a payment or transfer may be created a while before
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("payments", lambda: result.findings.extend(_payments(since, created_since))),
        ("paid payouts", lambda: result.findings.extend(_paid_payouts(since, created_since))),
        ("queued and failed payouts", lambda: result.findings.extend(_open_payouts())),
    ]
    for name, check in checks:
        try:
            check()
        except stripe.StripeError as error:
            result.stripe_errors.append(f"Stripe could not be asked about {name}: {_message(error)}")
    try:
        result.totals = _totals()
    except stripe.StripeError as error:
        result.stripe_errors.append(f"Stripe's balance could not be read: {_message(error)}")
        result.totals = [
            CurrencyTotal(currency, balance, None, None)
            for currency, balance in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.PROCESSOR_CLEARING)
            .order_by("currency")
            .values_list("currency", "balance")
        ]
    _ledger_checks(result)
    result.findings.sort(key=lambda finding: finding.ok)  # mismatches first, each kind in its own order
    return result
