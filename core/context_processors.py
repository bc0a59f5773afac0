from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Who is looking, for the navigation: their role and current organisation."""
    from accounts.selectors import user_context

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": None, "nav_organization": None, "nav_manages_integrations": False, "site_name": "Tandem"}
    context = user_context(user=user, session=request.session)
    # API keys and webhooks: an organisation's owners and admins, or a freelancer for themselves.
    manages = context.role == "freelancer" or (context.membership is not None and context.membership.can_manage)
    return {
        "nav_role": context.role,
        "nav_organization": context.organization,
        "nav_manages_integrations": manages,
        "site_name": "Tandem",
    }
