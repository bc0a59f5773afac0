"""The compliance gate as the other apps see it: engagements and billing ask here whether an action may happen;
compliance decides (compliance.gate) and answers with one sentence per unmet requirement. Also the reads the
partner API makes: whose checklist a caller sees, and the requirement catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Min, QuerySet
from django.db.models.functions import Coalesce

from compliance.gate import (
    Party,
    checklist_for,
    contract_activation_blockers,
    payout_blockers,
    sow_activation_blockers,
)
from compliance.models import Requirement

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "ReviewQueueSummary",
    "checklist_for",
    "compliance_party_for",
    "compliance_review_queue_summaries",
    "contract_activation_blockers",
    "payout_blockers",
    "requirement_list",
    "sow_activation_blockers",
]


def compliance_party_for(*, user: User, organization_id: int | None) -> Party:
    """Whose checklist `user` sees: the vendor firm `organization_id` (its owners and admins only), or, with no
    organisation, the user as a freelancer. ApplicationError (403) saying who has a checklist otherwise."""
    from accounts.models import Membership, Organization
    from accounts.selectors import user_is_freelancer
    from core.errors import ApplicationError

    if organization_id is not None:
        membership = (
            Membership.objects.select_related("organization")
            .filter(user=user, organization_id=organization_id, organization__kind=Organization.Kind.VENDOR)
            .first()
        )
        if membership is not None and membership.can_manage:
            return Party(organization=membership.organization)
        if membership is not None:
            message = "Only your firm's owners and admins manage its compliance documents."
        else:
            message = "Compliance checklists are for freelancers and vendor firms; this organisation is a client."
        raise ApplicationError(message, code="no_compliance_party", status=403)
    if user_is_freelancer(user=user):
        return Party(user=user)
    raise ApplicationError(
        "Compliance checklists are for freelancers and vendor firms. To work as a freelancer, create your "
        "freelancer profile first.",
        code="no_compliance_party",
        status=403,
    )


def requirement_list() -> QuerySet[Requirement]:
    """The active requirement catalogue (what may be asked of freelancers and vendor firms, and when)."""
    return Requirement.objects.filter(is_active=True)


# --- ops overview: the review queues, counted -------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewQueueSummary:
    """How many items wait in one ops review queue, and since when the oldest has waited."""

    count: int
    oldest_at: datetime | None


REVIEW_QUEUE_PERMISSIONS = {
    "documents": "compliance.view_compliancedocument",
    "screening_hits": "compliance.view_screeninghit",
    "assessments": "compliance.view_classificationassessment",
    "erasures": "compliance.view_erasurerequest",
}


def compliance_review_queue_summaries(*, user: Any) -> dict[str, ReviewQueueSummary]:
    """The queues ops work in the admin that `user` may see (reviewers see all; other staff those whose model
    they may view; nobody else any) — documents waiting for review, open screening hits, classification
    assessments waiting for sign-off, erasure requests to confirm — each counted in PostgreSQL (one aggregate
    query per queue, whatever their size). Keys: "documents", "screening_hits", "assessments", "erasures".
    A document appealed after a rejection waits since its appeal."""
    from compliance.models import ClassificationAssessment, ComplianceDocument, ErasureRequest, ScreeningHit

    if not user.is_staff:
        return {}
    reviewer = user.has_perm("compliance.review_compliance")
    visible = {key for key, permission in REVIEW_QUEUE_PERMISSIONS.items() if reviewer or user.has_perm(permission)}
    waiting = {  # each queue's waiting items and since when each has waited
        "documents": (
            ComplianceDocument.objects.filter(status=ComplianceDocument.Status.SUBMITTED),
            Coalesce("appealed_at", "created_at"),
        ),
        "screening_hits": (ScreeningHit.objects.filter(status=ScreeningHit.Status.PENDING), F("created_at")),
        "assessments": (
            ClassificationAssessment.objects.filter(status=ClassificationAssessment.Status.PENDING),
            F("created_at"),
        ),
        "erasures": (ErasureRequest.objects.filter(status=ErasureRequest.Status.REQUESTED), F("requested_at")),
    }
    summaries = {}
    for key, (items, since) in waiting.items():
        if key in visible:
            row = items.aggregate(count=Count("id"), oldest_at=Min(since))
            summaries[key] = ReviewQueueSummary(count=row["count"], oldest_at=row["oldest_at"])
    return summaries
