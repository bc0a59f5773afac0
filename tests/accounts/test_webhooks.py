"""Outgoing webhooks: audit events become deliveries for exactly the parties concerned (once, however often
dispatch runs); deliveries are signed so a real receiver can verify them, retried with backoff for a day, logged
and replayable; URLs must be https on public addresses; and the API manages them within the caller's scope."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from datetime import time as dt_time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import tasks as account_tasks
from accounts.models import Membership, WebhookAttempt, WebhookDelivery, WebhookDispatchCursor, WebhookSubscription
from accounts.selectors import webhook_subscription_list_for_user
from accounts.webhooks import (
    webhook_delivery_attempt,
    webhook_delivery_replay,
    webhook_secret,
    webhook_signature,
    webhook_signature_verify,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhooks_dispatch,
)
from core import tasks as core_tasks
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_record, audit_seal
from tests.api_support import READ_SCOPES, api_client, freelancer_api_key, org_api_key
from tests.engagements import conftest as engagement_fixtures
from tests.factories import MembershipFactory, OrganizationFactory, SkillFactory, TalentProfileFactory, UserFactory
from tests.marketplace.conftest import make_gig

ALL_EVENTS = [
    "gig.published",
    "bid.created",
    "bid.accepted",
    "contract.activated",
    "timesheet.submitted",
    "timesheet.approved",
    "milestone.released",
    "invoice.issued",
    "payout.paid",
    "sla.breached",
    "compliance.updated",
]
HOOK_URL = "https://hooks.partner.example/tandem"
hire = engagement_fixtures.hire  # fixtures shared with the engagement tests
sow_parties = engagement_fixtures.sow_parties
make_sow = engagement_fixtures.make_sow


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 (a thread): records every POST and answers with the next of `statuses`
    (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tandem"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Delivery ids whose attempt was queued (on commit); sealing tasks queued on commit are dropped."""
    attempts: list[int] = []
    monkeypatch.setattr(
        account_tasks.webhook_delivery_attempt, "delay", lambda *, delivery_id: attempts.append(delivery_id)
    )
    monkeypatch.setattr(core_tasks.audit_seal, "delay", lambda: None)
    return attempts


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    endpoint.thread.start()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


def _owner(organization=None) -> Any:
    return MembershipFactory(organization=organization or OrganizationFactory()).user


def _subscribe(by, *, url: str = HOOK_URL, events: list[str] | None = None, organization=None, backdate: bool = True):
    subscription, secret = webhook_subscription_create(
        by=by,
        url=url,
        events=ALL_EVENTS if events is None else events,
        organization_id=organization.pk if organization is not None else None,
    )
    if backdate:  # subscribed before the work the test then looks at
        WebhookSubscription.objects.filter(pk=subscription.pk).update(created_at=timezone.now() - timedelta(hours=1))
        subscription.refresh_from_db()
    return subscription, secret


def _types(subscription: WebhookSubscription) -> list[str]:
    return list(subscription.deliveries.order_by("id").values_list("event_type", flat=True))


def _seal_and_dispatch() -> int:
    audit_seal()
    return webhooks_dispatch()


def _delivery(subscription: WebhookSubscription, **fields: Any) -> WebhookDelivery:
    audit = audit_record(actor=None, action="gig.published", organization=subscription.organization)
    payload = {"id": "6a1d4c3e-0000-5000-8000-000000000001", "type": "gig.published", "created": "x", "data": {}}
    values = {
        "event_type": "gig.published",
        "event_id": payload["id"],
        "audit_event_id": audit.pk,
        "payload": payload,
        "next_attempt_at": timezone.now(),
    }
    return WebhookDelivery.objects.create(subscription=subscription, **{**values, **fields})


