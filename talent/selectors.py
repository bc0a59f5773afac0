"""Reads for talent, scoped to who asks.

- A freelancer profile is seen by its owner always; by anyone signed in when public; by members of client
  organisations when "clients"; by nobody else when private. Otherwise TalentProfile.DoesNotExist (→ 404).
- A vendor firm's page is seen by anyone signed in; its editor by the firm's members (changes: owners/admins).
- A talent pool is seen only by members of the client organisation that owns it; TalentPool.DoesNotExist else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.postgres.search import SearchQuery
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When, prefetch_related_objects

from accounts.models import Membership, Organization
from accounts.models import User as UserModel
from talent.models import (
    PortfolioItem,
    ProfileSkill,
    RateCardEntry,
    Skill,
    TalentPool,
    TalentPoolMember,
    TalentProfile,
    VendorCapability,
    VendorProfile,
    VendorTeamMember,
)

if TYPE_CHECKING:
    from accounts.models import User


# Junior → lead, for listing a rate card in a sensible order.
SENIORITY_RANK = Case(
    *[When(seniority=value, then=Value(rank)) for rank, value in enumerate(RateCardEntry.Seniority.values)],
    default=Value(99),
)


# --- freelancer profiles ---------------------------------------------------------------------------------------
def talent_profile_exists(*, user: User) -> bool:
    return TalentProfile.objects.filter(user=user).exists()


def talent_profile_for_user(*, user: User) -> TalentProfile | None:
    """The user's own profile with its skills prefetched, or None if they are not a freelancer."""
    return (
        TalentProfile.objects.filter(user=user).select_related("user").prefetch_related("profile_skills__skill").first()
    )


def _profile_detail_queryset() -> QuerySet[TalentProfile]:
    return TalentProfile.objects.select_related("user").prefetch_related(
        Prefetch(
            "profile_skills", queryset=ProfileSkill.objects.select_related("skill").order_by("-level", "skill__name")
        ),
        Prefetch("portfolio_items", queryset=PortfolioItem.objects.order_by("-created_at", "-id")),
    )


def talent_profile_for_editor(*, user: User) -> TalentProfile:
    """The user's own profile with skills and portfolio; TalentProfile.DoesNotExist if they aren't a freelancer."""
    if not user.is_authenticated:
        raise TalentProfile.DoesNotExist
    return _profile_detail_queryset().get(user=user)


def talent_profile_visibility_filter(*, viewer: User) -> Q:
    """Profiles `viewer` may see: their own, public ones, "clients" ones when they belong to a client firm, and
    any profile of a freelancer who bid on a gig of the viewer's organisation ("only clients I bid for")."""
    from marketplace.models import Bid

    if not viewer.is_authenticated:
        return Q(pk__in=[])
    is_client = Exists(Membership.objects.filter(user=viewer, organization__kind=Organization.Kind.CLIENT))
    bid_to_viewer = Exists(
        Bid.objects.filter(
            freelancer_id=OuterRef("user_id"),
            gig__organization_id__in=Membership.objects.filter(user=viewer).values("organization_id"),
        )
    )
    return (
        Q(user=viewer)
        | Q(visibility=TalentProfile.Visibility.PUBLIC)
        | (Q(visibility=TalentProfile.Visibility.CLIENTS) & Q(is_client))
        | Q(bid_to_viewer)
    )


def talent_profile_get_for_viewer(*, user_id: int, viewer: User) -> TalentProfile:
    """The freelancer's public profile if `viewer` may see it; TalentProfile.DoesNotExist (→ 404) otherwise."""
    return (
        _profile_detail_queryset()
        .filter(talent_profile_visibility_filter(viewer=viewer), user__is_active=True)
        .get(user_id=user_id)
    )


def talent_profile_search(
    *,
    viewer: User,
    query: str = "",
    skill_ids: list[int] | None = None,
    country: str | None = None,
    currency: str | None = None,
    min_rate: Decimal | None = None,
    max_rate: Decimal | None = None,
) -> QuerySet[TalentProfile]:
    """Active freelancers' profiles `viewer` may see, matching the text `query` (headline and bio, or a part of
    the name), having every skill in `skill_ids`, and the country, currency and hourly-rate filters; newest first,
    with the skills prefetched (a fixed number of queries)."""
    profiles = TalentProfile.objects.filter(talent_profile_visibility_filter(viewer=viewer), user__is_active=True)
    query = (query or "").strip()
    if query:
        search = SearchQuery(query, search_type="websearch", config="english")
        profiles = profiles.filter(Q(search_vector=search) | Q(user__full_name__icontains=query))
    if skill_ids:
        profiles = profiles.filter(skill_ids__contains=sorted(set(skill_ids)))
    if country:
        profiles = profiles.filter(country=country.upper())
    if currency:
        profiles = profiles.filter(currency=currency.upper())
    if min_rate is not None:
        profiles = profiles.filter(hourly_rate__gte=min_rate)
    if max_rate is not None:
        profiles = profiles.filter(hourly_rate__lte=max_rate)
    return (
        profiles.select_related("user")
        .prefetch_related(
            Prefetch(
                "profile_skills",
                queryset=ProfileSkill.objects.select_related("skill").order_by("-level", "skill__name"),
            )
        )
        .order_by("-id")
    )


