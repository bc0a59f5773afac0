"""Gig reads. Who may see a gig:

- members of the client organisation that owns it: always, drafts included;
- anyone signed in: open, in-progress and completed gigs that are public;
- pool gigs: freelancers in the gig's talent pool and members of vendor firms in it;
- invite-only gigs: invited freelancers and members of invited vendor firms.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.models import Membership
from marketplace.models import Gig, Invitation

if TYPE_CHECKING:
    from accounts.models import User

VISIBLE_TO_OTHERS = (Gig.Status.OPEN, Gig.Status.IN_PROGRESS, Gig.Status.COMPLETED)


def _member_org_ids(user: User, kind: str | None = None) -> QuerySet[Membership, Any]:
    memberships = Membership.objects.filter(user=user)
    if kind:
        memberships = memberships.filter(organization__kind=kind)
    return memberships.values("organization_id")


def gig_visibility_filter(*, user: User) -> Q:
    """A Q expression selecting the gigs `user` may see (subqueries, so rows are never duplicated)."""
    from talent.models import TalentPoolMember

    if not user.is_authenticated:
        return Q(pk__in=[])
    own = Q(organization_id__in=_member_org_ids(user))
    vendor_orgs = _member_org_ids(user, kind="vendor")
    in_pool = Exists(
        TalentPoolMember.objects.filter(pool_id=OuterRef("talent_pool_id")).filter(
            Q(freelancer=user) | Q(vendor_id__in=vendor_orgs)
        )
    )
    invited = Exists(
        Invitation.objects.filter(gig_id=OuterRef("pk")).filter(Q(freelancer=user) | Q(vendor_id__in=vendor_orgs))
    )
    shared = Q(status__in=VISIBLE_TO_OTHERS) & (
        Q(visibility=Gig.Visibility.PUBLIC)
        | (Q(visibility=Gig.Visibility.POOL) & in_pool)
        | (Q(visibility=Gig.Visibility.INVITE) & invited)
    )
    return own | shared


def gig_get(*, gig_id: int, user: User) -> Gig:
    """The gig if `user` may see it; Gig.DoesNotExist (→ 404) otherwise."""
    return (
        Gig.objects.filter(gig_visibility_filter(user=user))
        .select_related("organization", "talent_pool")
        .prefetch_related("gig_skills__skill")
        .get(pk=gig_id)
    )


def gig_get_for_client(*, gig_id: int, user: User) -> Gig:
    """The gig if `user` is a member of its client organisation (to edit, publish, review bids)."""
    return (
        Gig.objects.filter(organization_id__in=_member_org_ids(user))
        .select_related("organization", "talent_pool")
        .prefetch_related("gig_skills__skill")
        .get(pk=gig_id)
    )


def gig_get_for_update(*, gig_id: int, user: User) -> Gig:
    """Lock the client's gig row: concurrent publishes, accepts and cancels queue up behind it."""
    return Gig.objects.select_for_update().get(pk=gig_id, organization_id__in=_member_org_ids(user))


def gig_list_for_client(*, user: User, status: str | None = None) -> QuerySet[Gig]:
    from django.db.models import Count

    gigs = Gig.objects.filter(organization_id__in=_member_org_ids(user))
    if status:
        gigs = gigs.filter(status=status)
    live = Q(bids__status__in=("submitted", "shortlisted", "accepted"))
    return (
        gigs.select_related("organization")
        .annotate(bid_count=Count("bids", filter=live, distinct=True))
        .order_by("-created_at")
    )


def gig_search(
    *,
    user: User,
    query: str = "",
    skill_ids: list[int] | None = None,
    kind: str | None = None,
    min_budget: Decimal | None = None,
    max_budget: Decimal | None = None,
    timezone: str | None = None,
) -> QuerySet[Gig]:
    """Open gigs `user` may see, matching the full-text query (ranked) and the filters."""
    gigs = Gig.objects.filter(gig_visibility_filter(user=user), status=Gig.Status.OPEN)
    if skill_ids:
        gigs = gigs.filter(skill_ids__overlap=list(skill_ids))
    if kind:
        gigs = gigs.filter(kind=kind)
    if min_budget is not None:
        gigs = gigs.filter(Q(budget_amount__gte=min_budget) | Q(hourly_rate_max__gte=min_budget))
    if max_budget is not None:
        gigs = gigs.filter(Q(budget_amount__lte=max_budget) | Q(hourly_rate_min__lte=max_budget))
    if timezone:
        gigs = gigs.filter(timezone=timezone)
    gigs = gigs.select_related("organization").prefetch_related("gig_skills__skill")
    if query.strip():
        search = SearchQuery(query.strip(), search_type="websearch", config="english")
        return (
            gigs.filter(search_vector=search)
            .annotate(rank=SearchRank(F("search_vector"), search))
            .order_by("-rank", "-published_at")
        )
    return gigs.order_by("-published_at", "-id")


# --- client dashboard ---------------------------------------------------------------------------------------------
def gig_list_open_with_bid_counts(*, user: User, organization_id: int, limit: int = 8) -> list[dict[str, Any]]:
    """The organisation's open gigs that take bids (micro-task batches are claimed, not bid on), if `user` belongs
    to it, newest first, at most `limit`: `pk`, `title`, `kind`, `bids_new` (submitted, not yet looked at),
    `bids_shortlisted` and `bids_live` (both, plus accepted). One query."""
    from django.db.models import Count

    rows = (
        Gig.objects.filter(
            organization_id=organization_id,
            organization_id__in=_member_org_ids(user),
            status=Gig.Status.OPEN,
        )
        .exclude(kind=Gig.Kind.MICRO_TASK)
        .annotate(
            bids_new=Count("bids", filter=Q(bids__status="submitted")),
            bids_shortlisted=Count("bids", filter=Q(bids__status="shortlisted")),
            bids_live=Count("bids", filter=Q(bids__status__in=("submitted", "shortlisted", "accepted"))),
        )
        .order_by("-published_at", "-created_at", "-pk")
        .values("pk", "title", "kind", "bids_new", "bids_shortlisted", "bids_live")[:limit]
    )
    return [dict(row) for row in rows]


def gig_pipeline_counts(*, user: User, organization_id: int) -> dict[str, int]:
    """How many of the organisation's gigs are drafts and open, and how many bids on open gigs wait for a look
    (`bids_new`), if `user` belongs to it; zeros otherwise. One query."""
    from django.db.models import Count

    counts = Gig.objects.filter(organization_id=organization_id, organization_id__in=_member_org_ids(user)).aggregate(
        drafts=Count("pk", filter=Q(status=Gig.Status.DRAFT), distinct=True),
        open=Count("pk", filter=Q(status=Gig.Status.OPEN), distinct=True),
        bids_new=Count("bids", filter=Q(status=Gig.Status.OPEN, bids__status="submitted")),
    )
    return {key: value or 0 for key, value in counts.items()}
