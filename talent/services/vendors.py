"""Vendor firm profiles: capabilities, certifications, rate card and team."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models import ProtectedError
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from accounts.models import Membership, Organization
from core.countries import COUNTRIES, TIMEZONES_BY_COUNTRY
from core.errors import ApplicationError
from core.services import audit_record
from talent.models import (
    RateCardEntry,
    Skill,
    VendorCapability,
    VendorCertification,
    VendorProfile,
    VendorTeamMember,
)
from talent.services.common import (
    MAX_CERTIFICATIONS,
    MAX_COUNTRIES_SERVED,
    MAX_HEADCOUNT,
    MAX_RATE_CARD_ENTRIES,
    MAX_SERVICE_LINES,
    MAX_TEAM_MEMBER_SKILLS,
    MAX_TEAM_MEMBERS,
    MAX_TEXT_LENGTH,
    MAX_VENDOR_CAPABILITIES,
    RateCardEntryInput,
    SkillLevel,
    TeamMemberInput,
    VendorProfileInput,
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


# --- vendor firm profile ---------------------------------------------------------------------------------------
@transaction.atomic
def vendor_profile_get_or_create(*, organization: Organization, by: User | None) -> VendorProfile:
    """The vendor organisation's profile, created empty on first use. `by` (a member, or None for the system)
    is recorded as its creator; anyone else gets Organization.DoesNotExist."""
    if organization.kind != Organization.Kind.VENDOR:
        raise ApplicationError(
            f"{organization.name} is a client organisation; only vendor firms have a firm profile.",
            code="not_a_vendor",
        )
    if by is not None and not Membership.objects.filter(organization=organization, user=by).exists():
        raise Organization.DoesNotExist
    zones = TIMEZONES_BY_COUNTRY.get(organization.country, [])
    profile, created = VendorProfile.objects.get_or_create(
        organization=organization,
        defaults={
            "timezone": zones[0] if zones else "UTC",
            "countries_served": [organization.country] if organization.country else [],
        },
    )
    if created:
        audit_record(actor=by, action="vendor_profile.created", target=profile, organization=organization)
    return profile


def _vendor_for_update(*, vendor_id: int, by: User) -> VendorProfile:
    """Lock the vendor profile if `by` may change it: owners and admins of the firm. Other members are told who
    can; anyone else gets VendorProfile.DoesNotExist (→ 404)."""
    vendor = VendorProfile.objects.select_for_update().select_related("organization").filter(pk=vendor_id).first()
    membership = (
        Membership.objects.filter(organization_id=vendor.organization_id, user=by).first()
        if vendor is not None and by.is_authenticated
        else None
    )
    if vendor is None or membership is None:
        raise VendorProfile.DoesNotExist
    if not membership.can_manage:
        raise ApplicationError(
            f"Only owners and admins of {vendor.organization.name} can change the firm profile. "
            "Ask one of them to make this change.",
            code="permission_denied",
            status=403,
        )
    return vendor


def _audit_vendor(
    *, by: User, action: str, vendor: VendorProfile, target: models.Model | None = None, **kwargs: Any
) -> None:
    audit_record(actor=by, action=action, target=target or vendor, organization=vendor.organization, **kwargs)


@transaction.atomic
def vendor_profile_update(*, vendor_id: int, by: User, data: VendorProfileInput) -> VendorProfile:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    errors: dict[str, list[str]] = {}
    headline = _text(data.headline, name="headline", label="a headline", max_length=160, required=False, errors=errors)
    description = _text(
        data.description,
        name="description",
        label="the description",
        max_length=MAX_TEXT_LENGTH,
        required=False,
        errors=errors,
    )
    service_lines = _unique_texts(
        data.service_lines,
        name="service_lines",
        label="service lines",
        max_items=MAX_SERVICE_LINES,
        max_length=80,
        errors=errors,
    )
    if (
        isinstance(data.headcount, bool)
        or not isinstance(data.headcount, int)
        or not 1 <= data.headcount <= MAX_HEADCOUNT
    ):
        errors.setdefault("headcount", []).append("Enter how many people the firm employs (at least 1).")
    countries = [(code or "").strip().upper() for code in data.countries_served]
    countries = list(dict.fromkeys(code for code in countries if code))
    unknown = [code for code in countries if code not in COUNTRIES]
    if unknown:
        errors.setdefault("countries_served", []).append(
            f"We don’t know the country code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            "choose countries from the list."
        )
    elif len(countries) > MAX_COUNTRIES_SERVED:
        errors.setdefault("countries_served", []).append(f"Choose at most {MAX_COUNTRIES_SERVED} countries.")
    timezone = _timezone(data.timezone, errors)
    _refuse(errors)

    values = {
        "headline": headline,
        "description": description,
        "service_lines": service_lines,
        "headcount": data.headcount,
        "countries_served": countries,
        "timezone": timezone,
    }
    changed = [name for name, value in values.items() if getattr(vendor, name) != value]
    if changed:
        for name in changed:
            setattr(vendor, name, values[name])
        vendor.save(update_fields=[*changed, "updated_at"])
        _audit_vendor(by=by, action="vendor_profile.updated", vendor=vendor, data={"fields": changed})
    return vendor


@transaction.atomic
def vendor_capabilities_set(*, vendor_id: int, by: User, capabilities: Sequence[SkillLevel]) -> list[VendorCapability]:
    """Replace the firm's capabilities (skills with a level 1-5; at most 50)."""
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    known = _skill_levels(
        capabilities, max_items=MAX_VENDOR_CAPABILITIES, what="capabilities", errors_key="capabilities"
    )
    wanted = {entry.skill_id: entry for entry in capabilities}
    existing = {vc.skill_id: vc for vc in VendorCapability.objects.filter(vendor=vendor).select_related("skill")}
    removed = [skill_id for skill_id in existing if skill_id not in wanted]
    added = [skill_id for skill_id in wanted if skill_id not in existing]
    changed = []
    for skill_id, current in existing.items():
        entry = wanted.get(skill_id)
        if entry is not None and current.level != entry.level:
            current.level = entry.level
            changed.append(current)
    VendorCapability.objects.filter(vendor=vendor, skill_id__in=removed).delete()
    VendorCapability.objects.bulk_update(changed, ["level"])
    VendorCapability.objects.bulk_create(
        [VendorCapability(vendor=vendor, skill_id=skill_id, level=wanted[skill_id].level) for skill_id in added]
    )
    if added or removed or changed:
        _audit_vendor(
            by=by,
            action="vendor_profile.capabilities_set",
            vendor=vendor,
            data={
                "added": [known[skill_id].name for skill_id in added],
                "removed": [existing[skill_id].skill.name for skill_id in removed],
                "changed": [known[vc.skill_id].name for vc in changed],
            },
        )
    return list(
        VendorCapability.objects.filter(vendor=vendor).select_related("skill").order_by("-level", "skill__name")
    )


