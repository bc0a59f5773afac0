from __future__ import annotations

from typing import TYPE_CHECKING

from talent.models import TalentProfile

if TYPE_CHECKING:
    from accounts.models import User


def talent_profile_exists(*, user: User) -> bool:
    return TalentProfile.objects.filter(user=user).exists()


def talent_profile_for_user(*, user: User) -> TalentProfile | None:
    """The user's own profile with its skills prefetched, or None if they are not a freelancer."""
    return (
        TalentProfile.objects.filter(user=user).select_related("user").prefetch_related("profile_skills__skill").first()
    )
