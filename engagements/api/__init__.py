"""Partner API of engagements: contracts, milestones, timesheets and time entries, statements of work, their
service levels and SLA measurements.

Views translate: they read the request into a service's input, call the service or selector the pages call, and
write its result out. Input serializers list exactly the fields a caller may set, so anything else in a body
(status, organization, amounts the platform computes) is ignored. Bulk writes (time entries, measurements) run
the one-item service for each item in a single transaction: all are saved, or none, and every item's field errors
come back at its index.

One module per area: `contracts` (with milestones), `timesheets` (with time entries) and `sows` (with service
levels and SLA measurements); `common` holds what they share. The views are re-exported here for
`engagements.api_urls`.
"""

from engagements.api.contracts import (
    ContractDetailApi,
    ContractListApi,
    ContractMilestoneListCreateApi,
    MilestoneApproveApi,
    MilestoneReleaseApi,
    MilestoneRequestChangesApi,
    MilestoneSubmitApi,
)
from engagements.api.sows import (
    ServiceLevelListSetApi,
    SLAMeasurementListRecordApi,
    StatementOfWorkDetailApi,
    StatementOfWorkListCreateApi,
    StatementOfWorkProposeApi,
    StatementOfWorkSignApi,
)
from engagements.api.timesheets import (
    ContractTimesheetListApi,
    TimeEntryBulkCreateApi,
    TimesheetApproveApi,
    TimesheetDetailApi,
    TimesheetRejectApi,
    TimesheetSubmitApi,
)

__all__ = [
    "ContractDetailApi",
    "ContractListApi",
    "ContractMilestoneListCreateApi",
    "ContractTimesheetListApi",
    "MilestoneApproveApi",
    "MilestoneReleaseApi",
    "MilestoneRequestChangesApi",
    "MilestoneSubmitApi",
    "SLAMeasurementListRecordApi",
    "ServiceLevelListSetApi",
    "StatementOfWorkDetailApi",
    "StatementOfWorkListCreateApi",
    "StatementOfWorkProposeApi",
    "StatementOfWorkSignApi",
    "TimeEntryBulkCreateApi",
    "TimesheetApproveApi",
    "TimesheetDetailApi",
    "TimesheetRejectApi",
    "TimesheetSubmitApi",
]
