"""The permission matrix of the partner API: every operation in the OpenAPI schema, sent against one organisation's
objects by callers who must not reach them — another client organisation's key, an unrelated freelancer's key, an
unrelated vendor firm's key — and by that organisation's own read-only key and by nobody at all.

What must hold for every operation:
- no key → 401; the read-only key → 403 on every write;
- the outsiders: never a 2xx on a write to the organisation's objects, never a 5xx, never a byte of the
  organisation's private data (each private object carries a marker string) in any answer;
- afterwards the organisation's data is exactly as before (a fingerprint of every row that belongs to it).

Operations are read from the live schema, so an endpoint added later is covered without touching this file; the
test fails if an operation has a path parameter it does not know how to fill.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import WebhookDelivery
from billing.models import Invoice
from engagements.models import Contract, Milestone, ServiceLevel, StatementOfWork, TimeEntry, Timesheet
from marketplace.models import Bid, Gig, Invitation, TaskBatch, TaskUnit
from talent.models import TalentPool, TalentPoolMember
from tests.api_support import READ_SCOPES, api_client, freelancer_api_key, org_api_key
from tests.api_world import MARKERS, World, build_world
from tests.factories import OrganizationFactory, TalentProfileFactory


def _fingerprint(world: World) -> dict[str, Any]:
    """Every row of Alpha's, as it stands: any change by an outsider shows up as a difference."""
    alpha = world.alpha
    return {
        "gigs": list(Gig.objects.filter(organization=alpha).order_by("pk").values_list("pk", "status", "title")),
        "bids": list(Bid.objects.filter(gig__organization=alpha).order_by("pk").values_list("pk", "status")),
        "invitations": Invitation.objects.filter(gig__organization=alpha).count(),
        "contracts": list(Contract.objects.filter(organization=alpha).order_by("pk").values_list("pk", "status")),
        "milestones": list(
            Milestone.objects.filter(contract__organization=alpha).order_by("pk").values_list("pk", "status", "amount")
        ),
        "timesheets": list(
            Timesheet.objects.filter(contract__organization=alpha).order_by("pk").values_list("pk", "status")
        ),
        "entries": TimeEntry.objects.filter(timesheet__contract__organization=alpha).count(),
        "sows": list(StatementOfWork.objects.filter(organization=alpha).order_by("pk").values_list("pk", "status")),
        "levels": ServiceLevel.objects.filter(sow__organization=alpha).count(),
        "invoices": list(Invoice.objects.filter(organization=alpha).order_by("pk").values_list("pk", "status")),
        "batches": list(TaskBatch.objects.filter(gig__organization=alpha).values_list("pk", "status")),
        "units": list(
            TaskUnit.objects.filter(batch__gig__organization=alpha).order_by("pk").values_list("pk", "status")
        ),
        "pools": list(TalentPool.objects.filter(organization=alpha).values_list("pk", "name")),
        "pool_members": TalentPoolMember.objects.filter(pool__organization=alpha).count(),
        "webhooks": list(alpha.webhook_subscriptions.order_by("pk").values_list("pk", "is_active", "url")),
        "deliveries": list(
            WebhookDelivery.objects.filter(subscription__organization=alpha).values_list("pk", "status", "attempts")
        ),
    }


def _operations(client) -> list[tuple[str, str, set[str]]]:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = []
    for path, item in schema["paths"].items():
        for method in ("get", "post", "put", "patch", "delete"):
            if method in item:
                operations.append((method, path, set(re.findall(r"{(\w+)}", path))))
    return operations


def _url(world: World, path: str, params: set[str]) -> str:
    unknown = params - set(world.ids)
    assert not unknown, f"{path}: teach this test which of Alpha's objects fills {sorted(unknown)}"
    ids = dict(world.ids)
    if "/batch" in path or "/units/" in path:
        ids["gig_id"] = world.ids["micro_gig_id"]
    return re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), path)


