"""The talent partner API: freelancer profiles and vendor firms (search and detail, public fields only, visibility
as on the pages), and a client's talent pools (list, create, members added and removed), with the scopes and
organisations that may use each."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization
from talent.models import TalentPool, TalentPoolMember, TalentProfile
from talent.services import talent_profile_search_vector_refresh
from tests.api_support import READ_SCOPES, api_client, freelancer_api_key, org_api_key
from tests.factories import OrganizationFactory, ProfileSkillFactory, TalentProfileFactory, UserFactory
from tests.talent.factories import (
    PortfolioItemFactory,
    RateCardEntryFactory,
    TalentPoolFactory,
    TalentPoolMemberFactory,
    VendorCapabilityFactory,
    VendorCertificationFactory,
    VendorProfileFactory,
    VendorTeamMemberFactory,
)

TALENT = "/api/v1/talent/"
VENDORS = "/api/v1/vendors/"
POOLS = "/api/v1/talent-pools/"

PROFILE_FIELDS = {
    "freelancer_id",
    "full_name",
    "headline",
    "bio",
    "hourly_rate",
    "currency",
    "weekly_hours",
    "country",
    "timezone",
    "languages",
    "skills",
    "rating",
    "rating_count",
    "completed_contracts",
    "on_time_rate",
    "member_since",
}


def _profile(name: str, *, skills=(), **fields) -> TalentProfile:
    profile = TalentProfileFactory(user__full_name=name, user__email=f"{name.split()[0].lower()}@example.com", **fields)
    for skill, level in skills:
        ProfileSkillFactory(profile=profile, skill=skill, level=level)
    TalentProfile.objects.filter(pk=profile.pk).update(skill_ids=sorted(skill.pk for skill, _ in skills))
    return profile


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["freelancer_id"] for row in response.json()["results"]]


@pytest.fixture
def people(skills):
    """Four freelancers: Ada (public, GB, 60 GBP, Python 5 + Django 4), Ben (public, US, 90 USD, Python), Cleo
    (clients only, GB, Figma) and Dan (private)."""
    ada = _profile(
        "Ada Lovelace",
        skills=[(skills["python"], 5), (skills["django"], 4)],
        headline="Django backend engineer",
        bio="Payments and ledgers.",
        hourly_rate=Decimal("60.00"),
        currency="GBP",
        country="GB",
        languages=["English", "French"],
    )
    ben = _profile(
        "Ben Okafor",
        skills=[(skills["python"], 3)],
        headline="Data engineer",
        hourly_rate=Decimal("90.00"),
        currency="USD",
        country="US",
    )
    cleo = _profile("Cleo Park", skills=[(skills["figma"], 4)], headline="Product designer", visibility="clients")
    dan = _profile("Dan Hidden", headline="Backend engineer", visibility="private")
    talent_profile_search_vector_refresh()
    return {"ada": ada.user, "ben": ben.user, "cleo": cleo.user, "dan": dan.user}


# --- freelancer profiles ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_lists_the_profiles_the_caller_may_see_with_public_fields_only(people, skills, client_org) -> None:
    raw = org_api_key(client_org, scopes=["talent:read"])

    response = api_client(raw).get(TALENT)

    assert _ids(response) == [people["cleo"].pk, people["ben"].pk, people["ada"].pk]  # newest first; Dan is private
    ada = response.json()["results"][2]
    assert set(ada) == PROFILE_FIELDS
    assert ada == {
        "freelancer_id": people["ada"].pk,
        "full_name": "Ada Lovelace",
        "headline": "Django backend engineer",
        "bio": "Payments and ledgers.",
        "hourly_rate": "60.00",
        "currency": "GBP",
        "weekly_hours": 40,
        "country": "GB",
        "timezone": "Europe/London",
        "languages": ["English", "French"],
        "skills": [
            {"skill_id": skills["python"].pk, "name": "Python", "level": 5, "years": 2},
            {"skill_id": skills["django"].pk, "name": "Django", "level": 4, "years": 2},
        ],
        "rating": None,
        "rating_count": 0,
        "completed_contracts": 0,
        "on_time_rate": None,
        "member_since": ada["member_since"],
    }
    assert "ada@example.com" not in response.content.decode()


@pytest.mark.django_db
def test_profiles_for_clients_only_are_hidden_from_a_vendor_firm(people, vendor_org) -> None:
    raw = org_api_key(vendor_org, scopes=["talent:read"])

    assert _ids(api_client(raw).get(TALENT)) == [people["ben"].pk, people["ada"].pk]
    assert api_client(raw).get(f"{TALENT}{people['cleo'].pk}/").status_code == 404


@pytest.mark.django_db
def test_search_filters_by_skills_country_rate_and_text(people, skills, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))
    python, django = skills["python"].pk, skills["django"].pk

    assert _ids(client.get(TALENT, {"skill": [python, django]})) == [people["ada"].pk]  # every skill
    assert _ids(client.get(TALENT, {"skill": [python]})) == [people["ben"].pk, people["ada"].pk]
    assert _ids(client.get(TALENT, {"country": "US"})) == [people["ben"].pk]
    assert _ids(client.get(TALENT, {"min_rate": "70"})) == [people["ben"].pk]
    assert _ids(client.get(TALENT, {"max_rate": "70.00", "currency": "GBP"})) == [people["ada"].pk]
    assert _ids(client.get(TALENT, {"q": "ledgers"})) == [people["ada"].pk]  # the bio
    assert _ids(client.get(TALENT, {"q": "okafor"})) == [people["ben"].pk]  # the name
    assert _ids(client.get(TALENT, {"q": "backend"})) == [people["ada"].pk]  # Dan's profile stays hidden


@pytest.mark.django_db
def test_search_pages_by_cursor(people, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    first = client.get(TALENT, {"page_size": 2}).json()
    second = client.get(first["next"]).json()

    assert [row["freelancer_id"] for row in first["results"]] == [people["cleo"].pk, people["ben"].pk]
    assert [row["freelancer_id"] for row in second["results"]] == [people["ada"].pk]
    assert second["next"] is None


@pytest.mark.django_db
def test_invalid_search_parameters_are_a_400_with_the_fields(client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    response = client.get(TALENT, {"min_rate": "cheap", "skill": "python", "country": "XX"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"min_rate", "skill", "country"}


@pytest.mark.django_db
def test_search_takes_the_same_number_of_queries_for_one_or_three_profiles(skills, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))
    _profile("One Person", skills=[(skills["python"], 3)])
    client.get(TALENT)  # the key's first use records its last-used time

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(TALENT).json()["results"]) == 1
    _profile("Two Person", skills=[(skills["django"], 2), (skills["python"], 4)])
    _profile("Three Person", skills=[(skills["figma"], 1)])
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(TALENT).json()["results"]) == 3

    assert len(three) == len(one)


@pytest.mark.django_db
def test_a_profile_shows_its_portfolio(people, client_org) -> None:
    PortfolioItemFactory(
        profile=people["ada"].talent_profile, title="Ledger rewrite", description="Double entry.", url="https://a.dev"
    )
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    response = client.get(f"{TALENT}{people['ada'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PROFILE_FIELDS | {"portfolio"}
    assert (body["full_name"], body["hourly_rate"]) == ("Ada Lovelace", "60.00")
    assert [(item["title"], item["description"], item["url"]) for item in body["portfolio"]] == [
        ("Ledger rewrite", "Double entry.", "https://a.dev")
    ]


@pytest.mark.django_db
def test_private_inactive_and_unknown_profiles_are_404(people, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))
    people["ben"].is_active = False
    people["ben"].save(update_fields=["is_active"])

    for user_id in (people["dan"].pk, people["ben"].pk, 999_999):
        response = client.get(f"{TALENT}{user_id}/")
        assert response.status_code == 404, user_id
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_freelancer_sees_their_own_private_profile(people) -> None:
    raw = freelancer_api_key(people["dan"], scopes=["talent:read"])

    response = api_client(raw).get(f"{TALENT}{people['dan'].pk}/")

    assert response.status_code == 200
    assert response.json()["full_name"] == "Dan Hidden"
    assert "visibility" not in response.json()


@pytest.mark.django_db
def test_talent_endpoints_need_a_key_with_the_talent_scope(people, client_org) -> None:
    wrong_scope = api_client(org_api_key(client_org, scopes=["billing:read"]))

    assert api_client().get(TALENT).status_code == 401
    assert api_client().get(f"{TALENT}{people['ada'].pk}/").status_code == 401
    assert wrong_scope.get(TALENT).status_code == 403
    assert wrong_scope.get(VENDORS).status_code == 403
    assert wrong_scope.get(POOLS).status_code == 403


# --- vendor firms -------------------------------------------------------------------------------------------------


@pytest.fixture
def firms(skills):
    """Indus Ridge (IN, serves IN and GB, Python and Django) with a full profile; Manila Desk (PH, serves PH and US,
    Figma); Blank Co (GB) with no profile yet."""
    indus = VendorProfileFactory(
        organization__name="Indus Ridge",
        organization__country="IN",
        organization__website="https://indus.example",
        headline="Backend teams from Pune",
        description="Django and PostgreSQL teams.",
        service_lines=["software development"],
        headcount=80,
        countries_served=["IN", "GB"],
        timezone="Asia/Kolkata",
    )
    VendorCapabilityFactory(vendor=indus, skill=skills["python"], level=5)
    VendorCapabilityFactory(vendor=indus, skill=skills["django"], level=4)
    manila = VendorProfileFactory(organization__name="Manila Desk", organization__country="PH")
    VendorCapabilityFactory(vendor=manila, skill=skills["figma"], level=3)
    blank = OrganizationFactory(name="Blank Co", kind=Organization.Kind.VENDOR, country="GB")
    return {"indus": indus.organization, "manila": manila.organization, "blank": blank}


def _vendor_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_vendor_search_lists_firms_with_their_profiles(firms, skills, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    response = client.get(VENDORS)

    assert _vendor_ids(response) == [firms["blank"].pk, firms["manila"].pk, firms["indus"].pk]
    blank, _, indus = response.json()["results"]
    assert blank == {"id": firms["blank"].pk, "name": "Blank Co", "country": "GB", "website": "", "profile": None}
    assert indus["profile"] == {
        "headline": "Backend teams from Pune",
        "description": "Django and PostgreSQL teams.",
        "service_lines": ["software development"],
        "headcount": 80,
        "countries_served": ["IN", "GB"],
        "timezone": "Asia/Kolkata",
        "capabilities": [
            {"skill_id": skills["python"].pk, "name": "Python", "level": 5},
            {"skill_id": skills["django"].pk, "name": "Django", "level": 4},
        ],
    }


@pytest.mark.django_db
def test_vendor_search_filters(firms, skills, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    assert _vendor_ids(client.get(VENDORS, {"skill": [skills["python"].pk, skills["django"].pk]})) == [
        firms["indus"].pk
    ]
    assert _vendor_ids(client.get(VENDORS, {"skill": [skills["python"].pk, skills["figma"].pk]})) == []
    assert _vendor_ids(client.get(VENDORS, {"country": "PH"})) == [firms["manila"].pk]
    assert _vendor_ids(client.get(VENDORS, {"serves_country": "GB"})) == [firms["indus"].pk]
    assert _vendor_ids(client.get(VENDORS, {"q": "postgresql"})) == [firms["indus"].pk]
    assert _vendor_ids(client.get(VENDORS, {"q": "blank"})) == [firms["blank"].pk]
    invalid = client.get(VENDORS, {"skill": "many", "serves_country": "Narnia"})
    assert invalid.status_code == 400
    assert set(invalid.json()["errors"]) == {"skill", "serves_country"}


@pytest.mark.django_db
def test_vendor_search_takes_the_same_number_of_queries_for_one_or_three_firms(skills, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))
    VendorCapabilityFactory(skill=skills["python"])
    client.get(VENDORS)

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(VENDORS).json()["results"]) == 1
    VendorCapabilityFactory(skill=skills["django"])
    OrganizationFactory(kind=Organization.Kind.VENDOR)
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(VENDORS).json()["results"]) == 3

    assert len(three) == len(one)


@pytest.mark.django_db
def test_a_vendor_firm_shows_certifications_rates_and_active_team(firms, skills, client_org) -> None:
    indus = firms["indus"].vendor_profile
    VendorCertificationFactory(vendor=indus, name="ISO 27001", issuer="BSI", expires_date=None)
    rate = RateCardEntryFactory(vendor=indus, role="Backend engineer", seniority="senior", rate=Decimal("45.00"))
    VendorTeamMemberFactory(
        vendor=indus, full_name="Priya Nair", title="Tech lead", rate_card_entry=rate, skills=[skills["django"]]
    )
    VendorTeamMemberFactory(vendor=indus, full_name="Gone Person", is_active=False)
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    response = client.get(f"{VENDORS}{firms['indus'].pk}/")

    assert response.status_code == 200
    profile = response.json()["profile"]
    assert profile["certifications"] == [
        {"name": "ISO 27001", "issuer": "BSI", "issued_date": None, "expires_date": None, "expiry_status": "no_expiry"}
    ]
    assert profile["rate_card"] == [
        {
            "id": rate.pk,
            "role": "Backend engineer",
            "seniority": "senior",
            "rate": "45.00",
            "currency": "USD",
            "unit": "hour",
        }
    ]
    assert [(m["full_name"], m["title"], m["rate_card_entry_id"], m["skills"]) for m in profile["team"]] == [
        ("Priya Nair", "Tech lead", rate.pk, ["Django"])
    ]


@pytest.mark.django_db
def test_a_firm_without_a_profile_and_a_client_organisation_as_a_vendor(firms, client_org) -> None:
    client = api_client(org_api_key(client_org, scopes=["talent:read"]))

    blank = client.get(f"{VENDORS}{firms['blank'].pk}/")

    assert (blank.status_code, blank.json()["profile"]) == (200, None)
    assert client.get(f"{VENDORS}{client_org.pk}/").status_code == 404  # a client is not a vendor firm
    assert api_client().get(f"{VENDORS}{firms['blank'].pk}/").status_code == 401


# --- talent pools -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pools_list_only_the_callers_organisation(pool, other_client_member) -> None:
    TalentPoolMemberFactory(pool=pool)
    TalentPoolMemberFactory(pool=pool, freelancer=None, vendor=OrganizationFactory(kind="vendor"))
    TalentPoolFactory(organization=other_client_member.organization, name="Theirs")

    response = api_client(org_api_key(pool.organization, scopes=["talent:read"])).get(POOLS)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": pool.pk,
            "name": "Backend bench",
            "description": "People we hire again.",
            "organization_id": pool.organization_id,
            "freelancer_count": 1,
            "vendor_count": 1,
            "created_at": response.json()["results"][0]["created_at"],
        }
    ]
    other = api_client(org_api_key(other_client_member.organization, scopes=["talent:read"]))
    assert [row["name"] for row in other.get(POOLS).json()["results"]] == ["Theirs"]
    assert other.get(f"{POOLS}{pool.pk}/").status_code == 404
    assert other.get(f"{POOLS}{pool.pk}/members/").status_code == 404


@pytest.mark.django_db
def test_creating_a_pool_ignores_fields_the_caller_may_not_set(client_org, other_client_member) -> None:
    raw = org_api_key(client_org, scopes=["talent:write"])
    other = other_client_member.organization

    response = api_client(raw).post(
        POOLS,
        {
            "name": "Designers",
            "description": "For the rebrand.",
            "organization": other.pk,
            "organization_id": other.pk,
            "freelancer_count": 99,
            "id": 12345,
        },
        format="json",
    )

    assert response.status_code == 201
    pool = TalentPool.objects.get()
    assert (pool.name, pool.description, pool.organization_id) == ("Designers", "For the rebrand.", client_org.pk)
    assert response.json()["id"] == pool.pk
    assert (response.json()["freelancer_count"], response.json()["vendor_count"]) == (0, 0)


@pytest.mark.django_db
def test_a_pool_needs_a_name_and_a_unique_one(pool) -> None:
    client = api_client(org_api_key(pool.organization, scopes=["talent:write"]))

    missing = client.post(POOLS, {"description": "No name"}, format="json")
    duplicate = client.post(POOLS, {"name": "backend BENCH"}, format="json")

    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"name"}
    assert duplicate.status_code == 409
    assert "already has a pool" in duplicate.json()["detail"]
    assert TalentPool.objects.count() == 1


@pytest.mark.django_db
def test_read_only_keys_freelancers_and_vendors_may_not_create_pools(freelancer, vendor_org, client_org) -> None:
    read_only = api_client(org_api_key(client_org, scopes=READ_SCOPES))
    as_freelancer = api_client(freelancer_api_key(freelancer))
    as_vendor = api_client(org_api_key(vendor_org))

    assert read_only.post(POOLS, {"name": "Nope"}, format="json").status_code == 403
    assert as_freelancer.post(POOLS, {"name": "Nope"}, format="json").status_code == 403
    assert as_vendor.post(POOLS, {"name": "Nope"}, format="json").status_code == 404
    assert api_client().post(POOLS, {"name": "Nope"}, format="json").status_code == 401
    assert as_freelancer.get(POOLS).json()["results"] == []
    assert not TalentPool.objects.exists()


@pytest.mark.django_db
def test_members_are_added_listed_and_removed(pool, freelancer, vendor_org) -> None:
    client = api_client(org_api_key(pool.organization, scopes=["talent:write"]))
    members = f"{POOLS}{pool.pk}/members/"

    person = client.post(members, {"freelancer_id": freelancer.pk, "notes": "Great on ledgers."}, format="json")
    firm = client.post(members, {"vendor_id": vendor_org.pk, "added_by": 1, "pool": 999}, format="json")
    listed = client.get(members)

    assert (person.status_code, firm.status_code) == (201, 201)
    assert person.json() == {
        "id": person.json()["id"],
        "kind": "freelancer",
        "freelancer_id": freelancer.pk,
        "vendor_id": None,
        "name": "Marta Kowalska",
        "notes": "Great on ledgers.",
        "created_at": person.json()["created_at"],
    }
    assert (firm.json()["kind"], firm.json()["vendor_id"], firm.json()["name"]) == (
        "vendor",
        vendor_org.pk,
        "Indus Ridge",
    )
    assert [row["id"] for row in listed.json()["results"]] == [firm.json()["id"], person.json()["id"]]
    assert "marta@example.com" not in listed.content.decode()

    removed = client.delete(f"{members}{person.json()['id']}/")

    assert removed.status_code == 204
    assert list(TalentPoolMember.objects.values_list("vendor_id", flat=True)) == [vendor_org.pk]


@pytest.mark.django_db
def test_adding_a_member_twice_or_someone_who_is_not_a_freelancer_is_refused(pool, freelancer) -> None:
    client = api_client(org_api_key(pool.organization, scopes=["talent:write"]))
    members = f"{POOLS}{pool.pk}/members/"
    client.post(members, {"freelancer_id": freelancer.pk}, format="json")

    again = client.post(members, {"freelancer_id": freelancer.pk}, format="json")
    stranger = client.post(members, {"freelancer_id": UserFactory().pk}, format="json")
    neither = client.post(members, {"notes": "who?"}, format="json")
    invalid = client.post(members, {"freelancer_id": "marta"}, format="json")

    assert again.status_code == 409
    assert (stranger.status_code, set(stranger.json()["errors"])) == (400, {"freelancer"})
    assert neither.status_code == 400
    assert (invalid.status_code, set(invalid.json()["errors"])) == (400, {"freelancer_id"})
    assert TalentPoolMember.objects.count() == 1


@pytest.mark.django_db
def test_another_organisation_can_neither_add_to_nor_remove_from_a_pool(pool, freelancer, other_client_member) -> None:
    member = TalentPoolMemberFactory(pool=pool)
    other = api_client(org_api_key(other_client_member.organization))
    read_only = api_client(org_api_key(pool.organization, scopes=READ_SCOPES))

    assert other.post(f"{POOLS}{pool.pk}/members/", {"freelancer_id": freelancer.pk}, format="json").status_code == 404
    assert other.delete(f"{POOLS}{pool.pk}/members/{member.pk}/").status_code == 404
    assert (
        read_only.post(f"{POOLS}{pool.pk}/members/", {"freelancer_id": freelancer.pk}, format="json").status_code == 403
    )
    assert read_only.delete(f"{POOLS}{pool.pk}/members/{member.pk}/").status_code == 403
    assert api_client().delete(f"{POOLS}{pool.pk}/members/{member.pk}/").status_code == 401
    assert list(TalentPoolMember.objects.values_list("pk", flat=True)) == [member.pk]


@pytest.mark.django_db
def test_pool_members_take_the_same_number_of_queries_for_one_or_three(pool) -> None:
    client = api_client(org_api_key(pool.organization, scopes=["talent:read"]))
    TalentPoolMemberFactory(pool=pool)
    client.get(f"{POOLS}{pool.pk}/members/")

    with CaptureQueriesContext(connection) as one:
        assert len(client.get(f"{POOLS}{pool.pk}/members/").json()["results"]) == 1
    TalentPoolMemberFactory(pool=pool)
    TalentPoolMemberFactory(pool=pool, freelancer=None, vendor=OrganizationFactory(kind="vendor"))
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(f"{POOLS}{pool.pk}/members/").json()["results"]) == 3

    assert len(three) == len(one)
