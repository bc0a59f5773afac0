"""Typing helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a login_required view: `user` is a User, never AnonymousUser."""

    user: User  # type: ignore[assignment]
