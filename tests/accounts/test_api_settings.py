"""API settings pages (keys, webhooks) and the ops admin of API keys.

The pages call accounts.services / accounts.webhooks; these tests check what each kind of user gets, that the full
key (and a webhook's secret) is shown once and only its prefix afterwards, that refusals say why and change
nothing, that another organisation's rows are never shown or touched, and that query counts stay flat.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from accounts.models import (
    ApiKey,
    Membership,
    Organization,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from accounts.services import api_key_create, api_key_hash, api_key_revoke
from accounts.tasks import webhook_delivery_attempt as attempt_task
from accounts.webhooks import webhook_secret, webhook_subscription_create
from core.tasks import audit_seal as audit_seal_task
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SETTINGS_URL = "/settings/api/"
CREATE_URL = "/settings/api/keys/new/"


def _html(response) -> str:
    return response.content.decode()


def _revoke_url(key: ApiKey) -> str:
    return f"/settings/api/keys/{key.pk}/revoke/"


def _org_key(membership: Membership, name: str = "HR sync", scopes: list[str] | None = None) -> ApiKey:
    key, _ = api_key_create(
        by=membership.user,
        name=name,
        scopes=scopes or ["marketplace:read"],
        organization_id=membership.organization_id,
    )
    return key


@pytest.fixture
def owner() -> Membership:
    return MembershipFactory(organization=OrganizationFactory(name="Northwind"), role=Membership.Role.OWNER)


@pytest.fixture
def other_owner() -> Membership:
    return MembershipFactory(organization=OrganizationFactory(name="Southwind"), role=Membership.Role.OWNER)


# --- who may ---------------------------------------------------------------------------------------------------------
def test_settings_need_login(client: Client) -> None:
    response = client.get(SETTINGS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owners_and_admins_see_their_organisations_keys(client: Client, owner: Membership, role: str) -> None:
    manager = MembershipFactory(organization=owner.organization, role=role)
    key = _org_key(owner, name="HR sync")
    client.force_login(manager.user)

    response = client.get(SETTINGS_URL)

    html = _html(response)
    assert response.status_code == 200
    assert response.context["owner"].organization == owner.organization
    assert [k.pk for k in response.context["keys"]] == [key.pk]
    assert "HR sync" in html
    assert f"tnd_{key.prefix}…" in html


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.FINANCE])
def test_a_plain_member_gets_403_with_who_may(client: Client, owner: Membership, role: str) -> None:
    member = MembershipFactory(organization=owner.organization, role=role)
    _org_key(owner, name="HR sync")
    client.force_login(member.user)

    response = client.get(SETTINGS_URL)
    create = client.post(CREATE_URL, {"name": "Mine", "scopes": ["marketplace:read"]})

    assert response.status_code == 403
    assert "Only owners and admins of Northwind manage its API keys" in _html(response)
    assert "HR sync" not in _html(response)
    assert create.status_code == 403
    assert ApiKey.objects.filter(name="Mine").count() == 0


def test_a_plain_member_asking_for_their_organisation_gets_403(client: Client, owner: Membership) -> None:
    member = MembershipFactory(organization=owner.organization, role=Membership.Role.MEMBER)
    client.force_login(member.user)

    response = client.get(f"{SETTINGS_URL}?owner=org:{owner.organization_id}")

    assert response.status_code == 403
    assert "Only owners and admins of Northwind" in _html(response)


def test_a_user_with_neither_organisation_nor_profile_is_told_what_to_do(client: Client) -> None:
    client.force_login(UserFactory())

    response = client.get(SETTINGS_URL)

    assert response.status_code == 403
    assert "belong to an organisation, or to a freelancer with a profile" in _html(response)


def test_a_freelancer_manages_their_own_keys(client: Client) -> None:
    freelancer = TalentProfileFactory().user
    other = TalentProfileFactory().user
    mine, _ = api_key_create(by=freelancer, name="My invoicing", scopes=["billing:read"])
    api_key_create(by=other, name="Someone else's", scopes=["billing:read"])
    client.force_login(freelancer)

    response = client.get(SETTINGS_URL)

    html = _html(response)
    assert response.status_code == 200
    assert response.context["owner"].key == "me"
    assert [k.pk for k in response.context["keys"]] == [mine.pk]
    assert "Someone else" not in html


def test_a_user_managing_two_owners_can_switch(client: Client, owner: Membership, other_owner: Membership) -> None:
    MembershipFactory(user=owner.user, organization=other_owner.organization, role=Membership.Role.ADMIN)
    north, south = _org_key(owner, name="North key"), _org_key(other_owner, name="South key")
    client.force_login(owner.user)

    default = client.get(SETTINGS_URL)
    switched = client.get(f"{SETTINGS_URL}?owner=org:{other_owner.organization_id}")

    assert [k.pk for k in default.context["keys"]] == [north.pk]
    assert [k.pk for k in switched.context["keys"]] == [south.pk]
    assert [o.label for o in switched.context["owners"]] == ["Northwind", "Southwind"]


# --- isolation -------------------------------------------------------------------------------------------------------
def test_another_organisations_keys_are_never_shown(client: Client, owner: Membership, other_owner: Membership) -> None:
    _org_key(other_owner, name="Their secret integration")
    client.force_login(owner.user)

    response = client.get(SETTINGS_URL)
    asked = client.get(f"{SETTINGS_URL}?owner=org:{other_owner.organization_id}")

    assert response.context["keys"] == []
    assert "Their secret integration" not in _html(response)
    assert asked.status_code == 404
    assert "Their secret integration" not in _html(asked)


def test_revoking_another_organisations_key_is_404_and_changes_nothing(
    client: Client, owner: Membership, other_owner: Membership
) -> None:
    theirs = _org_key(other_owner)
    client.force_login(owner.user)

    confirm = client.get(_revoke_url(theirs))
    revoke = client.post(_revoke_url(theirs))
    revoke_htmx = client.post(_revoke_url(theirs), **HTMX)

    theirs.refresh_from_db()
    assert confirm.status_code == 404
    assert revoke.status_code == 404
    assert revoke_htmx.status_code == 404
    assert theirs.revoked_at is None
    assert theirs.user.is_active is True


def test_revoking_another_freelancers_key_is_404(client: Client) -> None:
    freelancer = TalentProfileFactory().user
    theirs, _ = api_key_create(by=TalentProfileFactory().user, name="Theirs", scopes=["billing:read"])
    client.force_login(freelancer)

    response = client.post(_revoke_url(theirs))

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.revoked_at is None


def test_a_plain_member_cannot_revoke_their_organisations_key(client: Client, owner: Membership) -> None:
    key = _org_key(owner)
    member = MembershipFactory(organization=owner.organization, role=Membership.Role.MEMBER)
    client.force_login(member.user)

    response = client.post(_revoke_url(key))

    key.refresh_from_db()
    assert response.status_code == 403
    assert "Only owners and admins of Northwind can manage its API keys." in _html(response)
    assert key.revoked_at is None


# --- create: the key once, then its prefix only ----------------------------------------------------------------------
def test_create_shows_the_full_key_once_and_the_list_then_only_its_prefix(client: Client, owner: Membership) -> None:
    client.force_login(owner.user)
    expiry = timezone.localdate() + timedelta(days=30)

    form = client.get(CREATE_URL)
    created = client.post(
        CREATE_URL,
        {
            "owner": f"org:{owner.organization_id}",
            "name": "  Ticketing bridge ",
            "scopes": ["marketplace:read", "engagements:write"],
            "expires_at": expiry.isoformat(),
        },
    )
    listing = client.get(SETTINGS_URL)

    key = ApiKey.objects.get(organization=owner.organization)
    raw_key = created.context["raw_key"]
    assert form.status_code == 200
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    assert raw_key.startswith(f"tnd_{key.prefix}_")
    assert api_key_hash(raw_key) == key.secret_hash
    assert raw_key in _html(created)
    assert "it won’t be shown again" in _html(created)
    assert key.name == "Ticketing bridge"
    assert key.scopes == ["engagements:write", "marketplace:read"]
    assert key.created_by == owner.user
    assert key.expires_at is not None and key.expires_at.date() == expiry + timedelta(days=1)
    assert raw_key not in _html(listing)
    assert f"tnd_{key.prefix}…" in _html(listing)
    assert "Ticketing bridge" in _html(listing)


def test_a_freelancer_creates_their_own_key(client: Client) -> None:
    freelancer = TalentProfileFactory().user
    client.force_login(freelancer)

    response = client.post(
        CREATE_URL, {"owner": "me", "name": "Invoices to my bookkeeping", "scopes": ["billing:read"]}
    )

    key = ApiKey.objects.get(name="Invoices to my bookkeeping")
    assert response.status_code == 200
    assert key.organization is None
    assert key.user == freelancer
    assert key.expires_at is None
    assert response.context["raw_key"] in _html(response)


def test_create_form_groups_scopes_by_area_with_read_and_write(client: Client, owner: Membership) -> None:
    client.force_login(owner.user)

    response = client.get(CREATE_URL)

    html = _html(response)
    rows = response.context["form"].scope_rows()
    assert [row.area for row in rows] == [
        "marketplace",
        "talent",
        "engagements",
        "billing",
        "compliance",
        "audit",
        "webhooks",
    ]
    assert [row.write is None for row in rows] == [False, False, False, False, True, True, False]
    assert 'value="marketplace:write"' in html
    assert 'value="audit:write"' not in html
    assert "<legend" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "scopes": ["marketplace:read"]}, "name", "Name the key after what will use it"),
        ({"name": "Sync"}, "scopes", "Choose at least one scope."),
        ({"name": "Sync", "scopes": ["audit:write"]}, "scopes", "Select a valid choice."),
        (
            {"name": "Sync", "scopes": ["marketplace:read"], "expires_at": "2001-01-01"},
            "expires_at",
            "The expiry must be in the future",
        ),
        ({"name": "Sync", "scopes": ["marketplace:read"], "expires_at": "soon"}, "expires_at", "Enter a valid date."),
    ],
)
def test_validation_errors_show_next_to_their_field_and_create_nothing(
    client: Client, owner: Membership, data: dict, field: str, message: str
) -> None:
    client.force_login(owner.user)

    response = client.post(CREATE_URL, data)

    form = response.context["form"]
    html = _html(response)
    assert response.status_code == 400
    assert list(form.errors) == [field]
    assert form.errors[field][0].startswith(message)
    assert f'id="id_{field}_error"' in html
    assert escape(form.errors[field][0]) in html
    assert "raw_key" not in response.context
    assert ApiKey.objects.count() == 0


def test_an_expiry_today_ends_at_the_end_of_the_day(client: Client, owner: Membership) -> None:
    client.force_login(owner.user)

    response = client.post(
        CREATE_URL, {"name": "Sync", "scopes": ["marketplace:read"], "expires_at": timezone.localdate().isoformat()}
    )

    key = ApiKey.objects.get()
    assert response.status_code == 200
    assert key.expires_at is not None and key.expires_at > timezone.now()


def test_the_expiry_follows_the_users_timezone(client: Client, owner: Membership) -> None:
    User.objects.filter(pk=owner.user_id).update(timezone="Asia/Tokyo")
    client.force_login(owner.user)
    day = timezone.localdate() + timedelta(days=10)

    client.post(CREATE_URL, {"name": "Sync", "scopes": ["marketplace:read"], "expires_at": day.isoformat()})

    key = ApiKey.objects.get()
    assert key.expires_at == datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)


def test_posting_for_another_organisation_is_404_and_creates_nothing(
    client: Client, owner: Membership, other_owner: Membership
) -> None:
    client.force_login(owner.user)

    response = client.post(
        CREATE_URL, {"owner": f"org:{other_owner.organization_id}", "name": "Sneaky", "scopes": ["audit:read"]}
    )

    assert response.status_code == 404
    assert ApiKey.objects.count() == 0


def test_mass_assignment_of_key_fields_is_ignored(client: Client, owner: Membership, other_owner: Membership) -> None:
    client.force_login(owner.user)

    client.post(
        CREATE_URL,
        {
            "name": "Sync",
            "scopes": ["marketplace:read"],
            "organization": other_owner.organization_id,
            "prefix": "aaaaaaaa",
            "revoked_at": "2030-01-01T00:00:00Z",
            "user": other_owner.user_id,
        },
    )

    key = ApiKey.objects.get()
    assert key.organization == owner.organization
    assert key.prefix != "aaaaaaaa"
    assert key.revoked_at is None
    assert key.user != other_owner.user


# --- revoke ----------------------------------------------------------------------------------------------------------
def test_revoke_asks_for_confirmation_first(client: Client, owner: Membership) -> None:
    key = _org_key(owner, name="HR sync")
    client.force_login(owner.user)

    response = client.get(_revoke_url(key))

    key.refresh_from_db()
    html = _html(response)
    assert response.status_code == 200
    assert "Revoke the API key “HR sync”?" in html
    assert f'action="{_revoke_url(key)}"' in html
    assert key.revoked_at is None


def test_revoke_after_confirmation(client: Client, owner: Membership) -> None:
    key = _org_key(owner, name="HR sync")
    client.force_login(owner.user)

    response = client.post(_revoke_url(key))
    listing = client.get(response["Location"])

    key.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{SETTINGS_URL}?owner=org%3A{owner.organization_id}"
    assert key.revoked_at is not None
    assert key.revoked_by == owner.user
    assert key.user.is_active is False
    assert "is revoked" in _html(listing)
    assert "Revoked" in _html(listing)


def test_revoke_with_htmx_swaps_the_list(client: Client, owner: Membership) -> None:
    key = _org_key(owner, name="HR sync")
    client.force_login(owner.user)

    response = client.post(_revoke_url(key), **HTMX)

    html = _html(response)
    key.refresh_from_db()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="section" id="api-keys"')
    assert "is revoked" in html
    assert key.revoked_at is not None


def test_the_list_has_an_hx_confirm_on_revoke(client: Client, owner: Membership) -> None:
    key = _org_key(owner, name="HR sync")
    client.force_login(owner.user)

    html = _html(client.get(SETTINGS_URL))

    assert f'hx-post="{_revoke_url(key)}"' in html
    assert "hx-confirm=" in html


def test_an_expired_key_says_so(client: Client, owner: Membership) -> None:
    key = _org_key(owner)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(owner.user)

    html = _html(client.get(SETTINGS_URL))

    assert "Expired" in html


# --- queries ---------------------------------------------------------------------------------------------------------
def test_the_page_makes_the_same_number_of_queries_for_1_and_3_keys(
    client: Client, owner: Membership, django_assert_max_num_queries
) -> None:
    first = _org_key(owner, name="One")
    client.force_login(owner.user)
    client.get(SETTINGS_URL)  # warm the session
    with django_assert_max_num_queries(20) as one:
        client.get(SETTINGS_URL)
    admin = MembershipFactory(organization=owner.organization, role=Membership.Role.ADMIN)
    _org_key(admin, name="Two")
    api_key_revoke(key_id=_org_key(owner, name="Three").pk, by=admin.user)  # shows who revoked it: one more user

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(SETTINGS_URL)

    assert len(response.context["keys"]) == 3
    assert first.pk in [k.pk for k in response.context["keys"]]


# --- navigation ------------------------------------------------------------------------------------------------------
def test_the_navigation_links_to_the_settings_for_organisations_and_freelancers(client: Client) -> None:
    client.force_login(MembershipFactory().user)
    org_html = _html(client.get("/dashboard/"))
    client.force_login(TalentProfileFactory().user)
    freelancer_html = _html(client.get("/dashboard/"))
    client.force_login(UserFactory())
    nobody_html = _html(client.get("/dashboard/"))
    client.force_login(MembershipFactory(role="member").user)
    member_html = _html(client.get("/dashboard/"))

    assert f'href="{SETTINGS_URL}"' in org_html
    assert f'href="{SETTINGS_URL}"' in freelancer_html
    assert f'href="{SETTINGS_URL}"' not in nobody_html
    assert f'href="{SETTINGS_URL}"' not in member_html  # a plain member manages no keys: no link to a 403


# --- ops admin -------------------------------------------------------------------------------------------------------
@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True, email="ops@example.com"))
    return client


def test_admin_lists_searches_and_filters_keys(
    staff_client: Client, owner: Membership, other_owner: Membership
) -> None:
    north = _org_key(owner, name="North HR")
    _org_key(other_owner, name="South HR")

    listing = staff_client.get("/admin/accounts/apikey/")
    search = staff_client.get("/admin/accounts/apikey/?q=Northwind")
    revoked = staff_client.get("/admin/accounts/apikey/?status=revoked")

    assert listing.status_code == 200
    assert "North HR" in _html(listing) and "South HR" in _html(listing)
    assert f"tnd_{north.prefix}" in _html(listing)
    assert [k.pk for k in search.context["cl"].result_list] == [north.pk]
    assert revoked.status_code == 200
    assert list(revoked.context["cl"].result_list) == []


def test_admin_creates_a_key_and_shows_it_once(staff_client: Client, owner: Membership) -> None:
    form = staff_client.get("/admin/accounts/apikey/add/")
    response = staff_client.post(
        "/admin/accounts/apikey/add/",
        {"organization": owner.organization_id, "name": "Migration", "scopes": ["marketplace:read", "talent:write"]},
    )

    key = ApiKey.objects.get(name="Migration")
    raw_key = response.context["raw_key"]
    assert form.status_code == 200
    assert "autocomplete" in _html(form)
    assert response.status_code == 200
    assert "it won’t be shown again" in _html(response)
    assert api_key_hash(raw_key) == key.secret_hash
    assert raw_key in _html(response)
    assert key.created_by is not None and key.created_by.email == "ops@example.com"
    assert key.organization == owner.organization
    assert key.scopes == ["marketplace:read", "talent:write"]
    change = staff_client.get(f"/admin/accounts/apikey/{key.pk}/change/")
    assert raw_key not in _html(change)
    assert key.secret_hash not in _html(change)


def test_admin_create_shows_service_errors_on_the_form(staff_client: Client, owner: Membership) -> None:
    response = staff_client.post(
        "/admin/accounts/apikey/add/",
        {
            "organization": owner.organization_id,
            "name": "Old",
            "scopes": ["marketplace:read"],
            "expires_at": "2001-01-01",
        },
    )

    assert response.status_code == 200
    assert "The expiry must be in the future" in _html(response)
    assert ApiKey.objects.count() == 0


def test_admin_revokes_selected_keys(staff_client: Client, owner: Membership, other_owner: Membership) -> None:
    north, south, kept = _org_key(owner), _org_key(other_owner), _org_key(owner, name="Kept")

    selection = {"action": "revoke_selected_keys", "_selected_action": [north.pk, south.pk]}

    confirm = staff_client.post("/admin/accounts/apikey/", selection)
    untouched = ApiKey.objects.filter(revoked_at__isnull=False).count()
    response = staff_client.post("/admin/accounts/apikey/", {**selection, "apply": "1"}, follow=True)

    for key in (north, south, kept):
        key.refresh_from_db()
    assert confirm.status_code == 200
    assert "Revoking 2 API keys" in _html(confirm)
    assert untouched == 0
    assert response.status_code == 200
    assert "Revoked 2 API key(s)" in _html(response)
    assert north.revoked_at is not None and south.revoked_at is not None
    assert north.revoked_by is not None and north.revoked_by.email == "ops@example.com"
    assert kept.revoked_at is None


def test_admin_cannot_edit_or_delete_keys(staff_client: Client, owner: Membership) -> None:
    key = _org_key(owner, name="HR sync")
    original_hash = key.secret_hash

    staff_client.post(f"/admin/accounts/apikey/{key.pk}/change/", {"name": "Renamed", "secret_hash": "0" * 64})
    delete = staff_client.get(f"/admin/accounts/apikey/{key.pk}/delete/")

    key.refresh_from_db()
    assert key.name == "HR sync"
    assert key.secret_hash == original_hash
    assert delete.status_code == 403


def test_staff_without_the_permission_cannot_create_keys(client: Client, owner: Membership) -> None:
    client.force_login(UserFactory(is_staff=True))

    response = client.get("/admin/accounts/apikey/add/")

    assert response.status_code == 403
    assert not Organization.objects.filter(api_keys__isnull=False).exists()


# --- webhooks --------------------------------------------------------------------------------------------------------
WEBHOOKS_URL = "/settings/webhooks/"
WEBHOOK_CREATE_URL = "/settings/webhooks/new/"


def _subscription(
    membership: Membership | None = None, *, user: User | None = None, url: str = "https://hooks.example.com/tandem"
) -> WebhookSubscription:
    by = membership.user if membership is not None else user
    assert by is not None
    subscription, _ = webhook_subscription_create(
        by=by,
        url=url,
        events=["bid.created", "invoice.issued"],
        organization_id=membership.organization_id if membership is not None else None,
    )
    return subscription


def _delivery(subscription: WebhookSubscription, *, status: str = "failed", code: int | None = 500) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="bid.created",
        event_id=uuid.uuid4(),
        audit_event_id=WebhookDelivery.objects.count() + 1,
        payload={"type": "bid.created", "data": {}},
        status=status,
        attempts=3 if code else 0,
        last_status_code=code,
    )
    if code:
        WebhookAttempt.objects.create(delivery=delivery, status_code=code, error=f"The endpoint answered HTTP {code}")
    return delivery


def test_webhooks_page_lists_subscriptions_with_their_recent_deliveries(client: Client, owner: Membership) -> None:
    subscription = _subscription(owner)
    delivered = _delivery(subscription, status="succeeded", code=204)
    failed = _delivery(subscription, status="failed", code=503)
    client.force_login(owner.user)

    response = client.get(WEBHOOKS_URL)

    html = _html(response)
    rows = response.context["subscriptions"]
    assert response.status_code == 200
    assert [row.subscription.pk for row in rows] == [subscription.pk]
    assert [d.pk for d in rows[0].deliveries] == [failed.pk, delivered.pk]
    assert "https://hooks.example.com/tandem" in html
    assert "bid.created" in html and "invoice.issued" in html
    assert "<code>503</code>" in html and "<code>204</code>" in html
    assert "Delivered" in html and "Failed" in html
    assert f'action="/settings/webhooks/deliveries/{failed.pk}/replay/"' in html


def test_webhooks_page_shows_only_the_latest_deliveries_of_each(client: Client, owner: Membership) -> None:
    subscription = _subscription(owner)
    deliveries = [_delivery(subscription) for _ in range(12)]
    client.force_login(owner.user)

    response = client.get(WEBHOOKS_URL)

    shown = [d.pk for d in response.context["subscriptions"][0].deliveries]
    assert shown == [d.pk for d in reversed(deliveries)][:10]


def test_create_webhook_shows_the_secret_once(client: Client, owner: Membership) -> None:
    client.force_login(owner.user)

    form = client.get(WEBHOOK_CREATE_URL)
    created = client.post(
        WEBHOOK_CREATE_URL,
        {"owner": f"org:{owner.organization_id}", "url": "https://hr.example.com/hooks", "events": ["bid.created"]},
    )
    listing = client.get(WEBHOOKS_URL)

    subscription = WebhookSubscription.objects.get()
    secret = created.context["secret"]
    assert form.status_code == 200
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    assert secret.startswith("whsec_")
    assert secret in _html(created)
    assert "it won’t be shown again" in _html(created)
    assert webhook_secret(subscription=subscription) == secret
    assert subscription.organization == owner.organization
    assert subscription.events == ["bid.created"]
    assert secret not in _html(listing)
    assert "https://hr.example.com/hooks" in _html(listing)


def test_a_freelancer_adds_their_own_webhook(client: Client) -> None:
    freelancer = TalentProfileFactory().user
    client.force_login(freelancer)

    response = client.post(
        WEBHOOK_CREATE_URL, {"owner": "me", "url": "https://me.example.com/hook", "events": ["payout.paid"]}
    )

    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 200
    assert subscription.organization is None
    assert subscription.user == freelancer


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "", "events": ["bid.created"]}, "url", "Enter the full URL of your endpoint"),
        ({"url": "not a url", "events": ["bid.created"]}, "url", "Enter a valid URL."),
        ({"url": "https://hr.example.com/hooks"}, "events", "Choose at least one event to receive."),
        ({"url": "https://hr.example.com/hooks", "events": ["gig.deleted"]}, "events", "Select a valid choice."),
        ({"url": "http://hr.example.com/hooks", "events": ["bid.created"]}, "url", "Webhook URLs must use https://"),
    ],
)
def test_webhook_validation_errors_show_next_to_their_field(
    client: Client, owner: Membership, settings, data: dict, field: str, message: str
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False  # production rules; no DNS is needed to refuse these
    client.force_login(owner.user)

    response = client.post(WEBHOOK_CREATE_URL, data)

    form = response.context["form"]
    assert response.status_code == 400
    assert list(form.errors) == [field]
    assert form.errors[field][0].startswith(message)
    assert escape(form.errors[field][0]) in _html(response)
    assert "secret" not in response.context
    assert WebhookSubscription.objects.count() == 0


def test_a_plain_member_gets_403_on_webhooks(client: Client, owner: Membership) -> None:
    subscription = _subscription(owner)
    member = MembershipFactory(organization=owner.organization, role=Membership.Role.MEMBER)
    client.force_login(member.user)

    page = client.get(WEBHOOKS_URL)
    create = client.post(WEBHOOK_CREATE_URL, {"url": "https://x.example.com/", "events": ["bid.created"]})
    delete = client.post(f"/settings/webhooks/{subscription.pk}/delete/")

    assert page.status_code == 403
    assert "Only owners and admins of Northwind" in _html(page)
    assert "hooks.example.com" not in _html(page)
    assert create.status_code == 403
    assert delete.status_code == 403
    assert list(WebhookSubscription.objects.values_list("pk", flat=True)) == [subscription.pk]


def test_another_organisations_webhooks_are_never_shown_or_touched(
    client: Client, owner: Membership, other_owner: Membership, django_capture_on_commit_callbacks
) -> None:
    theirs = _subscription(other_owner, url="https://their-secret.example.com/hook")
    their_delivery = _delivery(theirs)
    client.force_login(owner.user)

    page = client.get(WEBHOOKS_URL)
    asked = client.get(f"{WEBHOOKS_URL}?owner=org:{other_owner.organization_id}")
    confirm = client.get(f"/settings/webhooks/{theirs.pk}/delete/")
    delete = client.post(f"/settings/webhooks/{theirs.pk}/delete/")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        replay = client.post(f"/settings/webhooks/deliveries/{their_delivery.pk}/replay/")

    their_delivery.refresh_from_db()
    assert page.context["subscriptions"] == []
    assert "their-secret" not in _html(page)
    assert asked.status_code == 404
    assert confirm.status_code == 404
    assert delete.status_code == 404
    assert replay.status_code == 404
    assert WebhookSubscription.objects.filter(pk=theirs.pk).exists()
    assert their_delivery.status == "failed"
    assert queued == []


def test_delete_webhook_asks_for_confirmation_then_deletes(client: Client, owner: Membership) -> None:
    subscription = _subscription(owner)
    client.force_login(owner.user)

    confirm = client.get(f"/settings/webhooks/{subscription.pk}/delete/")
    still_there = WebhookSubscription.objects.filter(pk=subscription.pk).exists()
    response = client.post(f"/settings/webhooks/{subscription.pk}/delete/", {"owner": f"org:{owner.organization_id}"})
    listing = client.get(response["Location"])

    assert confirm.status_code == 200
    assert "Delete the webhook to https://hooks.example.com/tandem?" in _html(confirm)
    assert f'name="owner" value="org:{owner.organization_id}"' in _html(confirm)
    assert still_there
    assert response.status_code == 302
    assert response["Location"] == f"{WEBHOOKS_URL}?owner=org%3A{owner.organization_id}"
    assert not WebhookSubscription.objects.filter(pk=subscription.pk).exists()
    assert "The webhook is deleted" in _html(listing)


def test_delete_webhook_with_htmx_swaps_the_list(client: Client, owner: Membership) -> None:
    subscription = _subscription(owner)
    client.force_login(owner.user)
    html_before = _html(client.get(WEBHOOKS_URL))

    response = client.post(
        f"/settings/webhooks/{subscription.pk}/delete/", {"owner": f"org:{owner.organization_id}"}, **HTMX
    )

    assert "hx-confirm=" in html_before
    assert response.status_code == 200
    assert _html(response).lstrip().startswith('<section class="section" id="webhook-subscriptions"')
    assert "No webhooks yet" in _html(response)
    assert not WebhookSubscription.objects.exists()


def test_replay_queues_the_delivery_again(
    client: Client, owner: Membership, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    delivery = _delivery(_subscription(owner), status="failed", code=500)
    client.force_login(owner.user)
    sent: list[dict] = []
    monkeypatch.setattr(attempt_task, "delay", lambda **kwargs: sent.append(kwargs))
    monkeypatch.setattr(audit_seal_task, "delay", lambda **kwargs: None)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/settings/webhooks/deliveries/{delivery.pk}/replay/")

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{WEBHOOKS_URL}?owner=org%3A{owner.organization_id}"
    assert delivery.status == "pending"
    assert delivery.next_attempt_at is not None
    assert sent == [{"delivery_id": delivery.pk}]


def test_replay_with_htmx_swaps_the_list_with_a_notice(
    client: Client, owner: Membership, django_capture_on_commit_callbacks
) -> None:
    delivery = _delivery(_subscription(owner), status="succeeded", code=200)
    client.force_login(owner.user)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/settings/webhooks/deliveries/{delivery.pk}/replay/", **HTMX)

    assert response.status_code == 200
    assert f"delivery #{delivery.pk} is queued to be sent again" in _html(response)
    assert "Pending" in _html(response)


def test_replay_needs_post(client: Client, owner: Membership) -> None:
    delivery = _delivery(_subscription(owner))
    client.force_login(owner.user)

    response = client.get(f"/settings/webhooks/deliveries/{delivery.pk}/replay/")

    assert response.status_code == 405


def test_the_webhooks_page_makes_the_same_number_of_queries_for_1_and_3_subscriptions(
    client: Client, owner: Membership, django_assert_max_num_queries
) -> None:
    _delivery(_subscription(owner, url="https://a.example.com/"))
    client.force_login(owner.user)
    client.get(WEBHOOKS_URL)  # warm the session
    with django_assert_max_num_queries(20) as one:
        client.get(WEBHOOKS_URL)
    for host in ("b", "c"):
        subscription = _subscription(owner, url=f"https://{host}.example.com/")
        for _ in range(3):
            _delivery(subscription)

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(WEBHOOKS_URL)

    assert len(response.context["subscriptions"]) == 3
    assert sum(len(row.deliveries) for row in response.context["subscriptions"]) == 7
