"""Worker-classification risk: scored from the contract's actual terms, with every factor shown; high risk waits for
ops sign-off; a decided assessment stays decided until the terms change."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Organization
from accounts.staff_groups import COMPLIANCE_REVIEWERS
from compliance.gate import contract_activation_blockers
from compliance.models import ClassificationAssessment
from compliance.services.checks import classification_assess, classification_decide
from core.errors import ApplicationError
from core.models import AuditEvent
from engagements.models import Contract
from tests.factories import OrganizationFactory, TalentProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

START = date(2026, 1, 5)


def make_reviewer():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_REVIEWERS))
    return user


def make_contract(
    *,
    freelancer=None,
    cap: int | None = 10,
    weeks: int | None = 4,
    exclusive: bool = False,
    client_schedule: bool = False,
    kind: str = Contract.Kind.HOURLY,
    status: str = Contract.Status.PENDING_COMPLIANCE,
) -> Contract:
    return Contract.objects.create(
        organization=OrganizationFactory(kind=Organization.Kind.CLIENT),
        freelancer=freelancer or TalentProfileFactory().user,
        kind=kind,
        status=status,
        currency="USD",
        hourly_rate=Decimal("50.00") if kind == Contract.Kind.HOURLY else None,
        fixed_amount=Decimal("900.00") if kind == Contract.Kind.FIXED else None,
        weekly_hour_cap=cap,
        start_date=START,
        end_date=START + timedelta(weeks=weeks) if weeks is not None else None,
        is_exclusive=exclusive,
        schedule_set_by_client=client_schedule,
    )


def busy_freelancer():
    """A freelancer with another active contract, so the "only client" factor does not apply."""
    user = TalentProfileFactory().user
    make_contract(freelancer=user, status=Contract.Status.ACTIVE)
    return user


# (cap, weeks, exclusive, client sets schedule, other active contract) → (score, risk, status, points per factor)
CASES = [
    # part time, short, other clients, own hours: nothing points to employment
    ((10, 4, False, False, True), (0, "low", "not_needed", [0, 0, 0, 0])),
    ((19, 25, False, False, True), (0, "low", "not_needed", [0, 0, 0, 0])),
    # each threshold of the weekly hours
    ((20, 4, False, False, True), (10, "low", "not_needed", [10, 0, 0, 0])),
    ((30, 4, False, False, True), (25, "low", "not_needed", [25, 0, 0, 0])),
    ((35, 4, False, False, True), (35, "medium", "not_needed", [35, 0, 0, 0])),
    ((40, 4, False, False, True), (35, "medium", "not_needed", [35, 0, 0, 0])),
    # each threshold of the duration; open-ended counts as long
    ((10, 26, False, False, True), (15, "low", "not_needed", [0, 15, 0, 0])),
    ((10, 52, False, False, True), (25, "low", "not_needed", [0, 25, 0, 0])),
    ((10, None, False, False, True), (25, "low", "not_needed", [0, 25, 0, 0])),
    # exclusivity: by the contract's terms (+15), or in fact: no other active contract (+10)
    ((10, 4, True, False, True), (15, "low", "not_needed", [0, 0, 15, 0])),
    ((10, 4, False, False, False), (10, "low", "not_needed", [0, 0, 10, 0])),
    ((10, 4, True, False, False), (15, "low", "not_needed", [0, 0, 15, 0])),
    # the client sets the schedule
    ((10, 4, False, True, True), (25, "low", "not_needed", [0, 0, 0, 25])),
    # combinations around the risk bands
    ((30, 26, False, False, True), (40, "medium", "not_needed", [25, 15, 0, 0])),
    ((35, 26, False, False, False), (60, "high", "pending", [35, 15, 10, 0])),
    ((35, None, False, False, True), (60, "high", "pending", [35, 25, 0, 0])),
    ((20, 26, False, False, False), (35, "medium", "not_needed", [10, 15, 10, 0])),
    ((20, 26, False, False, True), (25, "low", "not_needed", [10, 15, 0, 0])),
    # everything at once: 35 + 25 + 15 + 25 = 100, the cap
    ((40, None, True, True, False), (100, "high", "pending", [35, 25, 15, 25])),
]


@pytest.mark.parametrize(("terms", "expected"), CASES)
def test_risk_score_from_the_contract_terms(terms, expected):
    cap, weeks, exclusive, client_schedule, has_other_contract = terms
    freelancer = busy_freelancer() if has_other_contract else TalentProfileFactory().user
    contract = make_contract(
        freelancer=freelancer, cap=cap, weeks=weeks, exclusive=exclusive, client_schedule=client_schedule
    )

    assessment = classification_assess(contract=contract)

    score, risk, status, points = expected
    assert (assessment.score, assessment.risk, assessment.status) == (score, risk, status)
    assert [factor["code"] for factor in assessment.factors] == ["weekly_hours", "duration", "exclusivity", "schedule"]
    assert [factor["points"] for factor in assessment.factors] == points
    assert all(factor["explanation"] for factor in assessment.factors)


def test_factors_explain_themselves():
    contract = make_contract(cap=38, weeks=None, exclusive=True, client_schedule=True)

    assessment = classification_assess(contract=contract)

    assert [(f["label"], f["points"], f["explanation"]) for f in assessment.factors] == [
        ("Weekly hours", 35, "Up to 38 h a week (≥ 35 h)."),
        ("Duration", 25, "Open-ended: no end date is set."),
        ("Exclusivity", 15, "The contract forbids working for others meanwhile."),
        ("Schedule", 25, "The client sets the working hours."),
    ]


def test_hourly_contract_without_a_cap_counts_as_full_time_and_fixed_price_has_no_hours():
    hourly = classification_assess(contract=make_contract(cap=None, freelancer=busy_freelancer()))
    fixed = classification_assess(
        contract=make_contract(cap=None, kind=Contract.Kind.FIXED, freelancer=busy_freelancer())
    )

    assert (hourly.factors[0]["points"], hourly.score) == (35, 35)
    assert (fixed.factors[0]["points"], fixed.score) == (0, 0)


def test_assessed_once_per_contract_and_audited_once():
    contract = make_contract(cap=40, weeks=None)

    first = classification_assess(contract=contract)
    second = classification_assess(contract=contract)

    assert first.pk == second.pk
    assert ClassificationAssessment.objects.filter(contract=contract).count() == 1
    assert AuditEvent.objects.filter(action="classification.assessed", target_id=str(first.pk)).count() == 1
    assert not AuditEvent.objects.filter(action="classification.reassessed").exists()


def test_an_undecided_assessment_follows_the_terms():
    contract = make_contract(cap=40, weeks=None, freelancer=busy_freelancer())
    assessment = classification_assess(contract=contract)
    assert (assessment.risk, assessment.status) == ("high", "pending")

    contract.weekly_hour_cap = 10
    contract.save()
    reassessed = classification_assess(contract=contract)

    assert reassessed.pk == assessment.pk
    assert (reassessed.score, reassessed.risk, reassessed.status) == (25, "low", "not_needed")
    event = AuditEvent.objects.get(action="classification.reassessed")
    assert (event.from_state, event.to_state) == ("pending", "not_needed")


def test_high_risk_blocks_activation_until_signed_off():
    from compliance.models import Requirement

    assert Requirement.objects.filter(code="worker-classification", is_active=True).exists()
    contract = make_contract(cap=40, weeks=None, freelancer=busy_freelancer())
    assessment = classification_assess(contract=contract)
    message = "Worker-classification assessment: the engagement looks like employment (high risk) and needs"
    assert any(blocker.startswith(message) for blocker in contract_activation_blockers(contract=contract))

    classification_decide(assessment_id=assessment.pk, by=make_reviewer(), decision="signed_off", note="Project-based.")

    assert not any("Worker-classification" in b for b in contract_activation_blockers(contract=contract))


def test_sign_off_is_recorded_and_audited():
    reviewer = make_reviewer()
    assessment = classification_assess(contract=make_contract(cap=40, weeks=None, freelancer=busy_freelancer()))

    decided = classification_decide(assessment_id=assessment.pk, by=reviewer, decision="signed_off", note=" ok ")

    assert (decided.status, decided.reviewed_by, decided.decision_note) == ("signed_off", reviewer, "ok")
    assert decided.reviewed_at is not None
    event = AuditEvent.objects.get(action="classification.signed_off")
    assert (event.actor_id, event.from_state, event.to_state, event.target_id) == (
        reviewer.pk,
        "pending",
        "signed_off",
        str(assessment.pk),
    )


def test_a_decided_assessment_is_kept_while_the_terms_stay_and_reopened_when_they_change():
    reviewer = make_reviewer()
    contract = make_contract(cap=40, weeks=None)  # no other contract: +10 for "only client"
    assessment = classification_assess(contract=contract)
    classification_decide(assessment_id=assessment.pk, by=reviewer, decision="signed_off", note="Fine.")
    make_contract(freelancer=contract.freelancer, status=Contract.Status.ACTIVE)  # a circumstance, not a term

    kept = classification_assess(contract=contract)

    assert (kept.status, kept.score, kept.reviewed_by) == ("signed_off", 70, reviewer)

    contract.is_exclusive = True
    contract.save()
    reopened = classification_assess(contract=contract)

    assert (reopened.status, reopened.score, reopened.reviewed_by, reopened.decision_note) == (
        "pending",
        75,
        None,
        "",
    )


def test_rejection_needs_a_note_and_nothing_changes_without_it():
    assessment = classification_assess(contract=make_contract(cap=40, weeks=None, freelancer=busy_freelancer()))

    with pytest.raises(ApplicationError, match="Say what must change"):
        classification_decide(assessment_id=assessment.pk, by=make_reviewer(), decision="rejected", note="  ")

    assessment.refresh_from_db()
    assert (assessment.status, assessment.reviewed_by) == ("pending", None)


def test_only_reviewers_decide():
    assessment = classification_assess(contract=make_contract(cap=40, weeks=None, freelancer=busy_freelancer()))
    outsider = UserFactory(is_staff=True)

    with pytest.raises(PermissionDenied):
        classification_decide(assessment_id=assessment.pk, by=outsider, decision="signed_off", note="Looks fine.")

    assessment.refresh_from_db()
    assert (assessment.status, assessment.reviewed_by, assessment.reviewed_at) == ("pending", None, None)
    assert not AuditEvent.objects.filter(action__startswith="classification.signed").exists()


def test_only_pending_assessments_are_decided():
    low = classification_assess(contract=make_contract(freelancer=busy_freelancer()))
    reviewer = make_reviewer()

    with pytest.raises(ApplicationError) as error:
        classification_decide(assessment_id=low.pk, by=reviewer, decision="signed_off", note="")

    assert error.value.status == 409
    low.refresh_from_db()
    assert low.status == "not_needed"


def test_the_gate_assesses_a_contract_it_has_not_seen():
    contract = make_contract(cap=35, weeks=None, freelancer=busy_freelancer())

    contract_activation_blockers(contract=contract)

    assessment = ClassificationAssessment.objects.get(contract=contract)
    assert (assessment.score, assessment.status) == (60, "pending")
    assert assessment.created_at <= timezone.now()
