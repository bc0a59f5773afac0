"""Steps shared by the browser journeys: people who already exist (arranged with the ORM, as a precondition) and
signing in through the real login page."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from playwright.sync_api import Page

from accounts.models import Membership, Organization, User
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganizationFactory, UserFactory


def verified_user(**kwargs: Any) -> User:
    """A user whose email is verified (allauth asks for verification before the first sign-in otherwise)."""
    user = UserFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def client_owner(*, email: str, organization_name: str) -> tuple[User, Organization]:
    user = verified_user(email=email, full_name="Ada Client")
    organization = OrganizationFactory(name=organization_name, kind=Organization.Kind.CLIENT)
    MembershipFactory(user=user, organization=organization, role=Membership.Role.OWNER)
    return user, organization


def sign_in(page: Page, *, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def sign_out(page: Page) -> None:
    page.goto("/accounts/logout/")
    page.locator("main form button[type=submit], form[action*=logout] button[type=submit]").first.click()
