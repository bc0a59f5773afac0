"""Journey 6: a client's owner creates a partner API key on the settings page; a partner system (this test) uses it
with the REST API; the owner sees it used, then revokes it, and the API refuses it from then on."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Playwright, expect

from accounts.models import ApiKey
from marketplace.models import Gig
from tests.e2e.conftest import screenshot
from tests.e2e.support import client_owner, sign_in
from tests.factories import SkillFactory


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_owner_creates_an_api_key_a_partner_uses_it_and_the_owner_revokes_it(
    page: Page, playwright_instance: Playwright, e2e_world: Any
) -> None:
    owner, organization = client_owner(email="ada@acme.example", organization_name="Acme Robotics")
    skill = SkillFactory(name="Django", slug="django")
    sign_in(page, email=owner.email)

    # The settings page: no keys yet, and a way to make the first.
    page.goto("/settings/api/")
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()
    screenshot(page, "j6-01-api-keys-empty")
    page.get_by_role("link", name="Create your first key").click()

    # The form: a name and only the scopes the HR system needs.
    expect(page.get_by_role("heading", name="New API key")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("HR system sync")
    page.check("input[name=scopes][value='marketplace:write']")
    screenshot(page, "j6-02-api-key-form")
    page.get_by_role("button", name="Create key").click()

    # Shown once.
    expect(page.get_by_role("heading", name="Your new API key")).to_be_visible()
    raw_key = page.locator("#new-api-key").input_value()
    key = ApiKey.objects.get(organization=organization)
    assert key.name == "HR system sync"
    assert key.scopes == ["marketplace:write"]
    assert raw_key.startswith(key.display_prefix) and len(raw_key) > len(key.display_prefix) + 16
    screenshot(page, "j6-03-api-key-created")

    # The partner system uses the key: creates a draft gig, lists it, is refused what the key may not do.
    api = playwright_instance.request.new_context(
        base_url=e2e_world.url, extra_http_headers={"Authorization": f"Bearer {raw_key}"}
    )
    try:
        created = api.post(
            "/api/v1/gigs/",
            data={
                "title": "Payroll integration",
                "description": "Sync our HR records with Tandem contracts every night.",
                "kind": "hourly",
                "currency": "USD",
                "hourly_rate_min": "40.00",
                "hourly_rate_max": "70.00",
                "estimated_hours": 60,
                "skills": [{"skill_id": skill.pk, "min_level": 3}],
            },
        )
        assert created.status == 201, created.text()
        gig_id = created.json()["id"]
        assert created.json()["status"] == "draft"

        listed = api.get("/api/v1/gigs/")
        assert listed.status == 200
        assert [gig["id"] for gig in listed.json()["results"]] == [gig_id]

        refused = api.get("/api/v1/invoices/")
        assert refused.status == 403
        assert "billing:read" in refused.text()
    finally:
        api.dispose()
    gig = Gig.objects.get(pk=gig_id)
    assert (gig.organization_id, gig.title, gig.status) == (organization.pk, "Payroll integration", "draft")

    # The owner sees the gig the key created, and that the key has been used.
    page.goto("/gigs/mine/")
    expect(page.get_by_role("link", name="Payroll integration")).to_be_visible()
    page.goto("/settings/api/")
    row = page.locator(f"#api-key-{key.pk}")
    expect(row.get_by_role("rowheader")).to_have_text("HR system sync")
    expect(row).to_contain_text("marketplace:write")
    expect(row).not_to_contain_text("Never used")
    expect(row.locator("td").nth(3)).to_contain_text("ago")
    expect(row.get_by_text("Active")).to_be_visible()
    screenshot(page, "j6-04-api-keys-list")

    # Revoked on the page (after confirming), the key no longer works.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("link", name="Revoke").click()
    expect(page.locator(f"#api-key-{key.pk}").get_by_text("Revoked")).to_be_visible()
    screenshot(page, "j6-05-api-key-revoked")
    api = playwright_instance.request.new_context(
        base_url=e2e_world.url, extra_http_headers={"Authorization": f"Bearer {raw_key}"}
    )
    try:
        assert api.get("/api/v1/gigs/").status == 401
    finally:
        api.dispose()
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == owner