# --- dispatch: which events reach whom ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dispatch_sends_each_party_the_events_of_its_own_work_and_other_organisations_nothing(
    hire, queued, django_capture_on_commit_callbacks
) -> None:
    contract, member, freelancer = hire(kind="fixed")
    client_all, _ = _subscribe(member.user, organization=member.organization)
    client_bids, _ = _subscribe(member.user, organization=member.organization, events=["bid.created"])
    freelancer_all, _ = _subscribe(freelancer)
    outsider = OrganizationFactory()
    outsider_all, _ = _subscribe(_owner(outsider), organization=outsider)

    with django_capture_on_commit_callbacks(execute=True):
        created = _seal_and_dispatch()

    assert created == 7
    assert _types(client_all) == ["gig.published", "bid.created", "bid.accepted", "contract.activated"]
    assert _types(client_bids) == ["bid.created"]
    assert _types(freelancer_all) == ["bid.accepted", "contract.activated"]
    assert _types(outsider_all) == []
    assert queued == list(WebhookDelivery.objects.order_by("id").values_list("id", flat=True))  # after commit
    accepted = AuditEvent.objects.get(action="bid.accepted")
    to_client, to_freelancer = WebhookDelivery.objects.filter(event_type="bid.accepted").order_by("subscription_id")
    assert to_client.subscription == client_all and to_freelancer.subscription == freelancer_all
    assert to_client.event_id == to_freelancer.event_id
    assert to_client.payload == {
        "id": str(to_client.event_id),
        "type": "bid.accepted",
        "created": accepted.created_at.astimezone(UTC).isoformat(),
        "data": {
            "object": "bid",
            "id": contract.bid_id,
            "gig_id": contract.gig_id,
            "status": "accepted",
            "currency": contract.currency,
            "amount": "900.00",
            "hourly_rate": None,
            "contract_id": contract.pk,
        },
    }
    activated = WebhookDelivery.objects.get(subscription=freelancer_all, event_type="contract.activated")
    assert activated.payload["data"] == {
        "object": "contract",
        "id": contract.pk,
        "kind": "fixed",
        "status": "active",
        "gig_id": contract.gig_id,
        "currency": contract.currency,
        "fixed_amount": "900.00",
        "hourly_rate": None,
    }
    assert (activated.status, activated.attempts, activated.audit_event_id) == (
        "pending",
        0,
        AuditEvent.objects.get(action="contract.activated").pk,
    )


@pytest.mark.django_db
def test_dispatch_twice_creates_nothing_new_even_from_a_rewound_cursor() -> None:
    member = MembershipFactory()
    subscription, _ = _subscribe(member.user, organization=member.organization)
    make_gig(member, SkillFactory())
    first = _seal_and_dispatch()

    again = webhooks_dispatch()
    WebhookDispatchCursor.objects.update(last_sequence=0)
    rewound = webhooks_dispatch()

    assert (first, again, rewound) == (1, 0, 0)
    assert _types(subscription) == ["gig.published"]
    assert WebhookDispatchCursor.objects.get().last_sequence == AuditEvent.objects.order_by("-sequence")[0].sequence


@pytest.mark.django_db
def test_a_subscription_gets_only_events_recorded_after_it_was_created_and_none_once_deleted() -> None:
    member = MembershipFactory()
    skill = SkillFactory()
    make_gig(member, skill)
    subscription, _ = _subscribe(member.user, organization=member.organization, backdate=False)
    before = _seal_and_dispatch()
    make_gig(member, skill)
    after = _seal_and_dispatch()

    webhook_subscription_delete(subscription_id=subscription.pk, by=member.user)
    make_gig(member, skill)
    deleted = _seal_and_dispatch()

    assert (before, after, deleted) == (0, 1, 0)
    assert not WebhookDelivery.objects.exists()  # deleted with the subscription
    assert AuditEvent.objects.filter(action="webhook_subscription.deleted").count() == 1


@pytest.mark.django_db
def test_timesheets_and_invoices_reach_both_sides_of_the_contract(hire) -> None:
    from billing.services import invoice_issue_for_timesheet
    from engagements.models import Contract
    from engagements.services import TimeEntryInput, time_entry_add, timesheet_approve, timesheet_submit, week_start_of

    contract, member, freelancer = hire(kind="hourly")
    monday = week_start_of(timezone.localdate() - timedelta(days=7))
    Contract.objects.filter(pk=contract.pk).update(start_date=monday - timedelta(days=7))
    client, _ = _subscribe(member.user, organization=member.organization, events=["timesheet.approved"])
    worker, _ = _subscribe(freelancer, events=["timesheet.submitted", "timesheet.approved", "invoice.issued"])
    entry = time_entry_add(
        contract_id=contract.pk,
        data=TimeEntryInput(work_date=monday, start_time=dt_time(9), hours=Decimal("3"), description="API"),
        by=freelancer,
    )
    timesheet_submit(timesheet_id=entry.timesheet_id, by=freelancer)
    timesheet = timesheet_approve(timesheet_id=entry.timesheet_id, by=member.user)
    invoice = invoice_issue_for_timesheet(timesheet=timesheet)
    assert invoice is not None

    _seal_and_dispatch()

    assert _types(client) == ["timesheet.approved"]
    assert _types(worker) == ["timesheet.submitted", "timesheet.approved", "invoice.issued"]
    approved = WebhookDelivery.objects.get(subscription=client)
    assert approved.payload["data"] == {
        "object": "timesheet",
        "id": timesheet.pk,
        "contract_id": contract.pk,
        "week_start": monday.isoformat(),
        "status": "approved",
        "total_hours": "3.00",
        "is_auto_approved": False,
    }
    issued = WebhookDelivery.objects.get(subscription=worker, event_type="invoice.issued")
    assert issued.payload["data"] == {
        "object": "invoice",
        "id": invoice.pk,
        "number": invoice.number,
        "kind": "hourly_week",
        "status": "issued",
        "contract_id": contract.pk,
        "sow_id": None,
        "currency": invoice.currency,
        "total": f"{invoice.total:.2f}",
        "due_date": invoice.due_date.isoformat(),
    }


