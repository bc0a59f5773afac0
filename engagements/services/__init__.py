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
from engagements.services.timesheets import (
    TimeEntryInput,
    time_entry_add,
    time_entry_remove,
    timesheet_approve,
    timesheet_reject,
    timesheet_submit,
    timesheets_auto_approve,
    week_start_of,
)

__all__ = [
    "MilestoneInput",
    "TimeEntryInput",
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
    "time_entry_add",
    "time_entry_remove",
    "timesheet_approve",
    "timesheet_reject",
    "timesheet_submit",
    "timesheets_auto_approve",
    "week_start_of",
]