@transaction.atomic
def vendor_certification_add(
    *,
    vendor_id: int,
    by: User,
    name: str,
    issuer: str = "",
    issued_date: date | None = None,
    expires_date: date | None = None,
) -> VendorCertification:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    errors: dict[str, list[str]] = {}
    name = _text(name, name="name", label="the certification’s name", max_length=120, required=True, errors=errors)
    issuer = _text(issuer, name="issuer", label="the issuer", max_length=120, required=False, errors=errors)
    if issued_date and issued_date > django_timezone.localdate():
        errors.setdefault("issued_date", []).append("The issue date can’t be in the future.")
    if issued_date and expires_date and expires_date < issued_date:
        errors.setdefault("expires_date", []).append("The expiry date must be on or after the issue date.")
    _refuse(errors)
    certifications = VendorCertification.objects.filter(vendor=vendor)
    if (
        certifications.annotate(lower_name=Lower("name"))
        .filter(lower_name=name.lower(), expires_date=expires_date)
        .exists()
    ):
        raise ApplicationError(
            f"“{name}” with that expiry date is already listed; remove the old entry first if you are replacing it.",
            code="duplicate_certification",
            status=409,
            field_errors={"name": ["Already listed with the same expiry date."]},
        )
    if certifications.count() >= MAX_CERTIFICATIONS:
        raise ApplicationError(
            f"A firm can list {MAX_CERTIFICATIONS} certifications; remove expired ones to add more.",
            code="too_many_certifications",
            status=409,
        )
    certification = VendorCertification.objects.create(
        vendor=vendor, name=name, issuer=issuer, issued_date=issued_date, expires_date=expires_date
    )
    _audit_vendor(by=by, action="vendor_certification.added", vendor=vendor, target=certification)
    return certification


