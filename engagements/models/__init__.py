"""Engagements: contracts (gig work) and statements of work (vendor outsourcing with service levels)."""

from engagements.models.contracts import Contract, Milestone, TimeEntry, Timesheet
from engagements.models.sows import (
    ServiceLevel,
    SLABreach,
    SLAEvaluation,
    SLAMeasurement,
    SOWUsage,
    StatementOfWork,
)

__all__ = [
    "Contract",
    "Milestone",
    "SLABreach",
    "SLAEvaluation",
    "SLAMeasurement",
    "SOWUsage",
    "ServiceLevel",
    "StatementOfWork",
    "TimeEntry",
    "Timesheet",
]
