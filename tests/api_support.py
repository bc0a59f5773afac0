"""Test support for the partner API: keys made through the real service, and clients that send them.

key = org_api_key(organization, scopes=["marketplace:write"])   # an organisation's key (its service account)
key = freelancer_api_key(freelancer_user, scopes=[...])         # a freelancer's own key
client = api_client(key)                                        # rest_framework APIClient with the Bearer key
"""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from accounts.models import API_SCOPES, ApiKey, Membership, Organization, User

ALL_SCOPES = [scope for scope, _ in API_SCOPES]
READ_SCOPES = [scope for scope in ALL_SCOPES if scope.endswith(":read")]


def _manager(organization: Organization) -> User:
    membership = (
        Membership.objects.filter(
            organization=organization, role__in=["owner", "admin"], user__is_service_account=False
        )
        .select_related("user")
        .first()
    )
    if membership is not None:
        return membership.user
    owner = User.objects.create(email=f"owner-{organization.slug}@example.com", full_name="Key Owner")
    Membership.objects.create(user=owner, organization=organization, role=Membership.Role.OWNER)
    return owner


def org_api_key(organization: Organization, *, scopes: list[str] | None = None, **kwargs: Any) -> str:
    """A new key of `organization` (all scopes unless given); returns the full key."""
    from accounts.services import api_key_create

    _, raw = api_key_create(
        by=_manager(organization),
        name=kwargs.pop("name", "Test integration"),
        scopes=ALL_SCOPES if scopes is None else scopes,
        organization_id=organization.pk,
        **kwargs,
    )
    return raw


def freelancer_api_key(user: User, *, scopes: list[str] | None = None, **kwargs: Any) -> str:
    """A freelancer's own key (the user needs a talent profile); returns the full key."""
    from accounts.services import api_key_create

    _, raw = api_key_create(
        by=user, name=kwargs.pop("name", "My tools"), scopes=ALL_SCOPES if scopes is None else scopes, **kwargs
    )
    return raw


def api_client(raw_key: str | None = None) -> APIClient:
    client = APIClient()
    if raw_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def key_of(raw_key: str) -> ApiKey:
    return ApiKey.objects.get(prefix=raw_key.split("_")[1])
