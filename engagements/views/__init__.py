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
from engagements.views.sows import (
    measurement_add,
    measurement_import,
    service_level_remove,
    service_level_set,
    sow_action,
    sow_create,
    sow_detail,
    sow_edit,
    sow_list,
    sow_sla,
    usage_add,
)

__all__ = [
    "contract_action",
    "contract_detail",
    "contract_list",
    "measurement_add",
    "measurement_import",
    "milestone_action",
    "milestone_add",
    "service_level_remove",
    "service_level_set",
    "sow_action",
    "sow_create",
    "sow_detail",
    "sow_edit",
    "sow_list",
    "sow_sla",
    "time_entry_add",
    "time_entry_remove",
    "timesheet_action",
    "usage_add",
]
