"""The base pages per role: landing, dashboard, admin access."""

import pytest
from django.test import Client

from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory, UserFactory


@pytest.mark.django_db
def test_landing_page_invites_anonymous_visitors_to_sign_up(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/accounts/signup/"' in html
    assert 'href="/accounts/login/"' in html
    assert "htmx" in html


@pytest.mark.django_db
def test_signed_in_users_go_from_landing_to_their_dashboard(client: Client) -> None:
    client.force_login(UserFactory())

    assert client.get("/")["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_dashboard_needs_login(client: Client) -> None:
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_client_dashboard_shows_the_organisation_and_its_members_only(client: Client) -> None:
    owner = MembershipFactory(organization=OrganizationFactory(name="Northwind Health"), user__full_name="Nora North")
    MembershipFactory(organization=owner.organization, role="finance", user__full_name="Finn Finance")
    MembershipFactory(organization=OrganizationFactory(name="Southwind"), user__full_name="Sam South")
    client.force_login(owner.user)

    response = client.get("/dashboard/")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["role"] == "client"
    assert "Northwind Health" in html
    assert "Nora North" in html and "Finn Finance" in html
    assert "Southwind" not in html and "Sam South" not in html


@pytest.mark.django_db
def test_vendor_dashboard(client: Client) -> None:
    owner = MembershipFactory(organization=OrganizationFactory(name="Indus Ridge", kind="vendor"))
    client.force_login(owner.user)

    response = client.get("/dashboard/")

    assert response.context["role"] == "vendor"
    assert "Indus Ridge" in response.content.decode()


@pytest.mark.django_db
def test_freelancer_dashboard_shows_the_profile(client: Client) -> None:
    profile = TalentProfileFactory(headline="Senior Django engineer", user__full_name="Marta Kowalska")
    client.force_login(profile.user)

    response = client.get("/dashboard/")

    assert response.context["role"] == "freelancer"
    assert "Senior Django engineer" in response.content.decode()


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_team(client: Client, django_assert_max_num_queries) -> None:
    owner = MembershipFactory()
    client.force_login(owner.user)
    client.get("/dashboard/")  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get("/dashboard/")
    for _ in range(15):
        MembershipFactory(organization=owner.organization, role="member")

    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/dashboard/")


@pytest.mark.django_db
def test_admin_is_for_staff_only(client: Client) -> None:
    client.force_login(UserFactory())
    assert client.get("/admin/").status_code == 302

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/organization/").status_code == 200
    assert client.get("/admin/core/auditevent/").status_code == 200


@pytest.mark.django_db
def test_client_next_steps_follow_the_data(client: Client) -> None:
    from decimal import Decimal

    from marketplace.services.gigs import GigInput, gig_create
    from tests.factories import SkillFactory

    owner = MembershipFactory(organization=OrganizationFactory(kind="client"))
    client.force_login(owner.user)
    assert [s["done"] for s in client.get("/dashboard/").context["next_steps"]] == [False, False]

    gig_create(
        organization_id=owner.organization_id,
        by=owner.user,
        data=GigInput(
            title="T", description="D", kind="fixed", budget_amount=Decimal("100"), skills=[(SkillFactory().pk, 2)]
        ),
    )

    assert [s["done"] for s in client.get("/dashboard/").context["next_steps"]] == [True, False]
