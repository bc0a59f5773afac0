"""The statement-of-work demo: every state, six evaluated months with breaches, a capped month and a stretch month,
time-and-materials usage from the rate card; deterministic from the random generator and loaded only once."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import AuditEvent
from core.money import quantize
from engagements.demo_sows import seed_sows_demo
from engagements.models import ServiceLevel, SLABreach, SLAEvaluation, SLAMeasurement, SOWUsage, StatementOfWork
from talent.models import RateCardEntry, VendorProfile
from tests.compliance_support import approve_all
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.oncommit import task_callbacks

pytestmark = pytest.mark.django_db

CLIENTS = ["Ledgerline Payments", "Harbourview Health Partners", "Copperleaf Outfitters", "Northquay Freight"]
VENDORS = ["Indus Ridge Solutions", "Bayanihan Contact Solutions", "Nilgiri Data Services"]


def _months_ago(count: int) -> date:
    month = timezone.localdate().replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


@pytest.fixture
def demo_parties():
    """The demo organisations the SOWs are between, each with an owner; Indus Ridge also has the published
    vendor login (who should act for it) and a rate card with hourly and monthly roles."""
    for name in CLIENTS:
        MembershipFactory(organization=OrganizationFactory(name=name, kind="client", country="US"))
    for name in VENDORS:
        firm = MembershipFactory(organization=OrganizationFactory(name=name, kind="vendor", country="IN")).organization
        approve_all(organization=firm)  # the firms passed compliance, so signed SOWs can start
    indus = OrganizationFactory._meta.model.objects.get(slug="indus-ridge-solutions")
    vendor_login = MembershipFactory(organization=indus, user=UserFactory(email="vendor@tandem.test")).user
    profile = VendorProfile.objects.create(organization=indus, headline="Customer support and software")
    for role, seniority, rate, unit in [
        ("Support agent", "mid", "2400", "month"),
        ("Support agent", "senior", "21", "hour"),
        ("Customer success specialist", "mid", "18", "hour"),
        ("Software engineer", "senior", "38", "hour"),
    ]:
        RateCardEntry.objects.create(
            vendor=profile, role=role, seniority=seniority, rate=Decimal(rate), currency="USD", unit=unit
        )
    return vendor_login


def _snapshot() -> dict[str, list]:
    return {
        "sows": list(StatementOfWork.objects.order_by("pk").values_list("title", "status", "monthly_budget_cap")),
        "measurements": list(SLAMeasurement.objects.order_by("pk").values_list("metric", "period", "value", "note")),
        "usage": list(SOWUsage.objects.order_by("pk").values_list("role", "period", "quantity", "amount")),
        "evaluations": list(
            SLAEvaluation.objects.order_by("pk").values_list("period", "fee_base", "credit_total", "bonus_total")
        ),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("action", flat=True)),
    }


def test_seeding_gives_sows_in_every_state_with_six_evaluated_months(
    demo_parties, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        counts = seed_sows_demo(rng=random.Random(2026))

    assert counts == {
        "statements_of_work": 5,
        "service_levels": 15,
        "measurements": 65,  # 5 + 4 (one CSAT not reported) + 2 metrics × 6 months, less 1
        "usage": 18,  # three rate-card roles × six months
        "evaluations": 18,
        "breaches": 8,
    }
    assert (
        len(task_callbacks(callbacks)) == 36
    )  # per evaluated month: the SLA report and the invoice email, after the commit
    sows = {sow.title: sow for sow in StatementOfWork.objects.select_related("organization", "vendor")}
    assert {title: (sow.pricing_model, sow.status) for title, sow in sows.items()} == {
        "Cardholder support, tier 1 and 2": ("outcome_based", "active"),
        "Patient help desk": ("fixed_monthly", "active"),
        "Peak-season team on the rate card": ("time_and_materials", "active"),
        "Chargeback evidence labelling": ("fixed_monthly", "proposed"),
        "Shipment-exception desk": ("outcome_based", "draft"),
    }
    first, last = _months_ago(6), _months_ago(1)
    for title in ["Cardholder support, tier 1 and 2", "Patient help desk", "Peak-season team on the rate card"]:
        sow = sows[title]
        assert sow.start_date == first and sow.activated_at is not None and sow.is_signed_by_both
        periods = list(sow.evaluations.order_by("period").values_list("period", flat=True))
        assert periods == [_months_ago(n) for n in range(6, 0, -1)] and periods[-1] == last
    proposed, draft = sows["Chargeback evidence labelling"], sows["Shipment-exception desk"]
    assert proposed.client_signed_at is not None and proposed.vendor_signed_at is None
    assert proposed.start_date == (timezone.localdate().replace(day=28) + timedelta(days=4)).replace(day=1)
    assert draft.created_by == demo_parties and draft.vendor.slug == "indus-ridge-solutions"
    assert sows["Cardholder support, tier 1 and 2"].vendor_signed_by == demo_parties  # the published login signs

    def month_of(breach: SLABreach) -> int:
        return [_months_ago(n) for n in range(6, 0, -1)].index(breach.period)

    breaches = {
        (breach.sow.title, month_of(breach), breach.metric, breach.measured_value is None)
        for breach in SLABreach.objects.select_related("sow")
    }
    assert breaches == {
        ("Cardholder support, tier 1 and 2", 1, "first_response_minutes", False),
        ("Cardholder support, tier 1 and 2", 3, "csat", False),
        ("Cardholder support, tier 1 and 2", 3, "backlog_age_hours", False),
        ("Patient help desk", 2, "uptime_pct", False),
        ("Patient help desk", 2, "first_response_minutes", False),
        ("Patient help desk", 2, "resolution_hours", False),
        ("Patient help desk", 5, "csat", True),  # not reported counts as missed
        ("Peak-season team on the rate card", 0, "backlog_age_hours", False),
    }
    money = {
        (evaluation.sow.title, index): (evaluation.credits_before_cap, evaluation.credit_total, evaluation.bonus_total)
        for evaluation in SLAEvaluation.objects.select_related("sow").exclude(sow__pricing_model="time_and_materials")
        for index in [[_months_ago(n) for n in range(6, 0, -1)].index(evaluation.period)]
    }
    outcome, fixed = "Cardholder support, tier 1 and 2", "Patient help desk"
    assert money[(outcome, 1)] == (Decimal("960.00"), Decimal("960.00"), Decimal("0.00"))
    assert money[(outcome, 3)] == (Decimal("1200.00"), Decimal("1200.00"), Decimal("0.00"))
    assert money[(outcome, 4)] == (Decimal("0.00"), Decimal("0.00"), Decimal("1680.00"))  # every stretch target
    assert money[(outcome, 5)] == (Decimal("0.00"), Decimal("0.00"), Decimal("720.00"))
    assert money[(fixed, 2)] == (Decimal("2405.00"), Decimal("1850.00"), Decimal("0.00"))  # capped at 10 %
    assert money[(fixed, 5)] == (Decimal("555.00"), Decimal("555.00"), Decimal("0.00"))
    assert sum(1 for _ in money) == 12 and sum(values[2] > 0 for values in money.values()) == 2


def test_time_and_materials_months_bill_the_rate_card_usage_under_the_cap(demo_parties) -> None:
    seed_sows_demo(rng=random.Random(2026))

    sow = StatementOfWork.objects.get(pricing_model="time_and_materials")
    assert sow.currency == "USD" and sow.monthly_budget_cap is not None
    for evaluation in sow.evaluations.all():
        usage = list(SOWUsage.objects.filter(sow=sow, period=evaluation.period))
        assert len(usage) == 3 and all(line.amount == line.unit_rate * line.quantity for line in usage)
        assert evaluation.fee_base == sum(line.amount for line in usage) <= sow.monthly_budget_cap
    credit = sow.evaluations.get(period=_months_ago(6))
    assert credit.credit_total == quantize(credit.fee_base * 2 / 100, "USD")  # 2 %, rounded half up
    levels = set(ServiceLevel.objects.filter(sow=sow).values_list("metric", "bonus_pct"))
    assert levels == {("backlog_age_hours", Decimal("0.00")), ("csat", Decimal("0.00"))}


def test_seeding_is_deterministic_and_a_second_run_changes_nothing(demo_parties) -> None:
    with transaction.atomic():
        seed_sows_demo(rng=random.Random(5))
        first = _snapshot()
        transaction.set_rollback(True)
    assert not StatementOfWork.objects.exists()

    counts = seed_sows_demo(rng=random.Random(5))
    replay = _snapshot()
    again = seed_sows_demo(rng=random.Random(99))  # another random state must not add or change anything

    assert replay == first
    assert again == counts and _snapshot() == replay