@pytest.mark.django_db
def test_a_months_missed_service_levels_reach_client_and_vendor_as_sla_breached(make_sow, sow_parties) -> None:
    from engagements import services as engagement_services
    from engagements.services.sows import month_start

    last_month = month_start(month_start(timezone.localdate()) - timedelta(days=1))
    sow = make_sow(start_date=last_month - timedelta(days=62))
    client, _ = _subscribe(sow_parties.client_owner, organization=sow_parties.client, events=["sla.breached"])
    vendor, _ = _subscribe(sow_parties.vendor_owner, organization=sow_parties.vendor, events=["sla.breached"])

    evaluation = engagement_services.sla_evaluate(sow_id=sow.pk, period=last_month)  # nothing reported: missed
    _seal_and_dispatch()

    assert _types(client) == _types(vendor) == ["sla.breached"]
    data = WebhookDelivery.objects.get(subscription=vendor).payload["data"]
    assert {key: data[key] for key in ("object", "id", "sow_id", "period", "levels_met", "levels_total")} == {
        "object": "sla_evaluation",
        "id": evaluation.pk,
        "sow_id": sow.pk,
        "period": last_month.isoformat(),
        "levels_met": 0,
        "levels_total": 2,
    }
    assert sorted((breach["metric"], breach["measured_value"]) for breach in data["breaches"]) == [
        ("csat", None),
        ("first_response_minutes", None),
    ]


@pytest.mark.django_db
def test_payouts_and_compliance_decisions_reach_the_payee_only() -> None:
    from billing.models import Payout, PayoutAccount
    from compliance.models import ScreeningHit
    from compliance.services.checks import screening_hit_decide

    freelancer = TalentProfileFactory().user
    mine, _ = _subscribe(freelancer)
    someone_else, _ = _subscribe(TalentProfileFactory().user)
    account = PayoutAccount.objects.create(user=freelancer, stripe_account_id="acct_webhooks", country="GB")
    payout = Payout.objects.create(
        user=freelancer, payout_account=account, amount=Decimal("123.40"), currency="EUR", idempotency_key="po-wh-1"
    )
    previous = payout.transition_to(Payout.Status.PAID)
    payout.save()
    audit_record(actor=None, action="payout.paid", target=payout, from_state=previous, to_state=payout.status)
    hit = ScreeningHit.objects.create(
        user=freelancer,
        screened_name="Fran Freelance",
        listed_name="FRAN FREELANCE",
        list_entry_id="X1",
        list_source="test list",
        score=Decimal("0.9"),
    )
    ops = UserFactory(is_staff=True, is_superuser=True)
    screening_hit_decide(hit_id=hit.pk, by=ops, decision="cleared", note="Different date of birth.")

    _seal_and_dispatch()

    assert _types(mine) == ["payout.paid", "compliance.updated"]
    assert _types(someone_else) == []
    paid, compliance = (delivery.payload["data"] for delivery in mine.deliveries.order_by("id"))
    assert paid == {"object": "payout", "id": payout.pk, "status": "paid", "currency": "EUR", "amount": "123.40"}
    assert compliance == {"object": "screening", "id": hit.pk, "status": "cleared"}


