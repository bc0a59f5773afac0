from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.selectors import dashboard_context
from core.health import health_report


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/landing.html")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context = dashboard_context(user=request.user, session=request.session)  # type: ignore[arg-type]
    return render(request, "core/dashboard.html", context)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis, a worker and beat all answer; 503 with the failing parts otherwise.

    `?shallow=1` skips the worker round trip (for load-balancer probes that must answer fast).
    """
    report = health_report(include_worker=request.GET.get("shallow") != "1")
    return JsonResponse(report, status=200 if report["ok"] else 503)
