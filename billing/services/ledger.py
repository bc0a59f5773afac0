"""Posting to the double-entry ledger. Every money movement in the product is one `ledger_post` call: it checks
the movement (balanced per currency, amounts in the currency's minor unit, no account driven below zero that
must not be) and says what is wrong if not; the database triggers enforce the same rules underneath. Posting is
idempotent by `reference`: the same movement posted twice is stored once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from billing.models import LedgerAccount, LedgerLine, LedgerTransaction
from core.errors import ApplicationError
from core.money import quantize

if TYPE_CHECKING:
    from accounts.models import Organization, User

Kind = LedgerAccount.Kind


@dataclass(frozen=True)
class LedgerEntry:
    """`amount` of money into (debit, positive) or out of (credit, negative) `account`."""

    account: LedgerAccount
    amount: Decimal


def ledger_account(
    *, kind: str, currency: str, organization: Organization | None = None, user: User | None = None
) -> LedgerAccount:
    """The account of `kind` for this owner and currency, created on first use (race-free: the unique
    constraint decides, and the loser reads the winner's row)."""
    organization_id = organization.pk if organization is not None else None
    user_id = user.pk if user is not None else None
    lookup = {"kind": kind, "currency": currency, "organization_id": organization_id, "user_id": user_id}
    account = LedgerAccount.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(
                **lookup,
                is_debit_normal=kind in LedgerAccount.DEBIT_NORMAL,
                may_go_negative=kind in LedgerAccount.MAY_GO_NEGATIVE,
            )
    except IntegrityError:
        return LedgerAccount.objects.get(**lookup)


def _normal(account: LedgerAccount, amount: Decimal) -> Decimal:
    return amount if account.is_debit_normal else -amount


@transaction.atomic
def ledger_post(
    *,
    kind: str,
    reference: str,
    description: str,
    entries: Sequence[LedgerEntry],
    organization: Organization | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, or return the one already posted under `reference`."""
    existing = LedgerTransaction.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    merged: dict[int, Decimal] = defaultdict(Decimal)
    accounts = {entry.account.pk: entry.account for entry in entries}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if entry.amount != quantize(entry.amount, entry.account.currency):
            raise ApplicationError(f"{entry.amount} is finer than the {entry.account.currency} minor unit.")
        merged[entry.account.pk] += entry.amount
        totals[entry.account.currency] += entry.amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise ApplicationError(f"A ledger transaction must balance; it is off by {unbalanced}.", code="unbalanced")
    lines = {account_id: amount for account_id, amount in merged.items() if amount != 0}
    if not lines:
        raise ApplicationError("A ledger transaction needs at least one non-zero movement.", code="empty")
    # Lock the accounts in id order (every poster does), then check nothing goes below zero that may not.
    locked = {a.pk: a for a in LedgerAccount.objects.select_for_update().filter(pk__in=lines).order_by("pk")}
    for account_id, amount in lines.items():
        account = locked[account_id]
        if not account.may_go_negative and account.balance + _normal(account, amount) < 0:
            raise ApplicationError(
                f"Not enough in {account.get_kind_display().lower()}: it holds {account.balance} "
                f"{account.currency}, and this needs {-_normal(account, amount)}.",
                code="insufficient_balance",
                status=409,
            )
    posted = LedgerTransaction.objects.create(
        kind=kind, reference=reference, description=description[:300], organization=organization, reverses=reverses
    )
    LedgerLine.objects.bulk_create(
        LedgerLine(transaction=posted, account_id=account_id, amount=amount, currency=accounts[account_id].currency)
        for account_id, amount in sorted(lines.items())
    )
    return posted


@transaction.atomic
def ledger_reverse(*, transaction_id: int, reference: str, description: str) -> LedgerTransaction:
    """Undo a posted transaction with its mirror image (the original stays; the ledger is append-only)."""
    original = LedgerTransaction.objects.prefetch_related("lines__account").get(pk=transaction_id)
    if LedgerTransaction.objects.filter(reverses=original).exclude(reference=reference).exists():
        raise ApplicationError("This ledger transaction has already been reversed.", status=409)
    return ledger_post(
        kind=LedgerTransaction.Kind.REVERSAL,
        reference=reference,
        description=description,
        organization=original.organization,
        reverses=original,
        entries=[LedgerEntry(account=line.account, amount=-line.amount) for line in original.lines.all()],
    )