# --- skills ----------------------------------------------------------------------------------------------------
def skill_list() -> QuerySet[Skill]:
    """The whole taxonomy (a few hundred rows), for pickers."""
    return Skill.objects.only("id", "name", "category").order_by("name")


def skill_index() -> dict[str, Skill]:
    """Every skill by its case-folded name and synonyms, to turn what people type into skills (names win)."""
    index: dict[str, Skill] = {}
    skills = list(Skill.objects.only("id", "name", "category", "synonyms"))
    for skill in skills:
        for synonym in skill.synonyms:
            index.setdefault(synonym.strip().casefold(), skill)
    for skill in skills:
        index[skill.name.strip().casefold()] = skill
    return index


# --- vendors ---------------------------------------------------------------------------------------------------
def vendor_organization_get(*, organization_id: int, user: User) -> Organization:
    """A vendor firm, for anyone signed in, with its profile (if any) joined; Organization.DoesNotExist else."""
    if not user.is_authenticated:
        raise Organization.DoesNotExist
    return Organization.objects.select_related("vendor_profile").get(pk=organization_id, kind=Organization.Kind.VENDOR)


def vendor_membership_get(*, organization_id: int, user: User) -> Membership | None:
    """`user`'s membership of the vendor firm, or None."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organization")
        .filter(organization_id=organization_id, organization__kind=Organization.Kind.VENDOR, user=user)
        .first()
    )


def vendor_profile_details(*, vendor: VendorProfile, active_team_only: bool) -> VendorProfile:
    """Load the profile's capabilities, certifications, rate card and team in a fixed number of queries."""
    team = VendorTeamMember.objects.select_related("rate_card_entry").prefetch_related(
        Prefetch("skills", queryset=Skill.objects.order_by("name"))
    )
    if active_team_only:
        team = team.filter(is_active=True)
    prefetch_related_objects(
        [vendor],
        Prefetch(
            "vendor_capabilities",
            queryset=VendorCapability.objects.select_related("skill").order_by("-level", "skill__name"),
        ),
        "certifications",
        Prefetch(
            "rate_card",
            queryset=RateCardEntry.objects.annotate(
                team_size=Count("team_members"), seniority_rank=SENIORITY_RANK
            ).order_by("role", "seniority_rank", "unit"),
        ),
        Prefetch("team_members", queryset=team),
    )
    return vendor


def vendor_team_member_get(*, vendor: VendorProfile, team_member_id: int) -> VendorTeamMember:
    return (
        VendorTeamMember.objects.select_related("rate_card_entry")
        .prefetch_related("skills")
        .get(pk=team_member_id, vendor=vendor)
    )


def rate_card_entry_get(*, vendor: VendorProfile, entry_id: int) -> RateCardEntry:
    return RateCardEntry.objects.get(pk=entry_id, vendor=vendor)


def vendor_skill_choices(*, vendor: VendorProfile, include_ids: list[int] | None = None) -> QuerySet[Skill]:
    """Skills a team member can be tagged with: the firm's capabilities (plus skills they already have)."""
    return Skill.objects.filter(Q(vendor_capabilities__vendor=vendor) | Q(pk__in=include_ids or [])).distinct()


def vendor_organization_search(*, query: str, limit: int = 6) -> list[Organization]:
    """Vendor firms matching an id, an exact name, or else a part of a name (best first)."""
    query = (query or "").strip()
    if not query:
        return []
    vendors = Organization.objects.filter(kind=Organization.Kind.VENDOR)
    if query.isdigit():
        return list(vendors.filter(pk=int(query)))
    exact = list(vendors.filter(name__iexact=query)[:limit])
    if exact:
        return exact
    return list(vendors.filter(name__icontains=query).order_by("name")[:limit])