# --- delivery: signing, retries, replay -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_real_receiver_gets_a_signed_post_it_can_verify_and_a_tampered_body_fails(receiver) -> None:
    member = MembershipFactory()
    subscription, secret = _subscribe(member.user, organization=member.organization, url=receiver.url)
    make_gig(member, SkillFactory())
    _seal_and_dispatch()
    delivery = subscription.deliveries.get()

    delivered = webhook_delivery_attempt(delivery_id=delivery.pk)

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/tandem"
    assert (headers["Tandem-Event"], headers["Tandem-Delivery"], headers["Content-Type"]) == (
        "gig.published",
        str(delivery.pk),
        "application/json",
    )
    assert secret.startswith("whsec_") and secret not in subscription.secret_encrypted
    assert webhook_signature_verify(payload=body, header=headers["Tandem-Signature"], secret=secret)
    assert not webhook_signature_verify(
        payload=body.replace(b'"gig.published"', b'"payout.paid"'), header=headers["Tandem-Signature"], secret=secret
    )
    assert not webhook_signature_verify(payload=body, header=headers["Tandem-Signature"], secret="whsec_other")
    assert json.loads(body) == delivery.payload
    assert (delivered.status, delivered.attempts, delivered.last_status_code, delivered.next_attempt_at) == (
        "succeeded",
        1,
        200,
        None,
    )
    assert delivered.delivered_at is not None
    assert list(delivered.attempt_log.values_list("status_code", "error")) == [(200, "")]


def test_a_signature_older_than_the_tolerance_or_malformed_is_refused() -> None:
    body = b'{"id":"x"}'
    old = webhook_signature(payload=body, secret="whsec_s", timestamp=int(time.time()) - 301)
    fresh = webhook_signature(payload=body, secret="whsec_s", timestamp=int(time.time()))

    assert webhook_signature_verify(payload=body, header=fresh, secret="whsec_s")
    assert not webhook_signature_verify(payload=body, header=old, secret="whsec_s")
    assert webhook_signature_verify(payload=body, header=old, secret="whsec_s", tolerance_seconds=600)
    for header in ("", "t=abc,v1=00", fresh.split(",")[0], "v1=" + fresh.partition("v1=")[2]):
        assert not webhook_signature_verify(payload=body, header=header, secret="whsec_s")


@pytest.mark.django_db
def test_a_failing_endpoint_is_retried_with_exponential_backoff_and_every_attempt_is_logged(receiver) -> None:
    member = MembershipFactory()
    subscription, _ = _subscribe(member.user, organization=member.organization, url=receiver.url)
    delivery = _delivery(subscription)
    receiver.statuses = [500, 503]

    first_at = timezone.now()
    first = webhook_delivery_attempt(delivery_id=delivery.pk)
    early = webhook_delivery_attempt(delivery_id=delivery.pk)  # not due yet: nothing is sent
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    second_at = timezone.now()
    second = webhook_delivery_attempt(delivery_id=delivery.pk)

    assert first_at + timedelta(minutes=1) <= first.next_attempt_at <= timezone.now() + timedelta(minutes=1)
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert (early.attempts, len(receiver.requests)) == (1, 2)
    assert second_at + timedelta(minutes=2) <= second.next_attempt_at <= timezone.now() + timedelta(minutes=2)
    assert (second.status, second.attempts, second.last_status_code) == ("pending", 2, 503)
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("id").values_list("status_code", "error"))
    assert log == [(500, "The endpoint answered HTTP 500: ok"), (503, "The endpoint answered HTTP 503: ok")]


@pytest.mark.django_db
def test_retries_are_an_hour_apart_at_most_and_stop_a_day_after_the_event_as_failed() -> None:
    member = MembershipFactory()
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    subscription, _ = _subscribe(member.user, organization=member.organization, url=f"http://127.0.0.1:{closed_port}/")
    late = _delivery(subscription, attempts=9, created_at=timezone.now() - timedelta(hours=20))
    expired = _delivery(subscription, attempts=20, created_at=timezone.now() - timedelta(hours=23, minutes=30))

    started = timezone.now()
    retried = webhook_delivery_attempt(delivery_id=late.pk)
    failed = webhook_delivery_attempt(delivery_id=expired.pk)

    assert retried.status == "pending"
    assert started + timedelta(hours=1) <= retried.next_attempt_at <= timezone.now() + timedelta(hours=1)
    assert (failed.status, failed.next_attempt_at, failed.attempts, failed.last_status_code) == (
        "failed",
        None,
        21,
        None,
    )
    [attempt] = failed.attempt_log.all()
    assert attempt.status_code is None and attempt.error.startswith("ConnectionRefusedError")


