"""Typing helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a login_required view: `user` is a User, never AnonymousUser."""

    user: User  # type: ignore[assignment]


def api_user(request: object) -> User:
    """The caller of an API view that requires authentication (IsAuthenticated ran first): a User."""
    from accounts.models import User

    user = getattr(request, "user", None)
    if not isinstance(user, User):  # unreachable behind IsAuthenticated; a guard, not a branch callers rely on
        raise PermissionError("An authenticated caller is required.")
    return user
