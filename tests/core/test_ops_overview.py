"""The ops overview (core.views_ops): exact counts from seeded rows, links to the filtered admin lists, who sees
which section, and a query count that does not grow with the rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.staff_groups import COMPLIANCE_REVIEWERS, FINANCE
from billing.models import Payout, PayoutAccount
from compliance.models import (
    ClassificationAssessment,
    ComplianceDocument,
    ErasureRequest,
    Requirement,
    ScreeningHit,
)
from core.models import AuditEvent
from core.services import audit_record, audit_seal
from engagements.models import Contract, ServiceLevel, SLABreach, SLAEvaluation, StatementOfWork
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/ops/"
_serial = count(1)


def _months_back(months: int) -> date:
    month = timezone.localdate().replace(day=1)
    for _ in range(months):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _document(status: str = ComplianceDocument.Status.SUBMITTED) -> ComplianceDocument:
    return ComplianceDocument.objects.create(
        requirement=Requirement.objects.order_by("pk").first(),
        user=UserFactory(),
        file="compliance/scan.pdf",
        original_name="scan.pdf",
        content_type="application/pdf",
        size=10,
        sha256="0" * 64,
        status=status,
    )


def _hit(status: str = ScreeningHit.Status.PENDING) -> ScreeningHit:
    return ScreeningHit.objects.create(
        user=UserFactory(),
        screened_name="Ivan Petrov",
        listed_name="Ivan PETROV",
        list_entry_id=f"SDN-{next(_serial)}",
        list_source="OFAC SDN (bundled)",
        score=Decimal("0.930"),
        status=status,
    )


def _assessment(status: str = ClassificationAssessment.Status.PENDING) -> ClassificationAssessment:
    contract = Contract.objects.create(
        organization=OrganizationFactory(kind="client"),
        freelancer=UserFactory(),
        kind=Contract.Kind.HOURLY,
        currency="USD",
        hourly_rate=Decimal("50"),
    )
    return ClassificationAssessment.objects.create(contract=contract, score=70, risk="high", status=status)


def _erasure(status: str = ErasureRequest.Status.REQUESTED) -> ErasureRequest:
    return ErasureRequest.objects.create(user=UserFactory(), status=status)


def _payout(status: str, amount: str, currency: str = "USD") -> Payout:
    user = UserFactory()
    account = PayoutAccount.objects.create(user=user, stripe_account_id=f"acct_{next(_serial)}", country="GB")
    return Payout.objects.create(
        user=user,
        payout_account=account,
        amount=Decimal(amount),
        currency=currency,
        status=status,
        idempotency_key=f"payout-{next(_serial)}",
    )


def _sow(title: str) -> StatementOfWork:
    return StatementOfWork.objects.create(
        organization=OrganizationFactory(kind="client"),
        vendor=OrganizationFactory(kind="vendor", name=f"{title} vendor {next(_serial)}"),
        title=title,
        scope="Support",
        start_date=date(2024, 1, 1),
        pricing_model=StatementOfWork.Pricing.FIXED_MONTHLY,
        currency="USD",
        monthly_fee=Decimal("1000"),
        status=StatementOfWork.Status.ACTIVE,
    )


def _breaches(sow: StatementOfWork, *months_back: int) -> None:
    """One breach of `sow` in each month given as how many months before this one."""
    level = ServiceLevel.objects.get_or_create(
        sow=sow, metric="csat", defaults={"direction": "at_least", "target": Decimal("4")}
    )[0]
    for back in months_back:
        period = _months_back(back)
        evaluation = SLAEvaluation.objects.create(
            sow=sow,
            period=period,
            currency="USD",
            fee_base=Decimal("1000"),
            credits_before_cap=Decimal("0"),
            credit_total=Decimal("0"),
            bonuses_before_cap=Decimal("0"),
            bonus_total=Decimal("0"),
            levels_met=0,
            levels_total=1,
        )
        SLABreach.objects.create(
            evaluation=evaluation,
            sow=sow,
            service_level=level,
            period=period,
            metric="csat",
            direction="at_least",
            target=Decimal("4"),
            measured_value=Decimal("3"),
            credit_amount=Decimal("0"),
            currency="USD",
        )


def _seed(n: int) -> None:
    """n rows of every kind the page counts, and as many that it must not count."""
    for index in range(n):
        _document()
        _document(ComplianceDocument.Status.APPROVED)
        _hit()
        _hit(ScreeningHit.Status.CLEARED)
        _assessment()
        _assessment(ClassificationAssessment.Status.SIGNED_OFF)
        _erasure()
        _erasure(ErasureRequest.Status.DECLINED)
        _payout(Payout.Status.FAILED, "10.00")
        _payout(Payout.Status.PAID, "20.00", "EUR")
        _breaches(_sow(f"SOW {index}"), 1, 2)
        audit_record(actor=None, action="test.recorded")


def _staff(*groups: str, superuser: bool = False):
    user = UserFactory(is_staff=True, is_superuser=superuser)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def ops_client(client):
    client.force_login(_staff(superuser=True))
    return client


def _get(client, url: str = URL):
    response = client.get(url)
    assert response.status_code == 200
    return response


# --- counts ---------------------------------------------------------------------------------------------------
def test_review_queues_count_only_items_waiting_with_the_oldest_age(ops_client) -> None:
    _seed(3)
    oldest = _document()
    ComplianceDocument.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(days=9))

    response = _get(ops_client)

    queues = {queue.key: queue for queue in response.context["reviews"]["queues"]}
    assert {key: queue.count for key, queue in queues.items()} == {
        "documents": 4,
        "screening_hits": 3,
        "assessments": 3,
        "erasures": 3,
    }
    assert queues["documents"].oldest_at == ComplianceDocument.objects.get(pk=oldest.pk).created_at
    assert response.context["reviews"]["total"] == 13
    assert "oldest waiting <time" in response.content.decode()
    assert "1\xa0week, 2\xa0days</time>" in response.content.decode()


def test_an_appealed_document_waits_since_its_appeal(ops_client) -> None:
    appealed_at = timezone.now() - timedelta(days=2)
    document = _document()
    ComplianceDocument.objects.filter(pk=document.pk).update(
        created_at=timezone.now() - timedelta(days=30), appealed_at=appealed_at
    )

    response = _get(ops_client)

    documents = response.context["reviews"]["queues"][0]
    assert (documents.key, documents.count, documents.oldest_at) == ("documents", 1, appealed_at)


def test_payouts_are_counted_and_summed_per_state_and_currency(ops_client) -> None:
    _seed(2)
    _payout(Payout.Status.FAILED, "5.50", "EUR")
    _payout(Payout.Status.PENDING, "7.25")

    response = _get(ops_client)

    payouts = response.context["payouts"]
    assert [(row.status, row.currency, row.count, row.amount) for row in payouts["rows"]] == [
        ("pending", "USD", 1, Decimal("7.25")),
        ("paid", "EUR", 2, Decimal("40.00")),
        ("failed", "EUR", 1, Decimal("5.50")),
        ("failed", "USD", 2, Decimal("20.00")),
    ]
    assert [(status.status, status.count) for status in payouts["by_status"]] == [
        ("pending", 1),
        ("paid", 2),
        ("failed", 3),
        ("canceled", 0),
    ]
    assert payouts["failed"].count == 3


def test_breaches_are_counted_by_month_for_the_last_six_months_and_the_worst_sows_first(ops_client) -> None:
    worst, second = _sow("Helpdesk"), _sow("Payroll")
    _breaches(worst, 1, 2, 3)
    _breaches(second, 1, 6)
    _breaches(_sow("Too old"), 7)

    response = _get(ops_client)

    sla = response.context["sla"]
    assert [(row.month, row.count) for row in sla["rows"]] == [
        (_months_back(6), 1),
        (_months_back(5), 0),
        (_months_back(4), 0),
        (_months_back(3), 1),
        (_months_back(2), 1),
        (_months_back(1), 2),
    ]
    assert sla["total"] == 5
    assert [(item["sow"].title, item["breach_count"]) for item in sla["most_breached"]] == [
        ("Helpdesk", 3),
        ("Payroll", 2),
    ]


def test_the_audit_chain_shows_pending_events_and_the_newest_sequence(ops_client) -> None:
    audit_record(actor=None, action="test.first")
    last = audit_record(actor=None, action="test.second")
    audit_seal()
    audit_record(actor=None, action="test.pending")
    audit_record(actor=None, action="test.pending")

    response = _get(ops_client)

    health = response.context["audit"]["health"]
    last.refresh_from_db()
    assert (health.pending_count, health.newest_sequence) == (2, last.sequence)
    assert AuditEvent.objects.filter(sequence__gt=last.sequence).count() == 0


# --- links ----------------------------------------------------------------------------------------------------
def test_each_number_links_to_the_admin_list_filtered_to_the_same_rows(ops_client) -> None:
    _seed(2)
    worst = _sow("Helpdesk")
    _breaches(worst, 1, 2, 3)

    response = _get(ops_client)

    links = {queue.key: queue.url for queue in response.context["reviews"]["queues"]}
    assert links == {
        "documents": "/admin/compliance/compliancedocument/?status=submitted",
        "screening_hits": "/admin/compliance/screeninghit/?status=pending",
        "assessments": "/admin/compliance/classificationassessment/?status=pending",
        "erasures": "/admin/compliance/erasurerequest/?status__exact=requested",
    }
    failed_url = response.context["payouts"]["failed"].url
    assert failed_url == "/admin/billing/payout/?status__exact=failed"
    month = _months_back(1)
    month_url = response.context["sla"]["rows"][-1].url
    assert month_url == f"/admin/engagements/slabreach/?month={month:%Y-%m}"
    sow_url = response.context["sla"]["most_breached"][0]["url"]
    assert sow_url == f"/admin/engagements/slabreach/?sow__id__exact={worst.pk}"
    html = response.content.decode()
    for url in [*links.values(), failed_url, month_url, sow_url]:
        assert f'href="{url.replace("&", "&amp;")}"' in html
    # The admin lists accept the filters and show exactly the rows counted.
    expected = {**dict.fromkeys(links.values(), 2), failed_url: 2, month_url: 3, sow_url: 3}
    for url, rows in expected.items():
        listing = _get(ops_client, url)
        assert listing.context["cl"].result_count == rows, url


def test_the_admin_index_links_to_the_overview_and_keeps_its_app_list(ops_client) -> None:
    response = _get(ops_client, "/admin/")

    html = response.content.decode()
    assert 'href="/ops/"' in html and "Operations overview" in html
    assert 'id="content-main"' in html and response.context["app_list"]


# --- permissions ----------------------------------------------------------------------------------------------
def test_anonymous_visitors_and_non_staff_are_sent_to_the_login(client) -> None:
    anonymous = client.get(URL)
    client.force_login(UserFactory(is_staff=False))
    member = client.get(URL)

    assert anonymous.status_code == member.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/") and member["Location"].startswith("/admin/login/")


def test_compliance_reviewers_see_the_queues_and_the_audit_chain_but_not_money(client) -> None:
    _seed(1)
    client.force_login(_staff(COMPLIANCE_REVIEWERS))

    response = _get(client)

    assert [queue.key for queue in response.context["reviews"]["queues"]] == [
        "documents",
        "screening_hits",
        "assessments",
        "erasures",
    ]
    assert response.context["audit"] is not None
    assert response.context["payouts"] is None and response.context["sla"] is None
    assert "Payouts by state" not in response.content.decode()


def test_finance_sees_payouts_breaches_and_the_audit_chain_but_not_the_queues(client) -> None:
    _seed(1)
    client.force_login(_staff(FINANCE))

    response = _get(client)

    assert response.context["reviews"] is None
    assert response.context["payouts"]["failed"].count == 1
    assert response.context["sla"]["total"] == 2
    assert "Pending reviews" not in response.content.decode()


def test_staff_without_permissions_get_a_clear_message_and_no_numbers(client) -> None:
    _seed(1)
    client.force_login(_staff())

    response = _get(client)

    assert not response.context["has_any_section"]
    html = response.content.decode()
    assert "Nothing here for your account yet" in html
    assert "Pending reviews" not in html and "Payouts by state" not in html


def test_the_selectors_themselves_refuse_people_without_the_permission() -> None:
    from django.core.exceptions import PermissionDenied

    from billing.selectors import payout_totals_by_status
    from compliance.selectors import compliance_review_queue_summaries
    from core.selectors import audit_chain_health
    from engagements.selectors import sla_breach_counts_by_month, sow_list_most_breached

    _seed(1)
    since = timezone.localdate().replace(day=1) - timedelta(days=400)
    member, bare_staff, finance = UserFactory(), _staff(), _staff(FINANCE)
    for user in (member, bare_staff):
        assert compliance_review_queue_summaries(user=user) == {}
        for read in (
            lambda user=user: payout_totals_by_status(user=user),
            lambda user=user: sla_breach_counts_by_month(user=user, since=since),
            lambda user=user: sow_list_most_breached(user=user, since=since),
            lambda user=user: audit_chain_health(user=user),
        ):
            with pytest.raises(PermissionDenied):
                read()
    assert compliance_review_queue_summaries(user=finance) == {}
    assert payout_totals_by_status(user=finance) and sla_breach_counts_by_month(user=finance, since=since)
    assert set(compliance_review_queue_summaries(user=_staff(COMPLIANCE_REVIEWERS))) == {
        "documents",
        "screening_hits",
        "assessments",
        "erasures",
    }


# --- cost -----------------------------------------------------------------------------------------------------
def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        _get(client)
    return len(queries)


def test_the_page_costs_the_same_queries_for_one_or_five_of_each_kind(client) -> None:
    client.force_login(_staff(COMPLIANCE_REVIEWERS, FINANCE))
    _seed(1)
    with_one = _queries(client)

    _seed(4)
    with_five = _queries(client)

    assert with_one == with_five
    assert with_five <= 14