@pytest.mark.django_db
def test_replay_sends_a_failed_delivery_again_for_its_owners_only(
    receiver, queued, django_capture_on_commit_callbacks
) -> None:
    member = MembershipFactory()
    subscription, _ = _subscribe(member.user, organization=member.organization, url=receiver.url)
    delivery = _delivery(subscription, status="failed", attempts=30, next_attempt_at=None, last_status_code=500)
    outsider = _owner()
    plain_member = MembershipFactory(organization=member.organization, role=Membership.Role.MEMBER).user

    with pytest.raises(WebhookDelivery.DoesNotExist):
        webhook_delivery_replay(delivery_id=delivery.pk, by=outsider)
    with pytest.raises(ApplicationError) as not_a_manager:
        webhook_delivery_replay(delivery_id=delivery.pk, by=plain_member)
    untouched = WebhookDelivery.objects.get(pk=delivery.pk)
    with django_capture_on_commit_callbacks(execute=True):
        replayed = webhook_delivery_replay(delivery_id=delivery.pk, by=member.user)
    sent = webhook_delivery_attempt(delivery_id=delivery.pk)

    assert (untouched.status, untouched.attempts) == ("failed", 30)
    assert not_a_manager.value.status == 403
    assert (replayed.status, queued) == ("pending", [delivery.pk])
    assert (sent.status, sent.attempts, sent.last_status_code, len(receiver.requests)) == ("succeeded", 31, 200, 1)