# Bodies that would succeed for Alpha's own owner, so that an outsider's refusal is a refusal, not a 400.
def _body(world: World, method: str, path: str) -> dict[str, Any]:
    ids = world.ids
    bodies: dict[str, dict[str, Any]] = {
        "/api/v1/gigs/{gig_id}/": {"title": "Changed", "description": "Changed by an outsider.", "kind": "hourly"},
        "/api/v1/gigs/{gig_id}/bids/": {"cover_letter": "Let me in", "hourly_rate": "40.00"},
        "/api/v1/gigs/{gig_id}/invitations/": {"freelancer_id": ids["freelancer_id"]},
        "/api/v1/gigs/{gig_id}/batch/": {"instructions": "Changed", "unit_price": "0.50"},
        "/api/v1/gigs/{gig_id}/units/": {"units": [{"id": "x1", "payload": {"text": "injected"}}]},
        "/api/v1/contracts/{contract_id}/milestones/": {"title": "Injected", "amount": "10.00"},
        "/api/v1/contracts/{contract_id}/time-entries/": {
            "entries": [
                {
                    "work_date": str(timezone.localdate()),
                    "start_time": "09:00",
                    "hours": "1.00",
                    "description": "Injected",
                }
            ]
        },
        "/api/v1/milestones/{milestone_id}/request-changes/": {"note": "Injected"},
        "/api/v1/milestones/{milestone_id}/release/": {},
        "/api/v1/timesheets/{timesheet_id}/reject/": {"reason": "Injected"},
        "/api/v1/sows/{sow_id}/service-levels/": {"metric": "csat", "target": "1.0", "credit_pct": "1"},
        "/api/v1/sows/{sow_id}/measurements/": {
            "measurements": [{"metric": "csat", "period_start": "2026-01-01", "value": "4.5"}]
        },
        "/api/v1/talent-pools/{pool_id}/members/": {"freelancer_id": ids["freelancer_id"]},
        "/api/v1/units/{unit_id}/reject/": {"reason": "Injected"},
        "/api/v1/units/{unit_id}/submit/": {"result": {"label": "x"}},
    }
    return bodies.get(path, {})


def _outsiders(world: World) -> dict[str, str]:
    other_client = OrganizationFactory(kind="client", name="Beta Client")
    other_vendor = OrganizationFactory(kind="vendor", name="Beta Vendor")
    stranger = TalentProfileFactory().user
    return {
        "another client organisation": org_api_key(other_client),
        "an unrelated vendor firm": org_api_key(other_vendor),
        "an unrelated freelancer": freelancer_api_key(stranger),
    }


# Outsiders may create things of their own (a gig, a SOW with their own counterparty, a pool, a webhook): those
# operations act on no object of Alpha's, so only "nothing of Alpha's changed" applies to them.
OWN_CREATES = {
    ("post", "/api/v1/gigs/"),
    ("post", "/api/v1/sows/"),
    ("post", "/api/v1/talent-pools/"),
    ("post", "/api/v1/webhooks/"),
}


@pytest.mark.django_db
def test_outsiders_get_nothing_of_alphas_and_change_nothing_on_any_operation(client) -> None:
    world = build_world()
    operations = _operations(client)
    before = _fingerprint(world)
    keys = _outsiders(world)
    leaks, accepted, errors = [], [], []

    for who, raw in keys.items():
        outsider = api_client(raw)
        for method, path, params in operations:
            url = _url(world, path, params)
            response = getattr(outsider, method)(url, _body(world, method, path), format="json")
            text = response.content.decode(errors="replace")
            found = [marker for marker in MARKERS if marker in text]
            if found:
                leaks.append(f"{who}: {method.upper()} {path} returned {found}")
            if response.status_code >= 500:
                errors.append(f"{who}: {method.upper()} {path} → {response.status_code}")
            if method != "get" and 200 <= response.status_code < 300 and (method, path) not in OWN_CREATES:
                accepted.append(f"{who}: {method.upper()} {path} → {response.status_code}")

    assert len(operations) >= 70
    assert leaks == []
    assert errors == []
    assert accepted == []
    assert _fingerprint(world) == before


