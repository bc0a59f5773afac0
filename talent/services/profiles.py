"""Freelancer profiles, their skills and portfolio; the skill taxonomy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from core.countries import COUNTRIES, TIMEZONES_BY_COUNTRY
from core.errors import ApplicationError
from core.services import audit_record
from talent.models import (
    PortfolioItem,
    ProfileSkill,
    Skill,
    TalentProfile,
)
from talent.services.common import (
    MAX_LANGUAGES,
    MAX_PORTFOLIO_ITEMS,
    MAX_PROFILE_SKILLS,
    MAX_TEXT_LENGTH,
    SKILLS_FILE,
    FieldErrors,
    SkillLevel,
    TalentProfileInput,
    _amount,
    _currency,
    _refuse,
    _skill_levels,
    _text,
    _timezone,
    _unique_texts,
)

if TYPE_CHECKING:
    from accounts.models import User


# --- freelancer profile ----------------------------------------------------------------------------------------
@transaction.atomic
def talent_profile_create(*, user: User, country: str = "") -> TalentProfile:
    """The freelancer's (empty) profile, made at sign-up; the time zone defaults to the country's first."""
    zones = TIMEZONES_BY_COUNTRY.get(country.upper(), [])
    profile, created = TalentProfile.objects.get_or_create(
        user=user, defaults={"country": country.upper(), "timezone": zones[0] if zones else "UTC"}
    )
    if created:
        audit_record(actor=user, action="talent_profile.created", target=profile)
    return profile


def _own_profile_for_update(user: User) -> TalentProfile:
    """The user's own profile, row locked; TalentProfile.DoesNotExist (→ 404) for anyone who isn't a freelancer."""
    if not user.is_authenticated:
        raise TalentProfile.DoesNotExist
    return TalentProfile.objects.select_for_update().select_related("user").get(user=user)


@transaction.atomic
def talent_profile_update(*, user: User, data: TalentProfileInput) -> TalentProfile:
    """Save the freelancer's own profile details (everything but skills, portfolio and derived stats)."""
    profile = _own_profile_for_update(user)
    errors: dict[str, list[str]] = {}
    headline = _text(data.headline, name="headline", label="a headline", max_length=160, required=False, errors=errors)
    bio = _text(data.bio, name="bio", label="your bio", max_length=MAX_TEXT_LENGTH, required=False, errors=errors)
    currency = _currency(data.currency, errors)
    hourly_rate = None
    if data.hourly_rate is not None and data.hourly_rate != "":
        hourly_rate = _amount(data.hourly_rate, currency=currency, name="hourly_rate", label="your rate", errors=errors)
    if (
        isinstance(data.weekly_hours, bool)
        or not isinstance(data.weekly_hours, int)
        or not 0 <= data.weekly_hours <= 80
    ):
        errors.setdefault("weekly_hours", []).append("Enter the hours a week you can work, from 0 to 80.")
    timezone = _timezone(data.timezone, errors)
    country = (data.country or "").strip().upper()
    if country and country not in COUNTRIES:
        errors.setdefault("country", []).append("Choose your country from the list.")
    languages = _unique_texts(
        data.languages, name="languages", label="languages", max_items=MAX_LANGUAGES, max_length=40, errors=errors
    )
    if data.visibility not in TalentProfile.Visibility.values:
        errors.setdefault("visibility", []).append("Choose who can see your profile: public, clients or hidden.")
    _refuse(errors)

    values = {
        "headline": headline,
        "bio": bio,
        "hourly_rate": hourly_rate.quantize(Decimal("0.01")) if hourly_rate is not None else None,
        "currency": currency,
        "weekly_hours": data.weekly_hours,
        "timezone": timezone,
        "country": country,
        "languages": languages,
        "visibility": data.visibility,
    }
    changed = [name for name, value in values.items() if getattr(profile, name) != value]
    if not changed:
        return profile
    previous_visibility = profile.visibility
    for name in changed:
        setattr(profile, name, values[name])
    profile.save(update_fields=[*changed, "updated_at"])
    if {"headline", "bio"} & set(changed):
        talent_profile_search_vector_refresh(profile_ids=[profile.pk])
    audit_record(
        actor=user,
        action="talent_profile.updated",
        target=profile,
        from_state=previous_visibility if "visibility" in changed else "",
        to_state=profile.visibility if "visibility" in changed else "",
        data={"fields": changed},
    )
    return profile


def talent_profile_search_vector_refresh(*, profile_ids: list[int] | None = None) -> int:
    """Recompute the stored text vector matching ranks on (all profiles when `profile_ids` is None)."""
    from django.contrib.postgres.search import SearchVector

    profiles = TalentProfile.objects.all() if profile_ids is None else TalentProfile.objects.filter(pk__in=profile_ids)
    return profiles.update(
        search_vector=SearchVector("headline", weight="A", config="english")
        + SearchVector("bio", weight="B", config="english")
    )


