"""Helpers shared by the talent pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest
from django.shortcuts import render

if TYPE_CHECKING:
    from accounts.models import User


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast("User", request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _confirm(request: HttpRequest, *, title: str, message: str, action_url: str, cancel_url: str, label: str):
    """The no-JavaScript confirmation step of a destructive action (htmx asks with hx-confirm instead)."""
    return render(
        request,
        "talent/confirm.html",
        {"title": title, "message": message, "action_url": action_url, "cancel_url": cancel_url, "label": label},
    )