def vendor_search(
    *,
    user: User,
    query: str = "",
    skill_ids: list[int] | None = None,
    country: str | None = None,
    serves_country: str | None = None,
) -> QuerySet[Organization]:
    """Vendor firms (for anyone signed in) whose name, headline or description contains `query`, with every
    capability in `skill_ids`, based in `country` and serving `serves_country`; newest first, each with its
    profile (None until the firm fills it in) and capabilities (a fixed number of queries)."""
    if not user.is_authenticated:
        return Organization.objects.none()
    vendors = Organization.objects.filter(kind=Organization.Kind.VENDOR)
    query = (query or "").strip()
    if query:
        vendors = vendors.filter(
            Q(name__icontains=query)
            | Q(vendor_profile__headline__icontains=query)
            | Q(vendor_profile__description__icontains=query)
        )
    for skill_id in sorted(set(skill_ids or [])):
        vendors = vendors.filter(
            Exists(VendorCapability.objects.filter(vendor__organization_id=OuterRef("pk"), skill_id=skill_id))
        )
    if country:
        vendors = vendors.filter(country=country.upper())
    if serves_country:
        vendors = vendors.filter(vendor_profile__countries_served__contains=[serves_country.upper()])
    return (
        vendors.select_related("vendor_profile")
        .prefetch_related(
            Prefetch(
                "vendor_profile__vendor_capabilities",
                queryset=VendorCapability.objects.select_related("skill").order_by("-level", "skill__name"),
            )
        )
        .order_by("-id")
    )


def vendor_name_list(*, limit: int = 500) -> list[str]:
    return list(
        Organization.objects.filter(kind=Organization.Kind.VENDOR)
        .order_by("name")
        .values_list("name", flat=True)[:limit]
    )


def freelancer_get_by_email(*, email: str) -> User | None:
    """The active freelancer with this email (case-insensitive), or None."""
    email = (email or "").strip()
    if not email:
        return None
    return UserModel.objects.filter(email__iexact=email, is_active=True, talent_profile__isnull=False).first()


# --- talent pools ----------------------------------------------------------------------------------------------
def client_organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(kind=Organization.Kind.CLIENT, memberships__user=user).order_by("name")


def _pools_for_user(user: User) -> QuerySet[TalentPool]:
    if not user.is_authenticated:
        return TalentPool.objects.none()
    return TalentPool.objects.filter(
        organization__in=Membership.objects.filter(user=user, organization__kind=Organization.Kind.CLIENT).values(
            "organization_id"
        )
    )


def _with_counts(pools: QuerySet[TalentPool]) -> QuerySet[TalentPool]:
    return pools.annotate(
        freelancer_count=Count("members", filter=Q(members__freelancer__isnull=False)),
        vendor_count=Count("members", filter=Q(members__vendor__isnull=False)),
    )


def talent_pool_list_for_user(*, user: User) -> QuerySet[TalentPool]:
    """Pools of every client organisation `user` belongs to, with member counts, in one query."""
    return _with_counts(_pools_for_user(user)).select_related("organization").order_by("organization__name", "name")


def talent_pool_get(*, pool_id: int, user: User) -> TalentPool:
    """The pool if `user` belongs to its client organisation; TalentPool.DoesNotExist (→ 404) otherwise."""
    return _with_counts(_pools_for_user(user)).select_related("organization").get(pk=pool_id)


def talent_pool_members(*, pool_id: int, user: User) -> QuerySet[TalentPoolMember]:
    """The pool's members, newest first, with what the pool page shows of each (a fixed number of queries)."""
    pool = _pools_for_user(user).filter(pk=pool_id)
    return (
        TalentPoolMember.objects.filter(pool__in=pool)
        .select_related("freelancer__talent_profile", "vendor__vendor_profile", "added_by")
        .prefetch_related(
            Prefetch(
                "freelancer__talent_profile__profile_skills",
                queryset=ProfileSkill.objects.select_related("skill").order_by("-level", "skill__name"),
            )
        )
        .order_by("-created_at", "-id")
    )


def talent_pool_member_get(*, pool_id: int, member_id: int, user: User) -> TalentPoolMember:
    return (
        TalentPoolMember.objects.filter(pool__in=_pools_for_user(user).filter(pk=pool_id))
        .select_related("pool", "freelancer", "vendor")
        .get(pk=member_id)
    )


def talent_pool_member_ids(*, pool_id: int) -> tuple[list[int], list[int]]:
    """(freelancer user ids, vendor organisation ids) in the pool, for system use such as pool-only gigs.

    Not scoped to a user: callers decide who may act on the result."""
    rows = TalentPoolMember.objects.filter(pool_id=pool_id).values_list("freelancer_id", "vendor_id")
    freelancer_ids = sorted(freelancer_id for freelancer_id, _ in rows if freelancer_id is not None)
    vendor_ids = sorted(vendor_id for _, vendor_id in rows if vendor_id is not None)
    return freelancer_ids, vendor_ids