@transaction.atomic
def talent_profile_skills_set(*, user: User, skills: Sequence[SkillLevel]) -> list[ProfileSkill]:
    """Replace the freelancer's skills with `skills` (at most 30) and keep `TalentProfile.skill_ids` in step."""
    profile = _own_profile_for_update(user)
    known = _skill_levels(skills, max_items=MAX_PROFILE_SKILLS, what="skills")
    wanted = {entry.skill_id: entry for entry in skills}
    existing = {ps.skill_id: ps for ps in ProfileSkill.objects.filter(profile=profile).select_related("skill")}

    removed = [skill_id for skill_id in existing if skill_id not in wanted]
    added = [skill_id for skill_id in wanted if skill_id not in existing]
    changed: list[ProfileSkill] = []
    for skill_id, current in existing.items():
        entry = wanted.get(skill_id)
        if entry is not None and (current.level, current.years) != (entry.level, entry.years):
            current.level, current.years = entry.level, entry.years
            changed.append(current)
    ProfileSkill.objects.filter(profile=profile, skill_id__in=removed).delete()
    ProfileSkill.objects.bulk_update(changed, ["level", "years"])
    ProfileSkill.objects.bulk_create(
        [
            ProfileSkill(profile=profile, skill_id=skill_id, level=wanted[skill_id].level, years=wanted[skill_id].years)
            for skill_id in added
        ]
    )
    skill_ids = sorted(wanted)
    if profile.skill_ids != skill_ids:
        profile.skill_ids = skill_ids
        profile.save(update_fields=["skill_ids", "updated_at"])
    if added or removed or changed:
        audit_record(
            actor=user,
            action="talent_profile.skills_set",
            target=profile,
            data={
                "added": [known[skill_id].name for skill_id in added],
                "removed": [existing[skill_id].skill.name for skill_id in removed],
                "changed": [known[ps.skill_id].name for ps in changed],
            },
        )
    return list(ProfileSkill.objects.filter(profile=profile).select_related("skill").order_by("-level", "skill__name"))


@transaction.atomic
def talent_profile_skill_ids_sync(*, profile_id: int) -> list[int]:
    """Recompute the derived `skill_ids` array from the profile's skills (after edits outside the services,
    such as the admin's inline). Returns the ids."""
    profile = TalentProfile.objects.select_for_update().get(pk=profile_id)
    skill_ids = sorted(ProfileSkill.objects.filter(profile=profile).values_list("skill_id", flat=True))
    if profile.skill_ids != skill_ids:
        profile.skill_ids = skill_ids
        profile.save(update_fields=["skill_ids", "updated_at"])
    return skill_ids


def _clean_url(value: str, errors: FieldErrors, name: str = "url") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 200:
        errors.setdefault(name, []).append("That link is too long; use a shorter address (200 characters at most).")
        return value
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors.setdefault(name, []).append("Enter a full web address starting with https://")
    return value


@transaction.atomic
def portfolio_item_add(*, user: User, title: str, description: str = "", url: str = "") -> PortfolioItem:
    """Add a piece of work to the freelancer's own portfolio (at most 20)."""
    profile = _own_profile_for_update(user)
    errors: dict[str, list[str]] = {}
    title = _text(title, name="title", label="a title", max_length=160, required=True, errors=errors)
    description = _text(
        description,
        name="description",
        label="the description",
        max_length=MAX_TEXT_LENGTH,
        required=False,
        errors=errors,
    )
    url = _clean_url(url, errors)
    _refuse(errors)
    if PortfolioItem.objects.filter(profile=profile).count() >= MAX_PORTFOLIO_ITEMS:
        raise ApplicationError(
            f"Your portfolio already shows {MAX_PORTFOLIO_ITEMS} pieces of work; remove one to add another.",
            code="portfolio_full",
            status=409,
        )
    item = PortfolioItem.objects.create(profile=profile, title=title, description=description, url=url)
    audit_record(actor=user, action="portfolio_item.added", target=item)
    return item


@transaction.atomic
def portfolio_item_remove(*, user: User, item_id: int) -> None:
    """Remove a piece of work from the freelancer's own portfolio; PortfolioItem.DoesNotExist for anyone else's."""
    profile = _own_profile_for_update(user)
    item = PortfolioItem.objects.get(pk=item_id, profile=profile)
    audit_record(actor=user, action="portfolio_item.removed", target=item, data={"title": item.title})
    item.delete()


# --- taxonomy --------------------------------------------------------------------------------------------------
@transaction.atomic
def skill_taxonomy_load(*, path: Path = SKILLS_FILE) -> int:
    """Create or update the skills in the taxonomy file (matched by slug). Returns how many there are."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    existing = {skill.slug: skill for skill in Skill.objects.all()}
    to_create, to_update = [], []
    for entry in entries:
        skill = existing.get(entry["slug"])
        if skill is None:
            to_create.append(
                Skill(name=entry["name"], slug=entry["slug"], category=entry["category"], synonyms=entry["synonyms"])
            )
        elif (skill.name, skill.category, skill.synonyms) != (entry["name"], entry["category"], entry["synonyms"]):
            skill.name, skill.category, skill.synonyms = entry["name"], entry["category"], entry["synonyms"]
            to_update.append(skill)
    Skill.objects.bulk_create(to_create)
    Skill.objects.bulk_update(to_update, ["name", "category", "synonyms"])
    return len(entries)
