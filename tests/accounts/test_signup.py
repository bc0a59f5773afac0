"""Sign-up through allauth's pages: each intent creates the right user, organisation and membership."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import Membership, Organization, User
from core.models import AuditEvent
from talent.models import TalentProfile

PASSWORD = "a-long-and-unusual-passphrase-42"


def _signup(client: Client, **overrides: str):
    data = {
        "intent": "hire",
        "full_name": "Grace Hopper",
        "organization_name": "Compiler Works",
        "email": "grace@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "country": "US",
    }
    data.update(overrides)
    return client.post("/accounts/signup/", data)


@pytest.mark.django_db
def test_signup_to_hire_creates_a_client_organisation_owned_by_the_user(client: Client) -> None:
    response = _signup(client, intent="hire", organization_name="Compiler Works")

    assert response.status_code == 302
    user = User.objects.get(email="grace@example.com")
    assert (user.full_name, user.country) == ("Grace Hopper", "US")
    organization = Organization.objects.get()
    assert (organization.name, organization.kind, organization.slug) == ("Compiler Works", "client", "compiler-works")
    assert list(Membership.objects.values_list("user__email", "organization__name", "role")) == [
        ("grace@example.com", "Compiler Works", "owner")
    ]
    assert not TalentProfile.objects.exists()
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2")


@pytest.mark.django_db
def test_signup_as_a_vendor_creates_a_vendor_organisation(client: Client) -> None:
    _signup(client, intent="vendor", organization_name="Acme Outsourcing", email="ops@acme.example")

    membership = Membership.objects.select_related("organization", "user").get()
    assert (membership.user.email, membership.organization.kind, membership.role) == (
        "ops@acme.example",
        "vendor",
        "owner",
    )
    assert not TalentProfile.objects.exists()


@pytest.mark.django_db
def test_signup_to_work_creates_a_freelancer_profile_and_no_organisation(client: Client) -> None:
    _signup(client, intent="work", organization_name="", email="ada@example.com", country="PL")

    user = User.objects.get(email="ada@example.com")
    profile = TalentProfile.objects.get(user=user)
    assert (profile.country, profile.timezone) == ("PL", "Europe/Warsaw")
    assert not Organization.objects.exists()
    assert not Membership.objects.exists()
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"user.signed_up", "talent_profile.created"}


@pytest.mark.django_db
def test_signup_to_hire_without_an_organisation_name_shows_the_error_and_creates_nothing(client: Client) -> None:
    response = _signup(client, intent="hire", organization_name="  ")

    assert response.status_code == 200
    assert "Enter your company’s name." in response.context["form"].errors["organization_name"]
    assert not User.objects.exists()
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_signup_without_an_intent_is_refused_with_a_message(client: Client) -> None:
    response = _signup(client, intent="")

    assert response.status_code == 200
    assert response.context["form"].errors["intent"] == ["This field is required."]
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_requires_email_verification_before_login(client: Client) -> None:
    _signup(client)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.com"]
    assert not EmailAddress.objects.get(email="grace@example.com").verified
    # Unverified: logging in sends the user to "verify your email" instead of the dashboard.
    client.logout()
    response = client.post("/accounts/login/", {"login": "grace@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"

    confirm_url = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s/]+/)", message.body).group(1)
    client.post(confirm_url)

    assert EmailAddress.objects.get(email="grace@example.com").verified
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.django_db
def test_signup_with_an_email_already_registered_creates_no_second_account(client: Client) -> None:
    _signup(client, email="grace@example.com")
    client.logout()
    mail.outbox.clear()

    _signup(client, email="GRACE@example.com", organization_name="Another Org")

    assert User.objects.count() == 1
    assert Organization.objects.count() == 1