@transaction.atomic
def vendor_certification_remove(*, vendor_id: int, certification_id: int, by: User) -> None:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    certification = VendorCertification.objects.get(pk=certification_id, vendor=vendor)
    _audit_vendor(
        by=by,
        action="vendor_certification.removed",
        vendor=vendor,
        target=certification,
        data={"name": certification.name},
    )
    certification.delete()


def _rate_card_values(data: RateCardEntryInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    role = _text(data.role, name="role", label="the role", max_length=100, required=True, errors=errors)
    if data.seniority not in RateCardEntry.Seniority.values:
        errors.setdefault("seniority", []).append("Choose a seniority: junior, mid-level, senior or lead.")
    if data.unit not in RateCardEntry.Unit.values:
        errors.setdefault("unit", []).append("Choose whether the rate is per hour or per month.")
    currency = _currency(data.currency, errors)
    rate = _amount(data.rate, currency=currency, name="rate", label="the rate", errors=errors)
    _refuse(errors)
    return {
        "role": role,
        "seniority": data.seniority,
        "rate": rate.quantize(Decimal("0.01")),
        "currency": currency,
        "unit": data.unit,
    }


def _rate_card_duplicate_check(vendor: VendorProfile, values: dict[str, Any], exclude_id: int | None = None) -> None:
    duplicates = (
        RateCardEntry.objects.filter(vendor=vendor, seniority=values["seniority"], unit=values["unit"])
        .annotate(lower_role=Lower("role"))
        .filter(lower_role=values["role"].lower())
    )
    if exclude_id is not None:
        duplicates = duplicates.exclude(pk=exclude_id)
    duplicate = duplicates.first()
    if duplicate is not None:
        line = f"{duplicate.get_seniority_display()} {duplicate.role} rate {duplicate.get_unit_display()}"
        raise ApplicationError(
            f"Your rate card already has a {line}; edit that line instead.",
            code="duplicate_rate",
            status=409,
            field_errors={"role": [f"There is already a {line}."]},
        )


@transaction.atomic
def rate_card_entry_add(*, vendor_id: int, by: User, data: RateCardEntryInput) -> RateCardEntry:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    values = _rate_card_values(data)
    _rate_card_duplicate_check(vendor, values)
    if RateCardEntry.objects.filter(vendor=vendor).count() >= MAX_RATE_CARD_ENTRIES:
        raise ApplicationError(
            f"A rate card holds {MAX_RATE_CARD_ENTRIES} lines; remove one you no longer offer to add another.",
            code="rate_card_full",
            status=409,
        )
    entry = RateCardEntry.objects.create(vendor=vendor, **values)
    _audit_vendor(by=by, action="rate_card_entry.added", vendor=vendor, target=entry)
    return entry


@transaction.atomic
def rate_card_entry_update(*, vendor_id: int, entry_id: int, by: User, data: RateCardEntryInput) -> RateCardEntry:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    entry = RateCardEntry.objects.select_for_update().get(pk=entry_id, vendor=vendor)
    values = _rate_card_values(data)
    _rate_card_duplicate_check(vendor, values, exclude_id=entry.pk)
    changed = [name for name, value in values.items() if getattr(entry, name) != value]
    if changed:
        before = str(entry)
        for name in changed:
            setattr(entry, name, values[name])
        entry.save(update_fields=[*changed, "updated_at"])
        _audit_vendor(
            by=by,
            action="rate_card_entry.updated",
            vendor=vendor,
            target=entry,
            data={"fields": changed, "before": before},
        )
    return entry


@transaction.atomic
def rate_card_entry_remove(*, vendor_id: int, entry_id: int, by: User) -> None:
    """Remove a rate card line; team members on it keep working but lose their rate-card role."""
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    entry = RateCardEntry.objects.get(pk=entry_id, vendor=vendor)
    _audit_vendor(by=by, action="rate_card_entry.removed", vendor=vendor, target=entry, data={"line": str(entry)})
    entry.delete()


def _team_member_values(vendor: VendorProfile, data: TeamMemberInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    full_name = _text(
        data.full_name, name="full_name", label="their full name", max_length=150, required=True, errors=errors
    )
    title = _text(data.title, name="title", label="their job title", max_length=120, required=True, errors=errors)
    if (
        data.rate_card_entry_id is not None
        and not RateCardEntry.objects.filter(pk=data.rate_card_entry_id, vendor=vendor).exists()
    ):
        errors.setdefault("rate_card_entry", []).append("Choose a line of your own rate card.")
    skill_ids = list(dict.fromkeys(data.skill_ids))
    if len(skill_ids) > MAX_TEAM_MEMBER_SKILLS:
        errors.setdefault("skills", []).append(f"Choose at most {MAX_TEAM_MEMBER_SKILLS} skills.")
    elif Skill.objects.filter(pk__in=skill_ids).count() != len(skill_ids):
        errors.setdefault("skills", []).append("Some of those skills don’t exist; choose skills from the list.")
    _refuse(errors)
    return {
        "full_name": full_name,
        "title": title,
        "rate_card_entry_id": data.rate_card_entry_id,
        "is_active": bool(data.is_active),
        "skill_ids": skill_ids,
    }


@transaction.atomic
def vendor_team_member_add(*, vendor_id: int, by: User, data: TeamMemberInput) -> VendorTeamMember:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    values = _team_member_values(vendor, data)
    if VendorTeamMember.objects.filter(vendor=vendor).count() >= MAX_TEAM_MEMBERS:
        raise ApplicationError(
            f"A firm lists at most {MAX_TEAM_MEMBERS} team members; remove people who have left to add more.",
            code="team_full",
            status=409,
        )
    skill_ids = values.pop("skill_ids")
    member = VendorTeamMember.objects.create(vendor=vendor, **values)
    member.skills.set(skill_ids)
    _audit_vendor(by=by, action="vendor_team_member.added", vendor=vendor, target=member)
    return member


@transaction.atomic
def vendor_team_member_update(
    *, vendor_id: int, team_member_id: int, by: User, data: TeamMemberInput
) -> VendorTeamMember:
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    member = VendorTeamMember.objects.select_for_update().get(pk=team_member_id, vendor=vendor)
    values = _team_member_values(vendor, data)
    skill_ids = values.pop("skill_ids")
    changed = [name for name, value in values.items() if getattr(member, name) != value]
    skills_changed = set(member.skills.values_list("pk", flat=True)) != set(skill_ids)
    if not changed and not skills_changed:
        return member
    was_active = member.is_active
    for name in changed:
        setattr(member, name, values[name])
    if changed:
        member.save(update_fields=[*changed, "updated_at"])
    if skills_changed:
        member.skills.set(skill_ids)
    _audit_vendor(
        by=by,
        action="vendor_team_member.updated",
        vendor=vendor,
        target=member,
        from_state=("active" if was_active else "inactive") if "is_active" in changed else "",
        to_state=("active" if member.is_active else "inactive") if "is_active" in changed else "",
        data={"fields": changed + (["skills"] if skills_changed else [])},
    )
    return member


@transaction.atomic
def vendor_team_member_remove(*, vendor_id: int, team_member_id: int, by: User) -> None:
    """Remove a team member who was never proposed on a bid; those who were must be marked inactive instead."""
    vendor = _vendor_for_update(vendor_id=vendor_id, by=by)
    member = VendorTeamMember.objects.get(pk=team_member_id, vendor=vendor)
    _audit_vendor(
        by=by, action="vendor_team_member.removed", vendor=vendor, target=member, data={"full_name": member.full_name}
    )
    try:
        member.delete()
    except ProtectedError as error:  # raised before anything is deleted; the audit event rolls back with it
        raise ApplicationError(
            f"{member.full_name} has been proposed on bids, so their record stays; mark them inactive instead.",
            code="team_member_in_use",
            status=409,
        ) from error
