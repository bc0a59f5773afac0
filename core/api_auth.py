"""The partner API's authentication (API keys), scopes, rate limit and pagination, named in REST_FRAMEWORK."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer tnd_<prefix>_<secret>`: the request acts as the key's user (the organisation's
    service account, or the freelancer) with `request.auth` the ApiKey."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        from accounts.services import api_key_authenticate

        header = get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != "bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as “Authorization: Bearer tnd_…”, with no spaces in it."
            )
        key = api_key_authenticate(raw_key=header[1])
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is unknown, revoked or expired: use a current key.")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="Tandem API"'


class HasApiScope(BasePermission):
    """An API key may use a view only within its scopes: reads need `<area>:read` (or write), anything else
    `<area>:write`. Views name their area in `scope_area`. Signed-in people are checked by the services alone."""

    message = "This API key does not have the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        from accounts.models import ApiKey

        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        area = getattr(view, "scope_area", None)
        if area is None:
            return False
        write = request.method not in SAFE_METHODS
        if key.allows(area=area, write=write):
            return True
        self.message = (
            f"This API key lacks the “{area}:{'write' if write else 'read'}” scope; "
            "an organisation admin can create a key with it on the API settings page."
        )
        return False


class ApiRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per signed-in user) per period, from settings.API_RATE_LIMIT ("600/min")."""

    scope = "api"

    def get_rate(self) -> str:  # read at request time, so a setting change (or a test override) applies
        return str(settings.API_RATE_LIMIT)

    def get_cache_key(self, request: Request, view: Any) -> str:
        from accounts.models import ApiKey

        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class CursorPage(CursorPagination):
    """Long lists page by an opaque cursor (stable while rows are added): `?cursor=…&page_size=…`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
