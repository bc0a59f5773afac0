"""The partner API's shared behaviour, through the gigs endpoints: API keys (hashed, scoped, expiring,
revocable, one organisation each), problem-details errors, the rate limit, Idempotency-Key, and the schema."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ApiKey, Membership, User
from accounts.services import api_key_revoke
from core.models import IdempotencyRecord
from marketplace.models import Gig
from tests.api_support import READ_SCOPES, api_client, key_of, org_api_key
from tests.factories import OrganizationFactory

GIGS = "/api/v1/gigs/"


def _gig_body(**overrides):
    body = {
        "title": "Reconcile the payment ledger",
        "description": "Match the processor's settlement files against our ledger and fix the gaps.",
        "kind": "fixed",
        "currency": "EUR",
        "budget_amount": "1500.00",
    }
    return {**body, **overrides}


# --- keys ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_is_stored_only_as_its_hash_and_acts_as_a_member_of_its_organisation_only() -> None:
    organization = OrganizationFactory(name="Ledgerline")

    raw = org_api_key(organization, scopes=["marketplace:read"])

    key = key_of(raw)
    assert raw.startswith(f"tnd_{key.prefix}_") and len(raw) > 40
    assert key.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert not ApiKey.objects.filter(secret_hash__contains=raw.split("_", 2)[2]).exists()
    assert key.user.is_service_account and not key.user.has_usable_password()
    assert list(Membership.objects.filter(user=key.user).values_list("organization__name", flat=True)) == ["Ledgerline"]


@pytest.mark.django_db
def test_no_key_is_401_problem_details_naming_the_bearer_scheme() -> None:
    response = api_client().get(GIGS)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="Tandem API"'
    assert response.json()["status"] == 401


@pytest.mark.django_db
def test_unknown_revoked_and_expired_keys_are_refused() -> None:
    organization = OrganizationFactory()
    revoked, expired = org_api_key(organization), org_api_key(organization, expires_at=timezone.now() + timedelta(1))
    api_key_revoke(key_id=key_of(revoked).pk, by=key_of(revoked).created_by)
    ApiKey.objects.filter(pk=key_of(expired).pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    forged = revoked[:-4] + "abcd"

    for raw in (revoked, expired, forged, "tnd_nope", "not-a-key"):
        response = api_client(raw).get(GIGS)
        assert response.status_code == 401, raw
        assert "unknown, revoked or expired" in response.json()["detail"]


@pytest.mark.django_db
def test_a_read_only_key_reads_but_may_not_write_and_is_told_which_scope_it_lacks() -> None:
    raw = org_api_key(OrganizationFactory(), scopes=READ_SCOPES)

    assert api_client(raw).get(GIGS).status_code == 200
    response = api_client(raw).post(GIGS, _gig_body(), format="json")

    assert response.status_code == 403
    assert "marketplace:write" in response.json()["detail"]
    assert not Gig.objects.exists()


@pytest.mark.django_db
def test_a_key_records_when_it_was_last_used() -> None:
    raw = org_api_key(OrganizationFactory())
    assert key_of(raw).last_used_at is None

    api_client(raw).get(GIGS)

    assert key_of(raw).last_used_at is not None


# --- organisations ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_key_sees_and_changes_only_its_own_organisations_gigs() -> None:
    mine, theirs = org_api_key(OrganizationFactory(name="Mine")), org_api_key(OrganizationFactory(name="Theirs"))
    created = api_client(mine).post(GIGS, _gig_body(), format="json").json()

    assert [gig["id"] for gig in api_client(mine).get(GIGS).json()["results"]] == [created["id"]]
    assert api_client(theirs).get(GIGS).json()["results"] == []
    assert api_client(theirs).get(f"{GIGS}{created['id']}/").status_code == 404  # a draft is private
    assert api_client(theirs).post(f"{GIGS}{created['id']}/cancel/", {}, format="json").status_code == 404
    assert Gig.objects.get().status == "draft"


@pytest.mark.django_db
def test_fields_the_caller_may_not_set_are_ignored() -> None:
    other = OrganizationFactory(name="Other")
    raw = org_api_key(OrganizationFactory(name="Mine"))

    response = api_client(raw).post(
        GIGS,
        _gig_body(status="open", organization=other.pk, organization_id=other.pk, published_at="2026-01-01T00:00Z"),
        format="json",
    )

    assert response.status_code == 201
    gig = Gig.objects.get()
    assert (gig.status, gig.organization.name, gig.published_at) == ("draft", "Mine", None)


# --- errors -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_validation_errors_are_problem_details_with_the_fields() -> None:
    raw = org_api_key(OrganizationFactory())

    response = api_client(raw).post(GIGS, _gig_body(kind="sometimes", title=""), format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://tandem.example/problems/validation-error"
    assert set(body["errors"]) == {"kind", "title"}


@pytest.mark.django_db
def test_a_service_refusal_is_a_409_saying_what_to_do() -> None:
    raw = org_api_key(OrganizationFactory())
    gig = api_client(raw).post(GIGS, _gig_body(), format="json").json()
    api_client(raw).post(f"{GIGS}{gig['id']}/cancel/", {}, format="json")

    response = api_client(raw).post(f"{GIGS}{gig['id']}/publish/", format="json")

    assert response.status_code in (400, 409)
    assert response.json()["detail"]


@pytest.mark.django_db
def test_past_the_rate_limit_requests_get_429_with_retry_after(settings) -> None:
    settings.API_RATE_LIMIT = "3/min"
    raw, other = org_api_key(OrganizationFactory()), org_api_key(OrganizationFactory())

    statuses = [api_client(raw).get(GIGS).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = api_client(raw).get(GIGS)
    assert response["Content-Type"] == "application/problem+json"
    assert 0 < int(response["Retry-After"]) <= 60
    assert api_client(other).get(GIGS).status_code == 200  # per key


# --- Idempotency-Key ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_key_and_body_return_the_first_response_and_create_once() -> None:
    raw = org_api_key(OrganizationFactory())
    client = api_client(raw)

    first = client.post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="gig-1")
    again = client.post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="gig-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Gig.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_changes_nothing() -> None:
    client = api_client(org_api_key(OrganizationFactory()))
    client.post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="gig-1")

    response = client.post(GIGS, _gig_body(title="Something else"), format="json", HTTP_IDEMPOTENCY_KEY="gig-1")

    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert list(Gig.objects.values_list("title", flat=True)) == ["Reconcile the payment ledger"]


@pytest.mark.django_db
def test_idempotency_keys_belong_to_their_caller_and_a_failed_request_can_be_retried() -> None:
    first, second = api_client(org_api_key(OrganizationFactory())), api_client(org_api_key(OrganizationFactory()))
    invalid = first.post(GIGS, _gig_body(kind="nope"), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert invalid.status_code == 400  # a 4xx answer is the answer: stored
    assert first.post(GIGS, _gig_body(kind="nope"), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 400
    assert second.post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Gig.objects.count() == 1


@pytest.mark.django_db
def test_records_expire_after_a_day() -> None:
    from core.idempotency import idempotency_records_purge

    client = api_client(org_api_key(OrganizationFactory()))
    client.post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = client.post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="old")

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Gig.objects.count() == 2
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_records_purge() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once() -> None:
    raw = org_api_key(OrganizationFactory())
    barrier = threading.Barrier(6)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            response = api_client(raw).post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="same")
            statuses.append(response.status_code)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Gig.objects.count() == 1
    assert sorted(set(statuses)) <= [201, 409] and statuses.count(201) >= 1
    assert api_client(raw).post(GIGS, _gig_body(), format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert Gig.objects.count() == 1


# --- schema -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_documents_the_key_the_errors_and_idempotency(client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    create = schema["paths"]["/api/v1/gigs/"]["post"]
    assert {"400", "401", "403", "409", "422", "429"} <= set(create["responses"])
    assert "application/problem+json" in create["responses"]["403"]["content"]
    assert any(parameter["name"] == "Idempotency-Key" for parameter in create["parameters"])
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200


@pytest.mark.django_db
def test_service_accounts_have_an_address_no_mail_is_delivered_to() -> None:
    raw = org_api_key(OrganizationFactory())

    assert User.objects.get(pk=key_of(raw).user_id).email.endswith("@keys.tandem.invalid")


@pytest.mark.django_db
def test_an_unknown_api_address_is_a_problem_details_404() -> None:
    raw = org_api_key(OrganizationFactory())

    response = api_client(raw).get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "/api/docs/" in response.json()["detail"]
