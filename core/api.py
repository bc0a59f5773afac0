"""The partner API's error mapping (every error leaves as RFC 9457 problem details, application/problem+json)
and the organisation a request acts for. Authentication, scopes, rate limit and pagination: core/api_auth.py
(apart, because DRF imports those while rest_framework.views itself loads). Each app's api.py holds its views."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, BulkApplicationError
from core.types import api_user

PROBLEM_BASE = "https://tandem.example/problems/"


def _problem(*, status_code: int, code: str, title: str, detail: str, errors: Any = None) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code.replace("_", "-"),
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, content_type="application/problem+json")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BulkApplicationError):  # errors by index: the shape DRF gives a list's own validation
        errors = {exc.collection: {str(index): fields for index, fields in exc.item_errors.items()}}
        return _problem(
            status_code=exc.status, code="validation_error", title="Invalid request", detail=exc.message, errors=errors
        )
    if isinstance(exc, ApplicationError):
        title = "Conflict" if exc.status == status.HTTP_409_CONFLICT else "Invalid request"
        return _problem(
            status_code=exc.status, code=exc.code, title=title, detail=exc.message, errors=exc.field_errors or None
        )
    if isinstance(exc, (ObjectDoesNotExist, Http404)):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        problem = _problem(
            status_code=response.status_code,
            code="validation_error",
            title="Invalid request",
            detail="The request has invalid fields; see errors.",
            errors=response.data,
        )
    else:
        problem = _problem(
            status_code=response.status_code,
            code=str(exc.default_code),
            title=str(exc.default_detail),
            detail=str(exc.detail),
        )
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        if header in response:
            problem[header] = response[header]
    return problem


def api_organization_id(request: Request) -> int:
    """The organisation a write acts for: an organisation key's own; for a signed-in person, the organisation
    chosen in their session (or their first). A freelancer's key has none: 403 with what to use instead."""
    from accounts.models import ApiKey
    from accounts.selectors import user_context

    if isinstance(request.auth, ApiKey):
        if request.auth.organization_id is None:
            raise exceptions.PermissionDenied("This is a freelancer's key; use a key of the organisation instead.")
        return request.auth.organization_id
    context = user_context(user=api_user(request), session=request.session)
    if context.organization is None:
        raise exceptions.PermissionDenied("Only members of an organisation can do this.")
    return context.organization.pk
