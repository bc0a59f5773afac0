"""Billing writes. The ledger, invoices, Stripe payments and payouts arrive with the billing issue.

PLACEHOLDERS: until then, funding and releasing a milestone only record what happened (an audit event) so the
engagement lifecycle works end to end; no money moves and nothing is owed. The billing issue replaces these two
functions with escrow postings in the double-entry ledger (same names, same arguments).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from core.services import audit_record

if TYPE_CHECKING:
    from accounts.models import User
    from engagements.models import Milestone, SLAEvaluation


def escrow_fund_placeholder(*, milestone: Milestone, by: User) -> None:
    """PLACEHOLDER for funding a milestone into escrow: records the event only."""
    audit_record(
        actor=by,
        action="billing.escrow_funded.placeholder",
        target=milestone,
        organization=milestone.contract.organization,
        data={"amount": str(milestone.amount), "currency": milestone.currency},
    )


def escrow_release_placeholder(*, milestone: Milestone, amount: Decimal, by: User) -> None:
    """PLACEHOLDER for releasing escrow to the worker's payable balance: records the event only."""
    audit_record(
        actor=by,
        action="billing.escrow_released.placeholder",
        target=milestone,
        organization=milestone.contract.organization,
        data={"amount": str(amount), "currency": milestone.currency},
    )


def sla_adjustments_placeholder(*, evaluation: SLAEvaluation) -> None:
    """PLACEHOLDER for putting a month's SLA credits and outcome bonuses on the SOW's monthly invoice: records the
    hand-over only. The billing issue turns the evaluation into invoice lines (same name, same arguments)."""
    audit_record(
        actor=None,
        action="billing.sla_adjustments_received.placeholder",
        target=evaluation,
        organization=evaluation.sow.organization,
        data={
            "credit": str(evaluation.credit_total),
            "bonus": str(evaluation.bonus_total),
            "currency": evaluation.currency,
        },
    )
