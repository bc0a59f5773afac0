"""The compliance gate as the other apps see it: engagements and billing ask here whether an action may happen;
compliance decides (compliance.gate) and answers with one sentence per unmet requirement."""

from compliance.gate import (
    checklist_for,
    contract_activation_blockers,
    payout_blockers,
    sow_activation_blockers,
)

__all__ = ["checklist_for", "contract_activation_blockers", "payout_blockers", "sow_activation_blockers"]
