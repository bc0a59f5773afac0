"""The automated accessibility check: every main page of each role, opened in headless Chromium with the vendored
axe-core injected, has no serious or critical violation. A failure lists each one (page, rule, impact, what to
do, the elements) so it says what to fix. Each page is also kept as a screenshot at both widths
(.local/e2e-artifacts/pages-<role>-<page>-<width>.png): the gallery of the main pages of every role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page

from accounts.models import Membership, User
from engagements.models import Contract
from tests.api_world import build_world
from tests.e2e.conftest import screenshot

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# Desktop and a phone: some problems (a table that scrolls sideways, a collapsed menu) exist only on a small screen.
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _signed_in(make_page: Any, base_url: str, user: User | None) -> Page:
    """A tab in its own browser context, signed in as user through its Django session cookie (the login page
    itself is checked anonymously), or anonymous when user is None."""
    page: Page = make_page()
    if user is not None:
        django_client = Client()
        django_client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        session = django_client.cookies["sessionid"].value
        page.context.add_cookies([{"name": "sessionid", "value": session, "url": base_url}])
    return page


def _blocking_violations(page: Page, path: str, viewport: str) -> list[str]:
    page.set_viewport_size(VIEWPORTS[viewport])
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} ({viewport}) is {overflow}px wider than the screen: it pans sideways"
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    # The check itself ran: the vendored engine, and rules that passed (a page axe could not read has none).
    assert results["testEngine"]["name"] == "axe-core"
    assert len(results["passes"]) > 10, f"{path}: axe checked almost nothing"
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"]]
        more = f" (+{len(targets) - 8} more)" if len(targets) > 8 else ""
        found.append(
            f"{path} ({viewport}): {violation['id']} ({violation['impact']}) {violation['help']}"
            f" -> {' | '.join(targets[:8])}{more}"
        )
    return found


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_main_pages_of_every_role_have_no_serious_accessibility_violations(new_page: Any, e2e_world: Any) -> None:
    world = build_world()
    ids = world.ids
    client_user = Membership.objects.get(organization=world.alpha, role=Membership.Role.OWNER).user
    freelancer = User.objects.get(pk=ids["freelancer_id"])
    vendor_user = Membership.objects.get(organization_id=ids["vendor_id"]).user
    staff = User.objects.create_user(
        email="ops-a11y@example.com", full_name="Ops Reviewer", is_staff=True, is_superuser=True
    )
    hourly = Contract.objects.get(pk=ids["contract_id"])
    gig_id = hourly.gig_id
    pages_by_role: list[tuple[str, User | None, list[str]]] = [
        ("visitor", None, ["/", "/accounts/login/", "/accounts/signup/", "/developers/"]),
        (
            "client",
            client_user,
            [
                "/dashboard/",
                "/gigs/mine/",
                f"/gigs/{gig_id}/matches/",
                f"/gigs/{gig_id}/bids/",
                "/contracts/",
                f"/contracts/{hourly.pk}/",
                "/billing/",
                "/settings/api/",
            ],
        ),
        (
            "freelancer",
            freelancer,
            [
                "/dashboard/",
                "/gigs/",
                f"/gigs/{gig_id}/",
                "/bids/mine/",
                "/compliance/",
                "/billing/earnings/",
                "/talent/profile/edit/",
            ],
        ),
        ("vendor", vendor_user, ["/dashboard/", "/sows/", f"/sows/{ids['sow_id']}/", f"/sows/{ids['sow_id']}/sla/"]),
        ("ops", staff, ["/ops/"]),
    ]

    violations: list[str] = []
    for role, user, paths in pages_by_role:
        page = _signed_in(new_page, e2e_world.url, user)
        for path in paths:
            for viewport in VIEWPORTS:
                violations.extend(_blocking_violations(page, path, viewport))
                screenshot(page, f"pages-{role}-{path.strip('/').replace('/', '-') or 'home'}-{viewport}")

    assert violations == [], "serious or critical accessibility violations:\n" + "\n".join(violations)
