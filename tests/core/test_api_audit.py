"""The audit partner API (read only): an organisation reads its own audit events, a freelancer the events they
performed; never another organisation's. Filters by action prefix, target type and time; cursor pages newest
first; `sequence` is null until an event is chained."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent
from core.services import audit_record, audit_seal
from tests.api_support import api_client, freelancer_api_key, key_of, org_api_key
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory

EVENTS = "/api/v1/audit-events/"


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["action"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_an_organisation_reads_its_own_events_newest_first() -> None:
    mine, theirs = OrganizationFactory(name="Mine"), OrganizationFactory(name="Theirs")
    raw = org_api_key(mine, scopes=["audit:read"])
    person = key_of(raw).created_by
    chained = audit_record(
        actor=person, action="gig.published", target=mine, organization=mine, from_state="draft", to_state="open"
    )
    audit_seal()
    pending = audit_record(actor=None, action="invoice.issued", organization=mine, data={"number": "INV-00001"})
    audit_record(actor=None, action="gig.published", organization=theirs)

    response = api_client(raw).get(EVENTS)

    assert _actions(response) == ["invoice.issued", "gig.published", "api_key.created"]
    newest, published, _key_created = response.json()["results"]
    assert newest == {
        "id": pending.pk,
        "sequence": None,
        "created_at": newest["created_at"],
        "action": "invoice.issued",
        "actor_label": "system",
        "target_type": "",
        "target_id": "",
        "from_state": "",
        "to_state": "",
        "data": {"number": "INV-00001"},
    }
    assert published == {
        "id": chained.pk,
        "sequence": AuditEvent.objects.get(pk=chained.pk).sequence,
        "created_at": published["created_at"],
        "action": "gig.published",
        "actor_label": person.email,
        "target_type": "accounts.organization",
        "target_id": str(mine.pk),
        "from_state": "draft",
        "to_state": "open",
        "data": {},
    }
    assert isinstance(published["sequence"], int)
    other = api_client(org_api_key(theirs, scopes=["audit:read"])).get(EVENTS)
    assert _actions(other) == ["api_key.created", "gig.published"]


@pytest.mark.django_db
def test_events_filter_by_action_prefix_target_type_and_time() -> None:
    organization = OrganizationFactory()
    raw = org_api_key(organization, scopes=["audit:read"])
    audit_record(actor=None, action="invoice.issued", target=organization, organization=organization)
    between = timezone.now()
    audit_record(actor=None, action="invoice.paid", organization=organization)
    audit_record(actor=None, action="bid.accepted", organization=organization)
    api = api_client(raw)

    assert _actions(api.get(EVENTS, {"action": "invoice."})) == ["invoice.paid", "invoice.issued"]
    assert _actions(api.get(EVENTS, {"action": "invoice.paid"})) == ["invoice.paid"]
    assert _actions(api.get(EVENTS, {"target_type": "accounts.organization"})) == ["invoice.issued"]
    assert _actions(api.get(EVENTS, {"created_at_after": between.isoformat()})) == ["bid.accepted", "invoice.paid"]
    assert _actions(api.get(EVENTS, {"created_at_before": between.isoformat(), "action": "invoice"})) == [
        "invoice.issued"
    ]


@pytest.mark.django_db
def test_an_invalid_time_filter_is_a_400_with_the_field() -> None:
    api = api_client(org_api_key(OrganizationFactory(), scopes=["audit:read"]))

    response = api.get(EVENTS, {"created_at_after": "last tuesday"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == {"created_at"}


@pytest.mark.django_db
def test_events_page_by_cursor() -> None:
    organization = OrganizationFactory()
    api = api_client(org_api_key(organization, scopes=["audit:read"]))
    for number in range(3):
        audit_record(actor=None, action=f"test.event_{number}", organization=organization)

    first = api.get(EVENTS, {"page_size": 2, "action": "test."}).json()
    second = api.get(first["next"]).json()

    assert [row["action"] for row in first["results"]] == ["test.event_2", "test.event_1"]
    assert [row["action"] for row in second["results"]] == ["test.event_0"]
    assert second["next"] is None


@pytest.mark.django_db
def test_a_freelancer_reads_the_events_they_performed_only() -> None:
    freelancer = TalentProfileFactory().user
    other_person = TalentProfileFactory().user
    client_org = OrganizationFactory()
    audit_record(actor=freelancer, action="bid.created", organization=client_org)
    audit_record(actor=freelancer, action="talent_profile.updated")
    audit_record(actor=other_person, action="bid.created", organization=client_org)
    audit_record(actor=None, action="invoice.issued", organization=client_org)

    response = api_client(freelancer_api_key(freelancer, scopes=["audit:read"])).get(EVENTS)

    assert _actions(response) == ["api_key.created", "talent_profile.updated", "bid.created"]
    assert {row["actor_label"] for row in response.json()["results"]} == {freelancer.email}


@pytest.mark.django_db
def test_a_signed_in_member_reads_the_organisation_chosen_in_the_session(client) -> None:
    member = MembershipFactory(organization=OrganizationFactory(name="Mine"))
    audit_record(actor=None, action="gig.published", organization=member.organization)
    audit_record(actor=None, action="gig.published", organization=OrganizationFactory())
    client.force_login(member.user)

    response = client.get(EVENTS)

    assert _actions(response) == ["gig.published"]


@pytest.mark.django_db
def test_audit_events_need_a_key_with_the_audit_scope_and_are_read_only() -> None:
    organization = OrganizationFactory()

    assert api_client().get(EVENTS).status_code == 401
    assert api_client(org_api_key(organization, scopes=["billing:read"])).get(EVENTS).status_code == 403
    posted = api_client(org_api_key(organization)).post(EVENTS, {"action": "forged.event"}, format="json")
    assert posted.status_code == 403
    assert not AuditEvent.objects.filter(action="forged.event").exists()


@pytest.mark.django_db
def test_events_take_the_same_number_of_queries_for_one_or_three() -> None:
    organization = OrganizationFactory()
    api = api_client(org_api_key(organization, scopes=["audit:read"]))
    api.get(EVENTS)

    with CaptureQueriesContext(connection) as one:
        assert len(api.get(EVENTS).json()["results"]) == 1  # the key's creation
    audit_record(actor=None, action="gig.published", organization=organization)
    audit_record(actor=None, action="gig.cancelled", organization=organization)
    with CaptureQueriesContext(connection) as three:
        assert len(api.get(EVENTS).json()["results"]) == 3

    assert len(three) == len(one)
