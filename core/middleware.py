"""Maps domain errors raised by page views to pages that say what to do (the API has its own handler)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import ApplicationError


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None  # DRF's exception handler answers API requests
        if isinstance(exception, ApplicationError):
            return render_error(request, status=exception.status, title="That didn’t work", message=exception.message)
        if isinstance(exception, ObjectDoesNotExist):
            # A selector found nothing this user may see: same answer as a missing page, by design.
            return render_error(
                request,
                status=404,
                title="Not found",
                message="We couldn’t find that page, or you don’t have access to it.",
            )
        return None


def render_error(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    context = {"status": status, "title": title, "message": message}
    if getattr(request, "htmx", False):
        # An htmx request swaps a fragment: show the error as an alert in the page's flash area instead.
        response = render(request, "core/_error_alert.html", context, status=status)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "core/error.html", context, status=status)
