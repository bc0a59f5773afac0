"""Data rights: a person's export holds every personal field of theirs (the expected set is built by introspecting
the models, not listed by hand); after ops confirm an erasure none of those values remain anywhere in the database
outside the documented retention list, their files are gone and they cannot sign in."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import models
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import empty

import compliance.admin_data_rights  # noqa: F401  (registers the data-rights admin until compliance/admin.py does)
from accounts.models import Organization, User, WebhookAttempt, WebhookDelivery
from accounts.services import api_key_create
from accounts.staff_groups import COMPLIANCE_REVIEWERS
from accounts.webhooks import webhook_subscription_create
from billing.models import Invoice, InvoiceLine, LedgerAccount, Payout, PayoutAccount
from compliance import tasks_checks
from compliance.models import (
    ClassificationAssessment,
    ComplianceDocument,
    DataExportRequest,
    ErasureRequest,
    OnboardingEmail,
    Requirement,
    ScreeningHit,
    private_storage,
)
from compliance.services import data_rights
from core.errors import ApplicationError
from core.models import AUDIT_ERASED_LABEL, AuditEvent
from core.services import audit_record
from engagements.models import Contract, Milestone, TimeEntry, Timesheet
from marketplace.models import Bid, Gig, Invitation, Match, Review, TaskBatch, TaskUnit
from talent.models import PortfolioItem, ProfileSkill, TalentPool, TalentPoolMember
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    SkillFactory,
    TalentProfileFactory,
    UserFactory,
)
from tests.oncommit import task_callbacks

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EMAIL = "zebulon.quartermaine@example.org"
# Models a freelancer cannot have rows of (documented): the test seeds every other personal model.
NOT_APPLICABLE = {"marketplace.bidteammember": "vendor bids only"}


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path: Path):
    root = tmp_path / "private"
    settings.PRIVATE_STORAGE_ROOT = root
    private_storage._wrapped = empty  # type: ignore[assignment]  # the lazy storage reads the setting again
    yield root
    private_storage._wrapped = empty  # type: ignore[assignment]


def make_reviewer():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_REVIEWERS))
    return user


def _document(user, code: str, **fields) -> ComplianceDocument:
    document = ComplianceDocument(
        requirement=Requirement.objects.get(code=code),
        user=user,
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        **fields,
    )
    document.file.save(f"zq-{code}.pdf", ContentFile(PDF), save=False)
    document.save()
    return document


def seed_person() -> User:
    """A freelancer with a row in every model that can hold a person's data, each text a value of its own."""
    user = UserFactory(email=EMAIL, full_name="Zebulon Quartermaine", country="IS", timezone="Atlantic/Reykjavik")
    address = EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    EmailConfirmation.objects.create(email_address=address, key="zq-confirmation-key-0001")
    client = OrganizationFactory(name="Fjord Analytics", kind=Organization.Kind.CLIENT)
    client_owner = MembershipFactory(organization=client).user
    MembershipFactory(user=user, organization=OrganizationFactory(name="Glacier Co-op"))

    profile = TalentProfileFactory(
        user=user,
        headline="Zq headline: arctic data engineer",
        bio="Zq bio: twelve years of sea-ice telemetry pipelines.",
        languages=["Zq-Icelandic", "Zq-Faroese"],
        country="IS",
        timezone="Atlantic/Reykjavik",
        hourly_rate=Decimal("95.00"),
    )
    ProfileSkill.objects.create(profile=profile, skill=SkillFactory(name="Sea-ice telemetry"), level=5, years=12)
    PortfolioItem.objects.create(
        profile=profile,
        title="Zq portfolio: buoy network",
        description="Zq portfolio description: 40 buoys, one dashboard.",
        url="https://zq-portfolio.example.org/buoys",
    )
    pool = TalentPool.objects.create(organization=client, name="Arctic specialists")
    TalentPoolMember.objects.create(
        pool=pool, freelancer=user, notes="Zq pool note: great on call.", added_by=client_owner
    )

    gig = Gig.objects.create(
        organization=client,
        created_by=client_owner,
        title="Telemetry pipeline",
        description="Ingest buoy data.",
        kind=Gig.Kind.HOURLY,
        hourly_rate_min=Decimal("50"),
        hourly_rate_max=Decimal("120"),
    )
    bid = Bid.objects.create(
        gig=gig,
        freelancer=user,
        submitted_by=user,
        hourly_rate=Decimal("95.00"),
        cover_letter="Zq cover letter: I built the Svalbard buoy pipeline.",
        screening_answers=["Zq screening answer: yes, on call weekends."],
        status=Bid.Status.ACCEPTED,
    )
    Invitation.objects.create(gig=gig, freelancer=user, invited_by=client_owner, message="Zq invitation: please bid!")
    Match.objects.create(gig=gig, freelancer=user, rank=1, score=Decimal("0.9"), factors={"note": "Zq match reason"})

    micro_gig = Gig.objects.create(
        organization=client, created_by=client_owner, title="Label buoys", description="Labels.", kind="micro_task"
    )
    batch = TaskBatch.objects.create(
        gig=micro_gig, created_by=client_owner, instructions="Label it.", unit_price=Decimal("0.10")
    )
    TaskUnit.objects.create(
        batch=batch,
        external_id="zq-unit-1",
        payload={"text": "Zq payload text"},
        status="submitted",
        claimed_by=user,
        submitted_at=timezone.now(),
        result={"label": "Zq unit answer"},
    )

    contract = Contract.objects.create(
        organization=client,
        freelancer=user,
        gig=gig,
        bid=bid,
        kind=Contract.Kind.HOURLY,
        status=Contract.Status.COMPLETED,
        currency="USD",
        hourly_rate=Decimal("95.00"),
        weekly_hour_cap=40,
        start_date=date(2026, 1, 5),
        end_date=date(2026, 6, 29),
        end_reason="Zq end reason: project delivered.",
        dispute_reason="Zq dispute reason: late invoice.",
        dispute_resolution="Zq resolution: paid in full.",
    )
    Milestone.objects.create(
        contract=contract,
        title="Zq milestone: ingest",
        description="Zq milestone description.",
        amount=Decimal("500.00"),
        change_request_note="Zq change request.",
        submission_note="Zq submission note.",
    )
    timesheet = Timesheet.objects.create(
        contract=contract, week_start=date(2026, 1, 5), rejection_reason="Zq timesheet rejection."
    )
    TimeEntry.objects.create(
        timesheet=timesheet,
        work_date=date(2026, 1, 6),
        start_time="09:00",
        hours=Decimal("7.50"),
        description="Zq time entry: calibrated 12 buoys.",
        evidence_url="https://zq-evidence.example.org/commit/1",
    )
    ClassificationAssessment.objects.create(
        contract=contract, score=70, risk="high", status="signed_off", factors=[], decision_note="Zq assessment note."
    )
    Review.objects.create(contract=contract, side="worker", author=user, rating=5, comment="Zq review written.")
    Review.objects.create(
        contract=contract, side="client", author=client_owner, rating=4, comment="Zq review received."
    )

    invoice = Invoice.objects.create(
        number="ZQ-0001",
        kind=Invoice.Kind.HOURLY_WEEK,
        source_key="zq-invoice-source-1",
        organization=client,
        issuer_user=user,
        issuer_name="Zebulon Quartermaine",
        bill_to_name="Fjord Analytics",
        contract=contract,
        currency="USD",
        subtotal=Decimal("712.50"),
        client_fee=Decimal("0.00"),
        total=Decimal("712.50"),
        worker_fee=Decimal("71.25"),
        issued_at=timezone.now(),
        due_date=date(2026, 1, 30),
    )
    InvoiceLine.objects.create(
        invoice=invoice, description="Zq invoice line: week 2", unit_price=Decimal("712.50"), amount=Decimal("712.50")
    )
    LedgerAccount.objects.create(
        kind=LedgerAccount.Kind.WORKER_PAYABLE, currency="USD", user=user, is_debit_normal=False, may_go_negative=False
    )
    account = PayoutAccount.objects.create(
        user=user,
        stripe_account_id="acct_zq0001",
        country="IS",
        requirements_due=["zq.individual.verification"],
        bank_accounts_fingerprint="zq-fingerprint-ba_1",
    )
    Payout.objects.create(
        user=user,
        payout_account=account,
        amount=Decimal("641.25"),
        currency="USD",
        idempotency_key="zq-payout-1",
        stripe_transfer_id="tr_zq0001",
        last_error="Zq payout error: bank closed.",
    )

    _document(
        user,
        "identity",
        original_name="zq-passport.pdf",
        status="rejected",
        appeal_comment="Zq appeal.",
        rejection_reason="Zq rejection: blurred.",
    )
    _document(
        user,
        "tax-form-w8ben",
        original_name="zq-w8ben.pdf",
        status="approved",
        tax_id_encrypted="zq-encrypted-tax-id-gAAAA",
        tax_id_last4="7781",
    )
    ScreeningHit.objects.create(
        user=user,
        screened_name="Zebulon Quartermaine",
        listed_name="QUARTERMAIN, Zebulon",
        list_entry_id="990777",
        list_source="Tandem sample list",
        score=Decimal("0.700"),
        decision_note="Zq screening note.",
    )
    OnboardingEmail.objects.create(user=user, key=f"welcome:{user.pk}", kind="welcome")
    api_key_create(by=user, name="Zq key: my invoicing script", scopes=["billing:read"])
    subscription, _ = webhook_subscription_create(
        by=user, url="https://zq-hooks.example/tandem", events=["payout.paid"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="payout.paid",
        event_id=uuid.uuid4(),
        audit_event_id=1,
        payload={"type": "payout.paid", "data": {"note": "Zq payout payload"}},
    )
    WebhookAttempt.objects.create(delivery=delivery, status_code=500, error="Zq receiver error")
    audit_record(actor=user, action="talent_profile.updated", target=profile)
    audit_record(actor=client_owner, action="contract.completed", target=contract)
    LogEntry.objects.log_actions(
        user_id=make_reviewer().pk,
        queryset=User.objects.filter(pk=user.pk),
        action_flag=CHANGE,
        change_message=[{"changed": {"fields": ["full_name"]}}],
    )
    return user


# --- introspection of what is personal, independent of the export's own walk -------------------------------------


def _text_like(field: models.Field) -> bool:
    if isinstance(field, ArrayField):
        return isinstance(field.base_field, models.CharField | models.TextField)
    return isinstance(field, models.CharField | models.TextField | models.JSONField | models.FileField)


def linked_rows(user: User) -> dict[type[models.Model], set[int]]:
    """The person's rows: rows linked to the user by a subject link, rows cascading from those, transitively, and the
    audit events about them."""
    rows: dict[type[models.Model], set[int]] = {User: {user.pk}}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            link = f"{model._meta.label_lower}.{field.name}"
            if field.is_relation and field.related_model is User and data_rights.PERSON_LINKS[link] == "subject":
                pks = set(model._default_manager.filter(**{field.name: user}).values_list("pk", flat=True))
                rows.setdefault(model, set()).update(pks)
    rows[AuditEvent].update(
        AuditEvent.objects.filter(target_type="accounts.user", target_id=str(user.pk)).values_list("pk", flat=True)
    )
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if not (field.is_relation and (field.many_to_one or field.one_to_one)):
                    continue
                parent = field.related_model
                if parent in rows and parent is not User and field.remote_field.on_delete is models.CASCADE:
                    pks = set(
                        model._default_manager.filter(**{f"{field.name}__in": rows[parent]}).values_list(
                            "pk", flat=True
                        )
                    )
                    if not pks <= rows.get(model, set()):
                        rows.setdefault(model, set()).update(pks)
                        changed = True
    return rows


def _leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return []


def personal_values(user: User) -> list[tuple[str, str, str]]:
    """(model, field, value) of every non-empty personal text value of the person: text, email, URL, file, JSON and
    text-array fields, minus fields with choices (except country), the documented NON_PERSONAL_FIELDS, fields never
    exported (EXPORT_OMITTED_FIELDS) and values equal to the field's default."""
    values: list[tuple[str, str, str]] = []
    for model, pks in linked_rows(user).items():
        label = model._meta.label_lower
        for field in model._meta.concrete_fields:
            if field.primary_key or field.is_relation or not _text_like(field):
                continue
            if field.choices and field.name != "country":
                continue
            if field.name in data_rights.NON_PERSONAL_FIELDS.get(label, ()):
                continue
            if field.name in data_rights.EXPORT_OMITTED_FIELDS.get(label, ()):
                continue
            default = field.get_default() if field.has_default() else None
            for obj in model._default_manager.filter(pk__in=pks):
                value = field.value_from_object(obj)
                value = value.name if isinstance(field, models.FileField) else value
                if value in ("", None, [], {}) or value == default:
                    continue
                values.extend((label, field.name, leaf) for leaf in _leaves(value))
    return values


def export_contents(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: (json.loads(archive.read(name)) if name.endswith(".json") else archive.read(name))
            for name in archive.namelist()
        }


def where_found(value: str) -> list[str]:
    """Every (model.field) in the whole database holding `value`: equal to it, containing it (for values of 8
    characters or more), or as an element of a JSON or array field."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.primary_key or field.is_relation or not _text_like(field):
                continue
            manager = model._default_manager
            if isinstance(field, ArrayField):
                hit = manager.filter(**{f"{field.name}__contains": [value]}).exists()
            elif isinstance(field, models.JSONField):
                hit = (
                    manager.annotate(_text=Cast(field.name, TextField()))
                    .filter(_text__contains=json.dumps(value)[1:-1])
                    .exists()
                )
            else:
                condition = {f"{field.name}__contains": value} if len(value) >= 8 else {field.name: value}
                hit = manager.filter(**condition).exists()
            if hit:
                found.append(f"{model._meta.label_lower}.{field.name}")
    return found


def retained(label: str, field: str) -> bool:
    fields = data_rights.RETENTION.get(label, ((), ""))[0]
    return fields == "*" or field in fields


# --- the rules themselves -----------------------------------------------------------------------------------------


def test_every_link_to_a_person_is_classified_and_every_personal_model_has_an_erasure_policy():
    links = {f"{f.model._meta.label_lower}.{f.name}" for f in data_rights.person_links()}

    assert links == set(data_rights.PERSON_LINKS)
    models_with_data = {model._meta.label_lower for model in data_rights.personal_models()}
    assert models_with_data == set(data_rights.POLICY)
    assert set(data_rights.RETENTION) <= {label for label, policy in data_rights.POLICY.items() if policy == "retain"}


def test_the_seeded_person_has_rows_in_every_personal_model():
    user = seed_person()
    data_rights.data_export_request(user=user)
    data_rights.erasure_request(user=user)

    rows = linked_rows(user)

    empty_models = [
        model._meta.label_lower
        for model in data_rights.personal_models()
        if not rows.get(model) and model._meta.label_lower not in NOT_APPLICABLE
    ]
    assert empty_models == []


# --- export -------------------------------------------------------------------------------------------------------


def test_the_export_contains_every_personal_value_of_the_person(django_capture_on_commit_callbacks):
    user = seed_person()
    with django_capture_on_commit_callbacks() as callbacks:
        request = data_rights.data_export_request(user=user)
    assert len(task_callbacks(callbacks)) == 1  # the build task, enqueued once the request committed
    expected = personal_values(user)

    built = tasks_checks.data_export_build(request_id=request.pk)

    assert built == "ready"
    request.refresh_from_db()
    contents = export_contents(private_storage.open(request.file.name).read())
    missing = [
        (label, field, value)
        for label, field, value in expected
        if not any(value in _leaves(row.get(field)) for row in contents.get(f"{label}.json", []))
    ]
    assert missing == []
    assert len(expected) > 60


def test_the_export_has_the_uploaded_files_and_no_secrets():
    user = seed_person()
    request = data_rights.data_export_request(user=user)

    data_rights.data_export_build(request_id=request.pk)

    request.refresh_from_db()
    contents = export_contents(private_storage.open(request.file.name).read())
    uploaded = [name for name in contents if name.startswith("files/compliance-documents/")]
    assert len(uploaded) == 2 and all(contents[name] == PDF for name in uploaded)
    text = b"".join(value if isinstance(value, bytes) else json.dumps(value).encode() for value in contents.values())
    assert b"zq-encrypted-tax-id" not in text
    assert user.password.encode() not in text
    assert b"zq-confirmation-key-0001" not in text
    [user_row] = contents["accounts.user.json"]
    assert (user_row["email"], user_row["full_name"], "password" in user_row) == (EMAIL, "Zebulon Quartermaine", False)
    assert {"model": "marketplace.bid", "id": Bid.objects.get().pk, "as": "submitted_by"} in contents["actions.json"]
    assert [event["action"] for event in contents["core.auditevent.json"]][:4] == [
        "api_key.created",
        "webhook_subscription.created",
        "talent_profile.updated",
        "contract.completed",
    ]
    assert '"secret_hash"' not in json.dumps(contents.get("accounts.apikey.json"))
    assert "secret_encrypted" not in json.dumps(contents.get("accounts.webhooksubscription.json"))
    assert "README.txt" in contents


def test_the_link_is_emailed_and_works_only_for_the_owner_until_it_expires(client, django_capture_on_commit_callbacks):
    user = seed_person()
    request = data_rights.data_export_request(user=user)
    data_rights.data_export_build(request_id=request.pk)
    [message] = mail.outbox
    url = next(line for line in message.body.split() if "/compliance/data/export/" in line)
    path = url[url.index("/compliance/data/export/") :]
    request.refresh_from_db()
    assert message.to == [EMAIL]
    assert request.download_token_hash == hashlib.sha256(path.split("/")[-2].encode()).hexdigest()

    anonymous = client.get(path)
    client.force_login(UserFactory())
    stranger = client.get(path)
    client.force_login(user)
    owner = client.get(path)
    wrong_token = client.get(path.replace(path.split("/")[-2], "not-the-token"))
    DataExportRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get(path)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert (stranger.status_code, wrong_token.status_code, expired.status_code) == (404, 404, 404)
    assert owner.status_code == 200
    assert owner["Content-Disposition"].startswith("attachment;")
    assert "accounts.user.json" in export_contents(b"".join(owner.streaming_content))


def test_building_twice_builds_and_emails_once():
    user = seed_person()
    request = data_rights.data_export_request(user=user)

    data_rights.data_export_build(request_id=request.pk)
    data_rights.data_export_build(request_id=request.pk)

    assert len(mail.outbox) == 1
    assert len(list(Path(private_storage.location).rglob("*.zip"))) == 1


def test_one_export_at_a_time():
    user = UserFactory()
    data_rights.data_export_request(user=user)

    with pytest.raises(ApplicationError) as error:
        data_rights.data_export_request(user=user)

    assert error.value.status == 409
    assert DataExportRequest.objects.filter(user=user).count() == 1


def test_expired_exports_are_deleted():
    user = UserFactory()
    request = data_rights.data_export_request(user=user)
    data_rights.data_export_build(request_id=request.pk)
    request.refresh_from_db()
    stored = request.file.name
    DataExportRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert tasks_checks.data_exports_expire() == 1

    request.refresh_from_db()
    assert (request.status, request.file.name) == ("expired", "")
    assert not private_storage.exists(stored)


def test_the_data_page_asks_for_an_export_and_for_erasure(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    client.force_login(user)

    page = client.get(reverse("compliance_data:page"))
    with django_capture_on_commit_callbacks() as callbacks:
        export = client.post(reverse("compliance_data:page"), {"action": "export"})
    unconfirmed = client.post(reverse("compliance_data:page"), {"action": "erasure"})
    assert not ErasureRequest.objects.exists()
    erasure = client.post(reverse("compliance_data:page"), {"action": "erasure", "confirm": "yes"})
    twice = client.post(reverse("compliance_data:page"), {"action": "export"}, follow=True)
    again = client.get(reverse("compliance_data:page"))

    assert page.status_code == 200 and b"Email me a copy of my data" in page.content
    assert (export.status_code, unconfirmed.status_code, erasure.status_code) == (302, 302, 302)
    assert len(task_callbacks(callbacks)) == 1
    assert DataExportRequest.objects.get(user=user).status == "pending"
    assert ErasureRequest.objects.get(user=user).status == "requested"
    assert b"You asked for erasure on" in again.content
    assert "Your export is being prepared" in twice.content.decode()
    assert DataExportRequest.objects.filter(user=user).count() == 1


# --- erasure ------------------------------------------------------------------------------------------------------


def erase(user: User) -> ErasureRequest:
    request = data_rights.erasure_request(user=user)
    data_rights.erasure_confirm(request_id=request.pk, by=make_reviewer())
    tasks_checks.erasure_perform(request_id=request.pk)
    request.refresh_from_db()
    return request


def test_after_erasure_no_personal_value_remains_outside_the_retention_list(private_root):
    user = seed_person()
    export = data_rights.data_export_request(user=user)
    data_rights.data_export_build(request_id=export.pk)
    before = personal_values(user)
    files = sorted(path.name for path in private_root.rglob("*") if path.is_file())
    assert len(files) == 3  # two documents and the export zip

    request = erase(user)

    assert request.status == "done"
    left = {(label, field, value): where_found(value) for label, field, value in before if not retained(label, field)}
    left = {key: [place for place in places if not retained(*place.rsplit(".", 1))] for key, places in left.items()}
    assert {key: places for key, places in left.items() if places} == {}
    assert [path for path in private_root.rglob("*") if path.is_file()] == []


def test_after_erasure_the_retained_records_stay_without_the_persons_identity():
    user = seed_person()
    contract = Contract.objects.get(freelancer=user)

    request = erase(user)

    user.refresh_from_db()
    assert (user.email, user.full_name, user.country, user.is_active) == (
        f"erased-{user.pk}@erased.invalid",
        "",
        "",
        False,
    )
    assert Contract.objects.get(pk=contract.pk).end_reason == "Zq end reason: project delivered."
    assert Invoice.objects.get().issuer_name == "Zebulon Quartermaine"  # invoices are kept as issued
    assert TimeEntry.objects.count() == Payout.objects.count() == LedgerAccount.objects.filter(user=user).count() == 1
    tax_form = ComplianceDocument.objects.get(user=user)
    assert (tax_form.requirement.code, tax_form.file.name, tax_form.original_name, tax_form.tax_id_last4) == (
        "tax-form-w8ben",
        "",
        "",
        "7781",
    )
    assert tax_form.tax_id_encrypted == "zq-encrypted-tax-id-gAAAA"
    assert not ScreeningHit.objects.filter(user=user).exists()  # a pending hit is not a confirmed match
    profile = user.talent_profile
    assert (profile.headline, profile.bio, profile.languages, profile.visibility) == ("", "", [], "private")
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not user.memberships.exists()
    assert Review.objects.filter(contract=contract).exclude(comment="").count() == 0
    assert request.summary["kept"]["billing.invoice"] == 1
    assert request.summary["files_deleted"] == 2
    assert request.summary["deleted"]["talent.portfolioitem"] == 1


def test_after_erasure_the_audit_trail_keeps_ids_not_labels_and_still_verifies():
    user = seed_person()

    erase(user)

    about_them = AuditEvent.objects.filter(actor_id=user.pk) | AuditEvent.objects.filter(
        target_type="talent.talentprofile"
    )
    assert about_them.exists()
    assert set(about_them.values_list("actor_label", flat=True)) <= {AUDIT_ERASED_LABEL, "system"}
    assert not AuditEvent.objects.filter(actor_label__icontains="zebulon").exists()
    assert not AuditEvent.objects.filter(target_label__icontains="zebulon").exists()
    assert not AuditEvent.objects.filter(target_label__icontains="quartermaine").exists()
    assert AuditEvent.objects.filter(action="audit.person_erased").count() == 1
    call_command("audit_verify", stdout=io.StringIO())
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk))
    assert entry.object_repr == "erased"


def test_after_erasure_the_person_cannot_sign_in(client):
    user = seed_person()
    assert client.login(email=EMAIL, password=DEFAULT_PASSWORD)
    client.logout()

    erase(user)

    assert not client.login(email=EMAIL, password=DEFAULT_PASSWORD)
    assert not client.login(email=f"erased-{user.pk}@erased.invalid", password=DEFAULT_PASSWORD)
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_erasure_waits_for_ops_and_runs_once():
    user = seed_person()
    request = data_rights.erasure_request(user=user)

    assert tasks_checks.erasure_perform(request_id=request.pk) == "requested"  # not confirmed: nothing happens
    user.refresh_from_db()
    assert user.email == EMAIL

    data_rights.erasure_confirm(request_id=request.pk, by=make_reviewer())
    assert tasks_checks.erasure_perform(request_id=request.pk) == "done"
    summary = ErasureRequest.objects.get(pk=request.pk).summary
    assert tasks_checks.erasure_perform(request_id=request.pk) == "done"
    assert ErasureRequest.objects.get(pk=request.pk).summary == summary
    assert AuditEvent.objects.filter(action="erasure.done").count() == 1


def test_only_reviewers_confirm_or_decline_erasure():
    user = UserFactory()
    request = data_rights.erasure_request(user=user)

    for outsider in (user, UserFactory(is_staff=True)):
        with pytest.raises(PermissionDenied):
            data_rights.erasure_confirm(request_id=request.pk, by=outsider)

    request.refresh_from_db()
    assert (request.status, request.confirmed_by) == ("requested", None)


def test_declining_needs_a_reason_and_lets_the_person_ask_again():
    user = UserFactory()
    request = data_rights.erasure_request(user=user)
    reviewer = make_reviewer()

    with pytest.raises(ApplicationError, match="Say why"):
        data_rights.erasure_decline(request_id=request.pk, by=reviewer, note=" ")
    declined = data_rights.erasure_decline(request_id=request.pk, by=reviewer, note="A dispute is open.")

    assert (declined.status, declined.decision_note) == ("declined", "A dispute is open.")
    assert data_rights.erasure_request(user=user).status == "requested"
    with pytest.raises(ApplicationError):
        data_rights.erasure_request(user=user)


def test_ops_confirm_erasure_in_the_admin(client, django_capture_on_commit_callbacks):
    user = seed_person()
    request = data_rights.erasure_request(user=user)
    client.force_login(make_reviewer())
    url = reverse("admin:compliance_erasurerequest_changelist")

    listing = client.get(url)
    ask = client.post(url, {"action": "confirm_erasure", "_selected_action": [request.pk]})
    with (
        mock.patch.object(tasks_checks.erasure_perform, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(url, {"action": "confirm_erasure", "_selected_action": [request.pk], "apply": "1"})

    assert listing.status_code == 200
    assert ask.status_code == 200
    assert b"1 live or disputed contract" not in ask.content  # the contract is completed
    assert b"sole owner of 1 organisation(s), which erasure leaves without an owner" in ask.content
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == "confirmed"
    delay.assert_called_once_with(request_id=request.pk)


def test_the_admin_refuses_staff_who_do_not_review_compliance(client):
    request = data_rights.erasure_request(user=UserFactory())
    client.force_login(UserFactory(is_staff=True))

    response = client.post(
        reverse("admin:compliance_erasurerequest_changelist"),
        {"action": "confirm_erasure", "_selected_action": [request.pk], "apply": "1"},
    )

    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == "requested"
