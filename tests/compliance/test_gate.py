"""The compliance gate: which requirements apply to whom (table-driven), and how the gate blocks contract
activation and payouts with one sentence per unmet requirement, then lets them through once ops approve."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.gate import Engagement, Party, requirement_applies
from compliance.models import ComplianceDocument, Requirement, ScreeningHit
from compliance.selectors import contract_activation_blockers, payout_blockers
from compliance.services.documents import document_approve, document_upload
from engagements.models import Contract
from engagements.services import contract_activate_if_ready
from tests.compliance.document_helpers import PDF
from tests.compliance_support import approve_all
from tests.factories import OrganizationFactory, UserFactory

FIXED = Engagement(kind="fixed", flags=frozenset(), weekly_hours=None, duration_weeks=4)
HOURLY_SHORT = Engagement(kind="hourly", flags=frozenset(), weekly_hours=10, duration_weeks=8)
HOURLY_HEAVY = Engagement(kind="hourly", flags=frozenset(), weekly_hours=35, duration_weeks=8)
HOURLY_OPEN = Engagement(kind="hourly", flags=frozenset(), weekly_hours=10, duration_weeks=None)
PERSONAL_DATA = Engagement(kind="fixed", flags=frozenset({"handles_personal_data"}), duration_weeks=4)
HEALTHCARE = Engagement(kind="fixed", flags=frozenset({"is_healthcare"}), duration_weeks=4)
FINANCE_SOW = Engagement(kind="sow", flags=frozenset({"is_finance"}), duration_weeks=52)

# (requirement code, party, country, engagement or None for payouts/in general, applies?)
TABLE = [
    ("tax-form-w9", "freelancer", "US", None, True),
    ("tax-form-w9", "vendor", "US", None, True),
    ("tax-form-w9", "freelancer", "GB", None, False),
    ("tax-form-w8ben", "freelancer", "GB", None, True),
    ("tax-form-w8ben", "freelancer", "US", None, False),
    ("tax-form-w8ben", "vendor", "IN", None, False),
    ("tax-form-w8bene", "vendor", "IN", None, True),
    ("tax-form-w8bene", "vendor", "US", None, False),
    ("tax-form-w8bene", "freelancer", "IN", None, False),
    ("identity", "freelancer", "PH", None, True),
    ("identity", "vendor", "PH", None, False),
    ("nda", "freelancer", "GB", None, True),
    ("nda", "vendor", "GB", None, True),
    ("dpa", "freelancer", "GB", None, False),
    ("dpa", "freelancer", "GB", FIXED, False),
    ("dpa", "freelancer", "GB", PERSONAL_DATA, True),
    ("dpa", "vendor", "IN", PERSONAL_DATA, True),
    ("insurance", "vendor", "IN", None, True),
    ("insurance", "freelancer", "IN", None, False),
    ("iso-27001", "vendor", "IN", PERSONAL_DATA, True),
    ("iso-27001", "vendor", "IN", FIXED, False),
    ("iso-27001", "freelancer", "IN", PERSONAL_DATA, False),
    ("soc-2", "vendor", "IN", FINANCE_SOW, True),
    ("soc-2", "vendor", "IN", PERSONAL_DATA, False),
    ("hipaa-training", "freelancer", "US", HEALTHCARE, True),
    ("hipaa-training", "vendor", "US", HEALTHCARE, True),
    ("hipaa-training", "freelancer", "US", FIXED, False),
    ("worker-classification", "freelancer", "GB", HOURLY_SHORT, False),
    ("worker-classification", "freelancer", "GB", HOURLY_HEAVY, True),
    ("worker-classification", "freelancer", "GB", HOURLY_OPEN, True),
    ("worker-classification", "freelancer", "GB", FIXED, False),
    ("worker-classification", "freelancer", "GB", None, False),
    ("worker-classification", "vendor", "GB", HOURLY_HEAVY, False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "party_kind", "country", "engagement", "applies"), TABLE)
def test_each_requirement_applies_exactly_where_it_should(code, party_kind, country, engagement, applies) -> None:
    requirement = Requirement.objects.get(code=code)
    if party_kind == "freelancer":
        party = Party(user=UserFactory.build(country=country))
    else:
        party = Party(organization=OrganizationFactory.build(kind="vendor", country=country))

    assert requirement_applies(requirement, party=party, engagement=engagement) is applies


@pytest.mark.django_db
def test_a_retired_requirement_applies_to_nobody() -> None:
    Requirement.objects.filter(code="identity").update(is_active=False)

    requirement = Requirement.objects.get(code="identity")

    assert requirement_applies(requirement, party=Party(user=UserFactory.build(country="GB")), engagement=None) is False


def _upload_and_approve(code: str, user, reviewer) -> None:
    requirement = Requirement.objects.get(code=code)
    document = document_upload(
        requirement_id=requirement.pk,
        file=SimpleUploadedFile("doc.pdf", PDF, content_type="application/pdf"),
        by=user,
        tax_id="GB123456789" if requirement.asks_tax_id else "",
    )
    document_approve(document_id=document.pk, by=reviewer)


@pytest.fixture
def reviewer(db):
    from django.contrib.auth.models import Group

    from accounts.staff_groups import COMPLIANCE_REVIEWERS

    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_REVIEWERS))
    return user


@pytest.mark.django_db
def test_the_gate_blocks_activation_with_what_is_missing_and_starts_the_contract_when_the_last_is_approved(
    hire, reviewer, private_root, django_capture_on_commit_callbacks
) -> None:
    contract, _member, freelancer = hire(activate=False, compliant=False)
    assert contract.status == "pending_compliance"

    blockers = contract_activation_blockers(contract=contract)

    assert blockers == [
        "Identity verification: missing — upload it on your compliance checklist.",
        "Non-disclosure agreement: missing — upload it on your compliance checklist.",
    ]
    assert contract_activate_if_ready(contract_id=contract.pk) is False
    _upload_and_approve("identity", freelancer, reviewer)
    assert contract_activation_blockers(contract=contract) == [
        "Non-disclosure agreement: missing — upload it on your compliance checklist."
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        _upload_and_approve("nda", freelancer, reviewer)
    activations = [c for c in callbacks if "contract_activate_if_ready" in repr(c)]
    assert len(activations) == 1 and contract_activation_blockers(contract=contract) == []
    assert contract_activate_if_ready(contract_id=contract.pk) is True
    contract.refresh_from_db()
    assert contract.status == "active"


@pytest.mark.django_db
def test_a_rejected_or_expired_document_says_so_and_blocks(hire, reviewer, private_root) -> None:
    from compliance.services.documents import document_reject

    contract, _member, freelancer = hire(activate=False, compliant=False)
    _upload_and_approve("nda", freelancer, reviewer)
    identity = document_upload(
        requirement_id=Requirement.objects.get(code="identity").pk,
        file=SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf"),
        by=freelancer,
    )
    waiting = contract_activation_blockers(contract=contract)
    document_reject(document_id=identity.pk, by=reviewer, reason="The photo page is cut off.")
    rejected = contract_activation_blockers(contract=contract)
    ComplianceDocument.objects.filter(requirement__code="nda").update(expires_at=timezone.now() - timedelta(days=1))

    expired = contract_activation_blockers(contract=contract)

    assert waiting == ["Identity verification: uploaded, waiting for review by our compliance team."]
    assert rejected == [
        "Identity verification: rejected — The photo page is cut off. Please upload a corrected one or appeal."
    ]
    assert expired[1].startswith("Non-disclosure agreement: expired on ")


@pytest.mark.django_db
def test_payouts_wait_for_tax_form_identity_and_a_cleared_screening_hit(reviewer, private_root) -> None:
    from compliance.services.checks import screening_hit_decide

    freelancer = UserFactory(country="GB")
    assert payout_blockers(user=freelancer, organization=None) == [
        "Identity verification: missing — upload it on your compliance checklist.",
        "W-8BEN tax form: missing — upload it on your compliance checklist.",
    ]
    approve_all(user=freelancer)
    hit = ScreeningHit.objects.create(
        user=freelancer,
        screened_name=freelancer.full_name,
        listed_name="Someone Listed",
        list_entry_id="1",
        list_source="sample",
        score=Decimal("0.700"),
    )
    held = payout_blockers(user=freelancer, organization=None)

    screening_hit_decide(hit_id=hit.pk, by=reviewer, decision="cleared", note="Different date of birth.")

    assert held == ["Sanctions screening: a possible name match is being checked by our compliance team."]
    assert payout_blockers(user=freelancer, organization=None) == []


@pytest.mark.django_db
def test_a_high_risk_hourly_contract_waits_for_ops_sign_off(hire, reviewer) -> None:
    from compliance.models import ClassificationAssessment
    from compliance.services.checks import classification_decide

    contract, _member, freelancer = hire(kind="hourly", activate=False, compliant=False)
    approve_all(user=freelancer)  # documents only (no contract given): the assessment is left to ops
    Contract.objects.filter(pk=contract.pk).update(weekly_hour_cap=40, end_date=None)
    contract.refresh_from_db()

    blocked = contract_activation_blockers(contract=contract)
    assessment = ClassificationAssessment.objects.get(contract=contract)
    classification_decide(
        assessment_id=assessment.pk, by=reviewer, decision="signed_off", note="Deliverable-based, own schedule."
    )

    assert assessment.risk == "high" and assessment.score >= 60
    assert blocked == [
        "Worker-classification assessment: the engagement looks like employment (high risk) and needs our "
        "compliance team's sign-off."
    ]
    assert contract_activation_blockers(contract=contract) == []


@pytest.mark.django_db
def test_the_contract_page_says_what_compliance_is_missing_to_both_sides(hire, client) -> None:
    contract, member, freelancer = hire(activate=False, compliant=False)

    client.force_login(freelancer)
    worker_page = client.get(f"/contracts/{contract.pk}/").content.decode()
    client.force_login(member.user)
    client_page = client.get(f"/contracts/{contract.pk}/").content.decode()

    for page in (worker_page, client_page):
        assert "Waiting for compliance before the contract can start" in page
        assert "Identity verification: missing — upload it on your compliance checklist." in page
    assert 'href="/compliance/"' in worker_page
    assert "The contract starts by itself when the last item is approved." in client_page
