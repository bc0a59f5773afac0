"""Writes for accounts: sign-up onboarding, organisations and their members."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import Membership, Organization, User
from core.errors import ApplicationError
from core.services import audit_record


class SignupIntent:
    HIRE = "hire"
    WORK = "work"
    VENDOR = "vendor"
    CHOICES = [
        (HIRE, "Hire talent or vendors"),
        (WORK, "Find work as a freelancer"),
        (VENDOR, "Represent a vendor firm"),
    ]


@transaction.atomic
def account_onboard(
    *, user: User, intent: str, full_name: str, country: str = "", organization_name: str = ""
) -> Organization | None:
    """Finish a sign-up: hire → a client organisation the user owns; vendor → a vendor organisation the user
    owns; work → a freelancer talent profile. Returns the organisation, if one was created."""
    user.full_name = full_name.strip()
    user.country = country.upper()
    user.save(update_fields=["full_name", "country", "updated_at"])
    audit_record(actor=user, action="user.signed_up", target=user, data={"intent": intent})

    if intent == SignupIntent.WORK:
        from talent.services import talent_profile_create

        talent_profile_create(user=user, country=user.country)
        return None
    if intent in (SignupIntent.HIRE, SignupIntent.VENDOR):
        if not organization_name.strip():
            raise ApplicationError(
                "Enter your organisation’s name.", field_errors={"organization_name": ["This field is required."]}
            )
        kind = Organization.Kind.CLIENT if intent == SignupIntent.HIRE else Organization.Kind.VENDOR
        return organization_create(name=organization_name, kind=kind, owner=user, country=user.country)
    raise ApplicationError(
        "Choose what you are here for: hire, work, or represent a vendor firm.",
        field_errors={"intent": ["Choose one of the options."]},
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:200] or "organisation"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_create(*, name: str, kind: str, owner: User, country: str = "", website: str = "") -> Organization:
    name = name.strip()
    if not name:
        raise ApplicationError("Enter the organisation’s name.", field_errors={"name": ["This field is required."]})
    if kind not in Organization.Kind.values:
        raise ApplicationError("An organisation is either a client or a vendor.", code="invalid_kind")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                organization = Organization.objects.create(
                    name=name, slug=_unique_slug(name), kind=kind, country=country.upper(), website=website
                )
            break
        except IntegrityError:
            continue  # another sign-up took the same slug at the same moment; pick the next one
    else:
        raise ApplicationError("Could not create the organisation; please try again.", code="conflict", status=409)
    membership = Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    audit_record(actor=owner, action="organization.created", target=organization, organization=organization)
    audit_record(
        actor=owner,
        action="membership.created",
        target=membership,
        organization=organization,
        to_state=membership.role,
    )
    return organization


@transaction.atomic
def membership_add(*, organization: Organization, user: User, role: str, by: User) -> Membership:
    """Add `user` to `organization`; only the organisation's owners and admins may."""
    actor = Membership.objects.select_for_update().filter(organization=organization, user=by).first()
    if actor is None:
        raise Organization.DoesNotExist
    if not actor.can_manage:
        raise ApplicationError("Only owners and admins can add members.", code="permission_denied", status=403)
    if role not in Membership.Role.values:
        raise ApplicationError(f"“{role}” is not a role. Choose owner, admin, member or finance.")
    if role == Membership.Role.OWNER and actor.role != Membership.Role.OWNER:
        raise ApplicationError("Only an owner can make someone an owner.", code="permission_denied", status=403)
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    if not created:
        raise ApplicationError(f"{user.email} is already a member of {organization.name}.", code="conflict", status=409)
    audit_record(actor=by, action="membership.created", target=membership, organization=organization, to_state=role)
    return membership