@pytest.mark.django_db
def test_without_a_key_every_operation_is_401_and_a_read_only_key_may_write_nothing(client) -> None:
    world = build_world()
    operations = _operations(client)
    before = _fingerprint(world)
    read_only = api_client(org_api_key(world.alpha, scopes=READ_SCOPES))
    anonymous = api_client()
    wrong = []

    for method, path, params in operations:
        url = _url(world, path, params)
        body = _body(world, method, path)
        if getattr(anonymous, method)(url, body, format="json").status_code != 401:
            wrong.append(f"no key: {method.upper()} {path}")
        status = getattr(read_only, method)(url, body, format="json").status_code
        if method != "get" and status != 403:
            wrong.append(f"read-only key: {method.upper()} {path} → {status}")
        if method == "get" and status >= 500:
            wrong.append(f"read-only key: GET {path} → {status}")

    assert wrong == []
    assert _fingerprint(world) == before


@pytest.mark.django_db
def test_the_organisations_own_key_reads_its_private_objects(client) -> None:
    """The matrix above is only meaningful if the same URLs do reach Alpha's data for Alpha."""
    world = build_world()
    own = api_client(org_api_key(world.alpha))

    for path, marker in (
        ("/api/v1/gigs/{gig_id}/", "ALPHA-PRIVATE-DRAFT"),
        ("/api/v1/contracts/{contract_id}/milestones/", ""),
        ("/api/v1/sows/{sow_id}/", "ALPHA-PRIVATE-SOW"),
        ("/api/v1/invoices/{invoice_id}/", "ALPHA-PRIVATE-INVOICE"),
        ("/api/v1/talent-pools/{pool_id}/", "ALPHA-PRIVATE-POOL"),
        ("/api/v1/webhooks/", "alpha-private-hooks"),
        ("/api/v1/timesheets/{timesheet_id}/", "ALPHA-PRIVATE-HOURS"),
        ("/api/v1/gigs/{gig_id}/bids/", ""),
    ):
        response = own.get(_url(world, path, set(re.findall(r"{(\w+)}", path))))
        assert response.status_code == 200, path
        assert marker in response.content.decode(), path


# Fields a caller never sets: the platform decides them (state, who owns what, money it computes, timestamps it
# records, secrets it makes). Listing them in no request body means DRF ignores them wherever they are sent.
PLATFORM_FIELDS = {
    "status",
    "organization",
    "organization_id",
    "owner",
    "user",
    "user_id",
    "created_by",
    "is_verified",
    "is_active",
    "is_staff",
    "created_at",
    "updated_at",
    "published_at",
    "paid_at",
    "issued_at",
    "signed_at",
    "approved_at",
    "released_amount",
    "refunded_amount",
    "total",
    "subtotal",
    "client_fee",
    "worker_fee",
    "platform_fee",
    "fee",
    "balance",
    "number",
    "sequence",
    "hash",
    "secret",
    "secret_hash",
    "prefix",
    "scopes",
    "revoked_at",
    "last_used_at",
    "earned_amount",
}
# `amount` is the caller's own figure in exactly these: a bid's price, a milestone's amount, a partial release.
AMOUNT_OPERATIONS = {
    ("post", "/api/v1/gigs/{gig_id}/bids/"),
    ("post", "/api/v1/contracts/{contract_id}/milestones/"),
    ("post", "/api/v1/milestones/{milestone_id}/release/"),
}


def _request_fields(schema: dict[str, Any], reference: str, seen: set[str]) -> set[str]:
    name = reference.split("/")[-1]
    if name in seen:
        return set()
    seen.add(name)
    component = schema["components"]["schemas"][name]
    fields = set(component.get("properties", {}))
    for value in component.get("properties", {}).values():
        for nested in (value.get("$ref"), value.get("items", {}).get("$ref")):
            if nested:
                fields |= _request_fields(schema, nested, seen)
    return fields


@pytest.mark.django_db
def test_no_request_body_lets_a_caller_set_what_the_platform_decides(client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    settable: list[str] = []
    writes = 0

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            reference = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            ).get("$ref")
            if method not in {"post", "put", "patch"} or reference is None:
                continue
            writes += 1
            fields = _request_fields(schema, reference, set())
            forbidden = fields & PLATFORM_FIELDS
            if "amount" in fields and (method, path) not in AMOUNT_OPERATIONS:
                forbidden.add("amount")
            if forbidden:
                settable.append(f"{method.upper()} {path}: {sorted(forbidden)}")

    assert writes >= 20
    assert settable == []
