"""Inputs, limits and shared validation for the talent services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from core.countries import TIMEZONE_CHOICES
from core.errors import ApplicationError
from core.money import CURRENCIES, to_minor_units
from talent.models import (
    Skill,
)

if TYPE_CHECKING:
    pass


SKILLS_FILE = Path(__file__).resolve().parent.parent / "data" / "skills.json"

MAX_PROFILE_SKILLS = 30
MAX_VENDOR_CAPABILITIES = 50
MAX_PORTFOLIO_ITEMS = 20
MAX_LANGUAGES = 10
MAX_SERVICE_LINES = 12
MAX_COUNTRIES_SERVED = 100
MAX_CERTIFICATIONS = 30
MAX_RATE_CARD_ENTRIES = 60
MAX_TEAM_MEMBERS = 500
MAX_TEAM_MEMBER_SKILLS = 20
MAX_POOLS_PER_ORGANIZATION = 200
MAX_POOL_MEMBERS = 1000
MAX_NOTES_LENGTH = 2000
MAX_TEXT_LENGTH = 5000
MAX_YEARS = 60
MAX_HEADCOUNT = 1_000_000
MAX_RATE = Decimal("1000000000")

_TIMEZONES = frozenset(TIMEZONE_CHOICES)

FieldErrors = dict[str, list[str]]


# --- inputs ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SkillLevel:
    """One skill of a profile, a vendor's capabilities or a team member: level 1-5, years of experience."""

    skill_id: int
    level: int
    years: int = 0


@dataclass(frozen=True)
class TalentProfileInput:
    headline: str
    bio: str
    hourly_rate: Decimal | None
    currency: str
    weekly_hours: int
    timezone: str
    country: str
    languages: Sequence[str]
    visibility: str


@dataclass(frozen=True)
class VendorProfileInput:
    headline: str
    description: str
    service_lines: Sequence[str]
    headcount: int
    countries_served: Sequence[str]
    timezone: str


@dataclass(frozen=True)
class RateCardEntryInput:
    role: str
    seniority: str
    rate: Decimal
    currency: str
    unit: str


@dataclass(frozen=True)
class TeamMemberInput:
    full_name: str
    title: str
    rate_card_entry_id: int | None = None
    skill_ids: Sequence[int] = field(default_factory=tuple)
    is_active: bool = True


# --- shared checks ---------------------------------------------------------------------------------------------
def _refuse(errors: dict[str, list[str]]) -> None:
    """Raise one ApplicationError carrying every field error (the single one as the message when there is one)."""
    if not errors:
        return
    messages = [message for field_messages in errors.values() for message in field_messages]
    message = messages[0] if len(messages) == 1 else "Please correct the highlighted fields and save again."
    raise ApplicationError(message, code="invalid", field_errors=errors)


def _text(value: str, *, name: str, label: str, max_length: int, required: bool, errors: FieldErrors) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(name, []).append(f"Enter {label}.")
    elif len(value) > max_length:
        errors.setdefault(name, []).append(
            f"Keep {label} to {max_length} characters (it has {len(value)}); shorten it and save again."
        )
    return value


def _amount(value: Decimal | int | str | None, *, currency: str, name: str, label: str, errors: FieldErrors) -> Decimal:
    """A positive amount of money with no more decimals than the currency allows."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass a Decimal or a string")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append(f"Enter {label} as a number, such as 45 or 45.50.")
        return Decimal(0)
    if not amount.is_finite() or amount <= 0:
        errors.setdefault(name, []).append(f"Enter {label} above zero.")
    elif amount >= MAX_RATE:
        errors.setdefault(name, []).append(f"{label.capitalize()} is too large; check the amount.")
    elif currency in CURRENCIES:
        try:
            to_minor_units(amount, currency)
        except ApplicationError:
            errors.setdefault(name, []).append(f"{currency} amounts can’t have that many decimals; round {label}.")
    return amount


def _currency(value: str, errors: FieldErrors, name: str = "currency") -> str:
    code = (value or "").strip().upper()
    if code not in CURRENCIES:
        errors.setdefault(name, []).append("Choose one of the listed currencies, such as USD or EUR.")
    return code


def _timezone(value: str, errors: FieldErrors, name: str = "timezone") -> str:
    value = (value or "").strip()
    if value not in _TIMEZONES:
        errors.setdefault(name, []).append(f"“{value}” is not a time zone we know; choose one from the list.")
    return value


def _unique_texts(
    values: Sequence[str], *, name: str, label: str, max_items: int, max_length: int, errors: FieldErrors
):
    """Stripped, de-duplicated (case-insensitively, first spelling kept), length-checked list of short texts."""
    seen: set[str] = set()
    cleaned: list[str] = []
    for raw in values:
        value = (raw or "").strip()
        if not value or value.casefold() in seen:
            continue
        seen.add(value.casefold())
        if len(value) > max_length:
            errors.setdefault(name, []).append(f"“{value[:30]}…” is too long; keep each of your {label} short.")
        cleaned.append(value)
    if len(cleaned) > max_items:
        errors.setdefault(name, []).append(f"List at most {max_items} {label}; you listed {len(cleaned)}.")
    return cleaned


def _skill_levels(
    entries: Sequence[SkillLevel], *, max_items: int, what: str, errors_key: str = "skills"
) -> dict[int, Skill]:
    """Check a replacement skill set; returns the skills by id. Raises before anything is written."""
    errors: dict[str, list[str]] = {}
    if len(entries) > max_items:
        errors.setdefault(errors_key, []).append(
            f"List at most {max_items} {what}; you listed {len(entries)}. Remove the ones you use least."
        )
    ids = [entry.skill_id for entry in entries]
    skills = Skill.objects.in_bulk(set(ids))
    unknown = sorted({skill_id for skill_id in ids if skill_id not in skills})
    if unknown:
        errors.setdefault(errors_key, []).append(
            f"We don’t know the skill{'s' if len(unknown) > 1 else ''} with id {', '.join(map(str, unknown))}; "
            "choose skills from the list."
        )
    seen: set[int] = set()
    for entry in entries:
        name = skills[entry.skill_id].name if entry.skill_id in skills else f"#{entry.skill_id}"
        if entry.skill_id in seen:
            errors.setdefault(errors_key, []).append(f"“{name}” is listed twice; keep one row for it.")
        seen.add(entry.skill_id)
        if not 1 <= entry.level <= 5:
            errors.setdefault(errors_key, []).append(f"Give “{name}” a level from 1 (beginner) to 5 (expert).")
        if not 0 <= entry.years <= MAX_YEARS:
            errors.setdefault(errors_key, []).append(f"Years of experience with “{name}” must be 0 to {MAX_YEARS}.")
    _refuse(errors)
    return skills
