"""Login and lockout (allauth's login_failed rate limit: 5 failures per account in 15 minutes)."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory


def _verified_user(email: str) -> User:
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password})


@pytest.mark.django_db
def test_login_with_the_right_password_reaches_the_dashboard(client: Client) -> None:
    _verified_user("ada@example.com")

    response = _login(client, "ada@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_wrong_password_says_so(client: Client) -> None:
    _verified_user("ada@example.com")

    response = _login(client, "ada@example.com", "not-the-password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_account_is_locked_after_five_failures_even_for_the_right_password(client: Client) -> None:
    _verified_user("ada@example.com")
    _verified_user("bob@example.com")
    for _ in range(5):
        _login(client, "ada@example.com", "wrong-password")

    response = _login(client, "ada@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same place is not locked out by someone guessing at Ada's.
    assert _login(client, "bob@example.com", DEFAULT_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_four_failures_do_not_lock_the_account(client: Client) -> None:
    _verified_user("ada@example.com")
    for _ in range(4):
        _login(client, "ada@example.com", "wrong-password")

    response = _login(client, "ada@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 302


@pytest.mark.django_db
def test_admin_login_goes_through_the_rate_limited_login(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_password_reset_sends_a_link_to_known_addresses(client: Client, mailoutbox) -> None:
    _verified_user("ada@example.com")

    response = client.post("/accounts/password/reset/", {"email": "ada@example.com"})

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/key/" in mailoutbox[0].body
