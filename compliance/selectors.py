"""The compliance gate: engagements and billing ask here whether an action may happen; compliance decides.

Until the compliance issue lands its requirement catalogue, documents and checks, no requirement exists, so
nothing is blocked: these functions return empty lists. Their callers already show every returned reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import Organization, User
    from engagements.models import Contract, StatementOfWork


def contract_activation_blockers(*, contract: Contract) -> list[str]:
    """Why this contract may not start yet: one message per unmet requirement (none until compliance lands)."""
    return []


def sow_activation_blockers(*, sow: StatementOfWork) -> list[str]:
    """Why this statement of work may not start yet (none until compliance lands)."""
    return []


def payout_blockers(*, user: User | None, organization: Organization | None) -> list[str]:
    """Why money may not be paid out to this person or firm yet (none until compliance lands)."""
    return []
