"""Engagement writes, one module per area (contracts, milestones; timesheets and SOWs with their issue)."""

from engagements.services.contracts import (
    contract_activate,
    contract_activate_if_ready,
    contract_complete,
    contract_create_from_bid,
    contract_dispute,
    contract_dispute_resolve,
    contract_pause,
    contract_resume,
    contract_terminate,
)
from engagements.services.milestones import (
    MilestoneInput,
    milestone_approve,
    milestone_create,
    milestone_fund,
    milestone_release,
    milestone_request_changes,
    milestone_submit,
)

__all__ = [
    "MilestoneInput",
    "contract_activate",
    "contract_activate_if_ready",
    "contract_complete",
    "contract_create_from_bid",
    "contract_dispute",
    "contract_dispute_resolve",
    "contract_pause",
    "contract_resume",
    "contract_terminate",
    "milestone_approve",
    "milestone_create",
    "milestone_fund",
    "milestone_release",
    "milestone_request_changes",
    "milestone_submit",
]
