from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from core.countries import TIMEZONES_BY_COUNTRY
from core.services import audit_record
from talent.models import Skill, TalentProfile

if TYPE_CHECKING:
    from accounts.models import User

SKILLS_FILE = Path(__file__).resolve().parent / "data" / "skills.json"


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
