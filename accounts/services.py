"""Writes for accounts: sign-up onboarding, organisations and their members, partner API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import API_SCOPES, ApiKey, Membership, Organization, User
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


# --- partner API keys --------------------------------------------------------------------------------------------

API_KEY_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SERVICE_ACCOUNT_DOMAIN = "keys.tandem.invalid"  # .invalid: no mail is ever delivered there


def api_key_hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _api_key_may_manage(*, by: User, organization: Organization | None, key_user: User | None = None) -> None:
    """Owners and admins manage their organisation's keys, a freelancer their own, ops staff with the permission
    any; anyone else gets the organisation's 404 or a 403 that says who may."""
    if by.is_staff and by.has_perm("accounts.add_apikey"):
        return
    if organization is None:
        if key_user is not None and key_user.pk != by.pk:
            raise ApiKey.DoesNotExist
        return
    membership = Membership.objects.filter(organization=organization, user=by).first()
    if membership is None:
        raise Organization.DoesNotExist
    if not membership.can_manage:
        raise ApplicationError(
            f"Only owners and admins of {organization.name} can manage its API keys.",
            code="permission_denied",
            status=403,
        )


@transaction.atomic
def api_key_create(
    *,
    by: User,
    name: str,
    scopes: list[str],
    organization_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the full key, which is shown this once and never stored.

    For an organisation the key gets its own service-account member (role admin), so it sees that organisation
    and nothing else; without one it is the caller's own freelancer key."""
    from accounts.selectors import user_is_freelancer

    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the key after what will use it, e.g. “HR system sync”."]
    valid = {scope for scope, _ in API_SCOPES}
    unknown = sorted(set(scopes) - valid)
    if unknown:
        errors["scopes"] = [f"Unknown scope(s): {', '.join(unknown)}. Choose from {', '.join(sorted(valid))}."]
    elif not scopes:
        errors["scopes"] = ["Choose at least one scope."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future (or leave it empty for a key that does not expire)."]
    if errors:
        raise ApplicationError("The API key could not be created; see the fields.", field_errors=errors)
    organization = Organization.objects.get(pk=organization_id) if organization_id is not None else None
    _api_key_may_manage(by=by, organization=organization)
    if organization is None and not user_is_freelancer(user=by):
        raise ApplicationError(
            "Keys belong to an organisation, or to a freelancer with a profile: choose the organisation.",
            code="organization_required",
        )
    prefix = "".join(secrets.choice(API_KEY_PREFIX_ALPHABET) for _ in range(ApiKey.PREFIX_LENGTH))
    raw_key = f"tnd_{prefix}_{secrets.token_urlsafe(32)}"
    acting = by
    if organization is not None:
        acting = User(
            email=f"api-{prefix}@{SERVICE_ACCOUNT_DOMAIN}",
            full_name=f"API key “{name}”"[:150],
            is_service_account=True,
        )
        acting.set_unusable_password()
        acting.save()
        Membership.objects.create(user=acting, organization=organization, role=Membership.Role.ADMIN)
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=api_key_hash(raw_key),
        organization=organization,
        user=acting,
        created_by=by,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    audit_record(actor=by, action="api_key.created", target=key, organization=organization, data={"scopes": key.scopes})
    return key, raw_key


@transaction.atomic
def api_key_revoke(*, key_id: int, by: User) -> ApiKey:
    """Revoke a key at once (idempotent); its service account can no longer act."""
    key = ApiKey.objects.select_for_update(of=("self",)).select_related("organization", "user").get(pk=key_id)
    _api_key_may_manage(by=by, organization=key.organization, key_user=key.user)
    if key.revoked_at is not None:
        return key
    key.revoked_at, key.revoked_by = timezone.now(), by
    key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    if key.user.is_service_account:
        User.objects.filter(pk=key.user_id).update(is_active=False)
    audit_record(actor=by, action="api_key.revoked", target=key, organization=key.organization)
    return key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The usable key with this secret, or None; records when it was last used (at most once a minute)."""
    parts = raw_key.split("_")
    if len(parts) < 3 or parts[0] != "tnd" or len(parts[1]) != ApiKey.PREFIX_LENGTH:
        return None
    key = ApiKey.objects.select_related("user", "organization").filter(prefix=parts[1]).first()
    now = timezone.now()
    if key is None or not hmac.compare_digest(key.secret_hash, api_key_hash(raw_key)) or not key.is_usable(now=now):
        return None
    if not key.user.is_active:
        return None
    if key.last_used_at is None or key.last_used_at < now - timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
