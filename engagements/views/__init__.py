"""Engagement pages: contracts (milestones, timesheets) and statements of work (service levels, SLAs)."""

from engagements.views.contracts import (
    contract_action,
    contract_detail,
    contract_list,
    milestone_action,
    milestone_add,
    time_entry_add,
    time_entry_remove,
    timesheet_action,
)

__all__ = [
    "contract_action",
    "contract_detail",
    "contract_list",
    "milestone_action",
    "milestone_add",
    "time_entry_add",
    "time_entry_remove",
    "timesheet_action",
]