# --- URL rules ------------------------------------------------------------------------------------------------------


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Host name → address, for socket.getaddrinfo (unknown names fail as DNS does)."""
    records: dict[str, str] = {}

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        address = records.get(host, host)
        try:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            socket.inet_pton(family, address)
        except OSError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.partner.example/x", "Webhook URLs must use https://, so events travel encrypted."),
        ("ftp://hooks.partner.example/x", "Enter the full URL of your endpoint, starting with https://."),
        ("https://user:pw@hooks.partner.example/x", "Leave credentials out of the URL: check the Tandem-Signature"),
        ("https://nowhere.example/x", "nowhere.example could not be found in DNS"),
        ("https://127.0.0.1/x", "127.0.0.1 resolves to 127.0.0.1, which is private, loopback, link-local or reserved"),
        ("https://10.1.2.3/x", "10.1.2.3 resolves to 10.1.2.3, which is private"),
        ("https://169.254.169.254/latest", "169.254.169.254 resolves to 169.254.169.254, which is private"),
        ("https://[::1]/x", "::1 resolves to ::1, which is private"),
        ("https://[::ffff:192.168.0.1]/x", "::ffff:192.168.0.1 resolves to ::ffff:192.168.0.1, which is private"),
        ("https://intranet.partner.example/x", "intranet.partner.example resolves to 172.16.0.9, which is private"),
        ("https://hooks.partner.example:99999/x", "The URL's port must be a number from 1 to 65535."),
    ],
)
def test_only_https_urls_on_public_addresses_are_accepted_in_production(settings, dns, url, message) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    dns.update({"hooks.partner.example": "93.184.215.14", "intranet.partner.example": "172.16.0.9"})
    member = MembershipFactory()

    with pytest.raises(ApplicationError) as refused:
        webhook_subscription_create(
            by=member.user, url=url, events=["gig.published"], organization_id=member.organization_id
        )

    assert refused.value.field_errors["url"][0].startswith(message)
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_a_public_https_url_is_accepted_and_loopback_http_when_private_urls_are_allowed(settings, dns) -> None:
    dns["hooks.partner.example"] = "93.184.215.14"
    member = MembershipFactory()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    public, _ = webhook_subscription_create(
        by=member.user, url=HOOK_URL, events=["gig.published"], organization_id=member.organization_id
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    local, _ = webhook_subscription_create(
        by=member.user,
        url="http://127.0.0.1:8000/hook",
        events=["gig.published"],
        organization_id=member.organization_id,
    )

    assert [public.url, local.url] == [HOOK_URL, "http://127.0.0.1:8000/hook"]


@pytest.mark.django_db
def test_each_delivery_checks_the_address_again_so_a_host_rebound_to_a_private_address_gets_nothing(
    settings, dns
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    dns["hooks.partner.example"] = "93.184.215.14"
    member = MembershipFactory()
    subscription, _ = _subscribe(member.user, organization=member.organization)
    delivery = _delivery(subscription)
    dns["hooks.partner.example"] = "127.0.0.1"  # DNS rebinding

    attempted = webhook_delivery_attempt(delivery_id=delivery.pk)

    assert (attempted.status, attempted.attempts, attempted.last_status_code) == ("pending", 1, None)
    [attempt] = attempted.attempt_log.all()
    assert attempt.error.startswith("hooks.partner.example resolves to 127.0.0.1, which is private")


@pytest.mark.django_db
def test_subscribing_needs_an_owner_or_admin_known_events_and_a_freelancer_profile_without_an_organisation() -> None:
    member = MembershipFactory(role=Membership.Role.MEMBER)
    outsider = _owner()
    owner = MembershipFactory(organization=member.organization).user

    with pytest.raises(ApplicationError) as plain_member:
        webhook_subscription_create(
            by=member.user, url=HOOK_URL, events=ALL_EVENTS, organization_id=member.organization_id
        )
    with pytest.raises(type(member.organization).DoesNotExist):
        webhook_subscription_create(
            by=outsider, url=HOOK_URL, events=ALL_EVENTS, organization_id=member.organization_id
        )
    with pytest.raises(ApplicationError) as unknown:
        webhook_subscription_create(
            by=owner, url=HOOK_URL, events=["gig.exploded"], organization_id=member.organization_id
        )
    with pytest.raises(ApplicationError) as none:
        webhook_subscription_create(by=owner, url=HOOK_URL, events=[], organization_id=member.organization_id)
    with pytest.raises(ApplicationError) as no_profile:
        webhook_subscription_create(by=owner, url=HOOK_URL, events=ALL_EVENTS)

    assert (plain_member.value.status, plain_member.value.message) == (
        403,
        f"Only owners and admins of {member.organization.name} can manage its webhooks.",
    )
    assert unknown.value.field_errors["events"][0].startswith("Unknown event type(s): gig.exploded. Choose from")
    assert none.value.field_errors == {"events": ["Choose at least one event to receive."]}
    assert no_profile.value.code == "organization_required"
    assert not WebhookSubscription.objects.exists()


# --- tasks ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sealing_queues_a_dispatch_only_when_it_sealed_something_and_the_sweep_queues_due_retries(monkeypatch) -> None:
    dispatches: list[int] = []
    attempts: list[int] = []
    monkeypatch.setattr(account_tasks.webhooks_dispatch, "delay", lambda: dispatches.append(1))
    monkeypatch.setattr(
        account_tasks.webhook_delivery_attempt, "delay", lambda *, delivery_id: attempts.append(delivery_id)
    )
    member = MembershipFactory()
    subscription, _ = _subscribe(member.user, organization=member.organization)
    due = _delivery(subscription, next_attempt_at=timezone.now() - timedelta(seconds=1))
    _delivery(subscription, next_attempt_at=timezone.now() + timedelta(minutes=5))
    _delivery(subscription, status="succeeded", next_attempt_at=None)

    core_tasks.audit_seal()  # the events recorded above
    core_tasks.audit_seal()  # nothing new
    queued = account_tasks.webhook_deliveries_due()

    assert dispatches == [1]
    assert (queued, attempts) == (1, [due.pk])


def test_webhook_tasks_run_on_their_own_queue_and_beat_dispatches_and_retries_every_minute() -> None:
    from config.celery import app

    names = ["accounts.tasks.webhooks_dispatch", "accounts.tasks.webhook_delivery_attempt"]
    names.append("accounts.tasks.webhook_deliveries_due")
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}

    assert [app.amqp.router.route({}, name)["queue"].name for name in names] == ["webhooks"] * 3
    assert app.amqp.router.route({}, "core.tasks.audit_seal")["queue"].name == "default"
    assert (schedule[names[0]], schedule[names[2]]) == (60.0, 60.0)


@pytest.mark.django_db(transaction=True)
def test_end_to_end_through_the_workers_a_published_gig_reaches_the_receiver(celery_worker, receiver) -> None:
    member = MembershipFactory()
    _, secret = _subscribe(member.user, organization=member.organization, url=receiver.url)
    skill = SkillFactory()

    gig = make_gig(member, skill)  # commits: audit_seal → webhooks_dispatch → webhook_delivery_attempt

    deadline = time.monotonic() + 30
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    [request] = receiver.requests
    assert webhook_signature_verify(
        payload=request["body"], header=request["headers"]["Tandem-Signature"], secret=secret
    )
    assert json.loads(request["body"])["data"]["id"] == gig.pk
    delivery = WebhookDelivery.objects.get()
    for _ in range(50):  # the worker records the attempt just after the receiver answered
        if delivery.status == "succeeded":
            break
        time.sleep(0.1)
        delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("succeeded", 200)


# --- API ------------------------------------------------------------------------------------------------------------

WEBHOOKS = "/api/v1/webhooks/"


@pytest.mark.django_db
def test_api_create_returns_the_secret_once_and_ignores_fields_the_caller_may_not_set() -> None:
    organization, other = OrganizationFactory(), OrganizationFactory()
    raw = org_api_key(organization, scopes=["webhooks:write"])
    body = {
        "url": HOOK_URL,
        "events": ["invoice.issued", "bid.created", "invoice.issued"],
        "organization": other.pk,
        "user": 1,
        "is_active": False,
        "secret": "whsec_chosen_by_me",
        "status": "failed",
    }

    response = api_client(raw).post(WEBHOOKS, body, format="json")
    listed = api_client(raw).get(WEBHOOKS)

    assert response.status_code == 201
    subscription = WebhookSubscription.objects.get()
    created = response.json()
    assert created == {
        "id": subscription.pk,
        "organization": organization.pk,
        "url": HOOK_URL,
        "events": ["bid.created", "invoice.issued"],
        "is_active": True,
        "created_at": created["created_at"],
        "secret": webhook_secret(subscription=subscription),
    }
    assert created["secret"].startswith("whsec_") and created["secret"] != "whsec_chosen_by_me"
    assert (subscription.organization_id, subscription.user_id, subscription.is_active) == (organization.pk, None, True)
    assert listed.status_code == 200
    assert [{**row} for row in listed.json()["results"]] == [{k: v for k, v in created.items() if k != "secret"}]


@pytest.mark.django_db
def test_api_create_refuses_invalid_fields_with_problem_details(settings) -> None:
    raw = org_api_key(OrganizationFactory(), scopes=["webhooks:write"])
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    invalid = api_client(raw).post(WEBHOOKS, {"url": "", "events": ["gig.exploded"]}, format="json")
    plain_http = api_client(raw).post(WEBHOOKS, {"url": "http://hooks.partner.example/x", "events": ["bid.created"]})

    assert invalid.status_code == 400 and invalid["Content-Type"] == "application/problem+json"
    assert set(invalid.json()["errors"]) == {"url", "events"}
    assert plain_http.status_code == 400
    assert plain_http.json()["errors"] == {"url": ["Webhook URLs must use https://, so events travel encrypted."]}
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_api_lists_delete_and_deliveries_stay_within_the_callers_organisation() -> None:
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    my_subscription, _ = _subscribe(_owner(mine), organization=mine)
    their_subscription, _ = _subscribe(_owner(theirs), organization=theirs)
    their_delivery = _delivery(their_subscription)
    client = api_client(org_api_key(mine, scopes=["webhooks:write"]))

    listed = client.get(WEBHOOKS)
    their_deliveries = client.get(f"{WEBHOOKS}{their_subscription.pk}/deliveries/")
    delete_theirs = client.delete(f"{WEBHOOKS}{their_subscription.pk}/")
    replay_theirs = client.post(f"/api/v1/webhook-deliveries/{their_delivery.pk}/replay/")
    delete_mine = client.delete(f"{WEBHOOKS}{my_subscription.pk}/")

    assert [row["id"] for row in listed.json()["results"]] == [my_subscription.pk]
    assert (their_deliveries.status_code, delete_theirs.status_code, replay_theirs.status_code) == (404, 404, 404)
    assert WebhookSubscription.objects.filter(pk=their_subscription.pk).exists()
    assert WebhookDelivery.objects.get(pk=their_delivery.pk).next_attempt_at == their_delivery.next_attempt_at
    assert delete_mine.status_code == 204
    assert not WebhookSubscription.objects.filter(pk=my_subscription.pk).exists()


@pytest.mark.django_db
def test_api_read_only_keys_may_read_but_not_write_and_no_key_is_401() -> None:
    organization = OrganizationFactory()
    subscription, _ = _subscribe(_owner(organization), organization=organization)
    delivery = _delivery(subscription, status="failed", next_attempt_at=None)
    read_only = api_client(org_api_key(organization, scopes=READ_SCOPES))

    assert read_only.get(WEBHOOKS).status_code == 200
    assert read_only.get(f"{WEBHOOKS}{subscription.pk}/deliveries/").status_code == 200
    assert read_only.post(WEBHOOKS, {"url": HOOK_URL, "events": ["bid.created"]}, format="json").status_code == 403
    assert read_only.delete(f"{WEBHOOKS}{subscription.pk}/").status_code == 403
    assert read_only.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 403
    assert api_client().get(WEBHOOKS).status_code == 401
    assert api_client().post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 401
    assert WebhookSubscription.objects.count() == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "failed"


@pytest.mark.django_db
def test_api_deliveries_show_their_attempts_codes_in_a_constant_number_of_queries() -> None:
    organization = OrganizationFactory()
    subscription, _ = _subscribe(_owner(organization), organization=organization)
    client = api_client(org_api_key(organization, scopes=["webhooks:read"]))
    url = f"{WEBHOOKS}{subscription.pk}/deliveries/"

    def add_delivery() -> WebhookDelivery:
        delivery = _delivery(subscription, attempts=2, last_status_code=200, status="succeeded")
        WebhookAttempt.objects.create(delivery=delivery, status_code=500, error="The endpoint answered HTTP 500")
        WebhookAttempt.objects.create(delivery=delivery, status_code=200)
        return delivery

    first = add_delivery()
    client.get(url)  # warms the key's last-used time
    with CaptureQueriesContext(connection) as one:
        response = client.get(url)
    add_delivery(), add_delivery()
    with CaptureQueriesContext(connection) as three:
        more = client.get(url)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["status"], row["attempts"], row["last_status_code"]) == (first.pk, "succeeded", 2, 200)
    assert [attempt["status_code"] for attempt in row["attempt_log"]] == [500, 200]
    assert len(more.json()["results"]) == 3
    assert len(three) == len(one)


@pytest.mark.django_db
def test_api_replay_queues_the_delivery_again(queued, django_capture_on_commit_callbacks) -> None:
    organization = OrganizationFactory()
    subscription, _ = _subscribe(_owner(organization), organization=organization)
    delivery = _delivery(subscription, status="failed", attempts=30, next_attempt_at=None, last_status_code=500)
    client = api_client(org_api_key(organization, scopes=["webhooks:write"]))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/webhook-deliveries/{delivery.pk}/replay/", {"status": "succeeded"}, format="json"
        )

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"], response.json()["attempts"]) == (
        delivery.pk,
        "pending",
        30,
    )
    assert queued == [delivery.pk]


@pytest.mark.django_db
def test_api_a_freelancers_key_manages_the_freelancers_own_webhooks() -> None:
    freelancer = TalentProfileFactory().user
    organization = OrganizationFactory()
    _subscribe(_owner(organization), organization=organization)
    client = api_client(freelancer_api_key(freelancer, scopes=["webhooks:write"]))

    created = client.post(WEBHOOKS, {"url": HOOK_URL, "events": ["payout.paid"]}, format="json")
    listed = client.get(WEBHOOKS)

    assert created.status_code == 201
    assert created.json()["organization"] is None
    assert [row["id"] for row in listed.json()["results"]] == [created.json()["id"]]
    assert list(webhook_subscription_list_for_user(user=freelancer)) == [
        WebhookSubscription.objects.get(user=freelancer)
    ]


# --- admin ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ops_see_deliveries_read_only_and_replay_them_through_the_service(
    client, queued, django_capture_on_commit_callbacks
) -> None:
    organization = OrganizationFactory()
    subscription, _ = _subscribe(_owner(organization), organization=organization)
    delivery = _delivery(subscription, status="failed", attempts=30, next_attempt_at=None, last_status_code=500)
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, error="The endpoint answered HTTP 500")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    pages = [
        client.get(f"/admin/accounts/{model}/")
        for model in ("webhooksubscription", "webhookdelivery", "webhookattempt")
    ]
    detail = client.get(f"/admin/accounts/webhookdelivery/{delivery.pk}/change/")
    with django_capture_on_commit_callbacks(execute=True):
        replayed = client.post(
            "/admin/accounts/webhookdelivery/",
            {"action": "replay", "_selected_action": [delivery.pk]},
            follow=True,
        )

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert detail.status_code == 200 and b"The endpoint answered HTTP 500" in detail.content
    assert b"secret" not in detail.content.lower().replace(b"csrfmiddlewaretoken", b"")
    assert b"1 delivery queued to be sent again." in replayed.content
    assert (WebhookDelivery.objects.get(pk=delivery.pk).status, queued) == ("pending", [delivery.pk])
