from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error

from accounts.selectors import dashboard_context
from core.health import health_report
from core.views_dashboard import dashboard_panels


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/landing.html")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context = dashboard_context(user=request.user, session=request.session)  # type: ignore[arg-type]
    context |= dashboard_panels(
        user=request.user,  # type: ignore[arg-type]
        role=context["role"],
        organization=context["organization"],
        profile=context["profile"],
    )
    return render(request, "core/dashboard.html", context)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis, a worker and beat all answer; 503 with the failing parts otherwise.

    `?shallow=1` skips the worker round trip (for load-balancer probes that must answer fast).
    """
    report = health_report(include_worker=request.GET.get("shallow") != "1")
    return JsonResponse(report, status=200 if report["ok"] else 503)


def _api_problem(request: HttpRequest, status: int, title: str, detail: str) -> JsonResponse:
    body = {"type": f"https://tandem.example/problems/{title.lower().replace(' ', '-')}", "title": title}
    return JsonResponse(
        {**body, "status": status, "detail": detail}, status=status, content_type="application/problem+json"
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: problem details under /api/ (a partner's client reads JSON), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return _api_problem(request, 404, "Not Found", "No API endpoint or object at this address; see /api/docs/.")
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_problem(request, 500, "Server Error", "Something went wrong on our side; retry later.")
    return default_server_error(request)
