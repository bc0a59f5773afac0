"""Every app's API routes are mounted under /api/v1/."""

from django.urls import reverse


def test_gig_routes_are_under_api_v1() -> None:
    assert reverse("api-gig-list") == "/api/v1/gigs/"
    assert reverse("api-schema") == "/api/schema/"
