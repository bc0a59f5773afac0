"""Client talent pools mixing freelancers and vendor firms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from accounts.models import Organization
from core.errors import ApplicationError
from core.services import audit_record
from talent.models import (
    TalentPool,
    TalentPoolMember,
)
from talent.services.common import (
    MAX_NOTES_LENGTH,
    MAX_POOL_MEMBERS,
    MAX_POOLS_PER_ORGANIZATION,
    _refuse,
    _text,
)

if TYPE_CHECKING:
    from accounts.models import User


# --- talent pools ----------------------------------------------------------------------------------------------
def _client_organization_for_member(*, organization_id: int, by: User) -> Organization:
    """The client organisation if `by` belongs to it (any role); Organization.DoesNotExist otherwise."""
    if not by.is_authenticated:
        raise Organization.DoesNotExist
    return Organization.objects.get(pk=organization_id, kind=Organization.Kind.CLIENT, memberships__user=by)


def _pool_for_update(*, pool_id: int, by: User) -> TalentPool:
    """Lock the pool if `by` belongs to its client organisation; TalentPool.DoesNotExist (→ 404) otherwise."""
    if not by.is_authenticated:
        raise TalentPool.DoesNotExist
    return (
        TalentPool.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(organization__memberships__user=by, organization__kind=Organization.Kind.CLIENT)
        .get(pk=pool_id)
    )


@transaction.atomic
def talent_pool_create(*, organization_id: int, by: User, name: str, description: str = "") -> TalentPool:
    organization = _client_organization_for_member(organization_id=organization_id, by=by)
    # Serialise pool creation per organisation so the name check below can't race.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    errors: dict[str, list[str]] = {}
    name = _text(name, name="name", label="a name for the pool", max_length=120, required=True, errors=errors)
    description = _text(
        description,
        name="description",
        label="the description",
        max_length=MAX_NOTES_LENGTH,
        required=False,
        errors=errors,
    )
    _refuse(errors)
    pools = TalentPool.objects.filter(organization=organization)
    if pools.annotate(lower_name=Lower("name")).filter(lower_name=name.lower()).exists():
        raise ApplicationError(
            f"{organization.name} already has a pool called “{name}”; choose another name or open that pool.",
            code="duplicate_pool",
            status=409,
            field_errors={"name": ["A pool with this name already exists."]},
        )
    if pools.count() >= MAX_POOLS_PER_ORGANIZATION:
        raise ApplicationError(
            f"An organisation can keep {MAX_POOLS_PER_ORGANIZATION} pools; merge some to create another.",
            code="too_many_pools",
            status=409,
        )
    pool = TalentPool.objects.create(organization=organization, name=name, description=description)
    audit_record(actor=by, action="talent_pool.created", target=pool, organization=organization)
    return pool


@transaction.atomic
def talent_pool_member_add(
    *, pool_id: int, by: User, freelancer_id: int | None = None, vendor_id: int | None = None, notes: str = ""
) -> TalentPoolMember:
    """Add a freelancer (a user with a talent profile) or a vendor firm to the pool; each only once."""
    from accounts.models import User as UserModel

    pool = _pool_for_update(pool_id=pool_id, by=by)
    if (freelancer_id is None) == (vendor_id is None):
        raise ApplicationError("Choose one freelancer or one vendor firm to add.", code="invalid_member")
    errors: dict[str, list[str]] = {}
    notes = _text(notes, name="notes", label="the notes", max_length=MAX_NOTES_LENGTH, required=False, errors=errors)
    _refuse(errors)

    freelancer = vendor = None
    if freelancer_id is not None:
        freelancer = UserModel.objects.filter(pk=freelancer_id, is_active=True, talent_profile__isnull=False).first()
        if freelancer is None:
            raise ApplicationError(
                "That person isn’t a freelancer on Tandem; ask them to sign up as a freelancer first.",
                code="not_a_freelancer",
                field_errors={"freelancer": ["Not a freelancer on Tandem."]},
            )
        duplicate = TalentPoolMember.objects.filter(pool=pool, freelancer=freelancer).exists()
        label = freelancer.get_full_name()
    else:
        vendor = Organization.objects.filter(pk=vendor_id or 0, kind=Organization.Kind.VENDOR).first()
        if vendor is None:
            raise ApplicationError(
                "That organisation isn’t a vendor firm on Tandem; check the name or id.",
                code="not_a_vendor",
                field_errors={"vendor": ["Not a vendor firm on Tandem."]},
            )
        duplicate = TalentPoolMember.objects.filter(pool=pool, vendor=vendor).exists()
        label = vendor.name
    if duplicate:
        raise ApplicationError(
            f"{label} is already in “{pool.name}”; edit their notes there instead of adding them again.",
            code="already_in_pool",
            status=409,
        )
    if TalentPoolMember.objects.filter(pool=pool).count() >= MAX_POOL_MEMBERS:
        raise ApplicationError(
            f"A pool holds {MAX_POOL_MEMBERS} members; remove some or start another pool.",
            code="pool_full",
            status=409,
        )
    try:
        with transaction.atomic():
            member = TalentPoolMember.objects.create(
                pool=pool, freelancer=freelancer, vendor=vendor, notes=notes, added_by=by
            )
    except IntegrityError as error:  # second line behind the pool lock
        raise ApplicationError(f"{label} is already in “{pool.name}”.", code="already_in_pool", status=409) from error
    audit_record(
        actor=by,
        action="talent_pool.member_added",
        target=pool,
        organization=pool.organization,
        data={"member_id": member.pk, "freelancer_id": freelancer_id, "vendor_id": vendor_id, "label": label},
    )
    return member


@transaction.atomic
def talent_pool_member_update_notes(*, pool_id: int, member_id: int, by: User, notes: str) -> TalentPoolMember:
    pool = _pool_for_update(pool_id=pool_id, by=by)
    member = TalentPoolMember.objects.select_related("freelancer", "vendor").get(pk=member_id, pool=pool)
    errors: dict[str, list[str]] = {}
    notes = _text(notes, name="notes", label="the notes", max_length=MAX_NOTES_LENGTH, required=False, errors=errors)
    _refuse(errors)
    if notes != member.notes:
        member.notes = notes
        member.save(update_fields=["notes", "updated_at"])
        audit_record(
            actor=by,
            action="talent_pool.member_notes_updated",
            target=pool,
            organization=pool.organization,
            data={"member_id": member.pk},
        )
    return member


@transaction.atomic
def talent_pool_member_remove(*, pool_id: int, member_id: int, by: User) -> None:
    pool = _pool_for_update(pool_id=pool_id, by=by)
    member = TalentPoolMember.objects.select_related("freelancer", "vendor").get(pk=member_id, pool=pool)
    audit_record(
        actor=by,
        action="talent_pool.member_removed",
        target=pool,
        organization=pool.organization,
        data={
            "member_id": member.pk,
            "freelancer_id": member.freelancer_id,
            "vendor_id": member.vendor_id,
            "label": str(member),
        },
    )
    member.delete()
