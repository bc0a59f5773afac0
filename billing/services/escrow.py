"""Escrow for fixed-price milestones: the client's payment puts the milestone's amount in escrow (recorded by
billing.services.payments when Stripe confirms it); releasing moves it, in full or in parts, to the worker's
payable balance, less the worker's service fee."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from billing.models import LedgerAccount, LedgerTransaction
from billing.services.fees import fees_for
from billing.services.invoices import Issuer, payable_account
from billing.services.ledger import LedgerEntry, ledger_account, ledger_post
from billing.services.payments import refund_pending_for_milestone
from core.errors import ApplicationError
from core.money import quantize

if TYPE_CHECKING:
    from accounts.models import User
    from engagements.models import Milestone

Kind = LedgerAccount.Kind


def escrow_release(*, milestone: Milestone, amount: Decimal, by: User) -> LedgerTransaction:
    """Move `amount` of the milestone's escrow to the worker (the caller holds the milestone's row lock and has
    not yet added `amount` to `released_amount`)."""
    if refund_pending_for_milestone(milestone_id=milestone.pk):
        raise ApplicationError("A refund of this milestone is in progress; wait for it before releasing.", status=409)
    contract = milestone.contract
    currency = milestone.currency
    fees = fees_for(client=contract.organization, vendor=contract.vendor)
    # The service fee on everything released so far, rounded once, less what earlier parts took: a milestone
    # released in parts costs the worker exactly the fee on its whole amount (as its receipt says), where
    # rounding each part on its own could take a cent more or less per part.
    before, after = milestone.released_amount, milestone.released_amount + amount
    worker_fee = quantize(after * fees.worker_fee_pct / 100, currency) - quantize(
        before * fees.worker_fee_pct / 100, currency
    )
    issuer = Issuer(user=contract.freelancer, organization=contract.vendor)
    return ledger_post(
        kind=LedgerTransaction.Kind.ESCROW_RELEASED,
        reference=f"milestone:{milestone.pk}:release:{milestone.released_amount}",
        description=f"Milestone “{milestone.title}”: {amount} {currency} released",
        organization=contract.organization,
        entries=[
            LedgerEntry(
                ledger_account(kind=Kind.CLIENT_ESCROW, currency=currency, organization=contract.organization), amount
            ),
            LedgerEntry(payable_account(issuer=issuer, currency=currency), -(amount - worker_fee)),
            LedgerEntry(ledger_account(kind=Kind.PLATFORM_REVENUE, currency=currency), -worker_fee),
        ],
    )
