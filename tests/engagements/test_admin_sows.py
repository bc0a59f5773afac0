"""Ops admin for statements of work and SLAs: read-only lists at a constant query cost, staff-group access, and the
one write, "Evaluate last month's SLAs", which goes through the service and answers with messages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagements import services
from engagements.models import SLABreach, SLAEvaluation, StatementOfWork
from tests.factories import UserFactory
from tests.oncommit import task_callbacks

pytestmark = pytest.mark.django_db

MODELS = ["statementofwork", "servicelevel", "slameasurement", "sowusage", "slaevaluation", "slabreach"]
URL = "/admin/engagements/{}/"
SOW_URL = URL.format("statementofwork")


def _last_month():
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def evaluated_sow(make_sow, sow_parties):
    """populate() adds a time-and-materials SOW whose last month is measured (one miss), used and evaluated:
    one row of each SOW model, two service levels and two measurements."""

    def populate() -> StatementOfWork:
        month = _last_month()
        sow = make_sow(pricing="time_and_materials", start_date=month)
        vendor = sow_parties.vendor_owner
        for metric, value in (("first_response_minutes", "75"), ("csat", "4.5")):
            services.sla_measurement_record(sow_id=sow.pk, metric=metric, period=month, value=Decimal(value), by=vendor)
        services.sow_usage_add(
            sow_id=sow.pk, period=month, rate_card_entry_id=sow_parties.rate.pk, quantity=Decimal("100"), by=vendor
        )
        services.sla_evaluate(sow_id=sow.pk, period=month)
        return sow

    return populate


def _get_counting_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, len(queries)


@pytest.mark.parametrize("model", MODELS)
def test_every_sow_changelist_costs_the_same_queries_for_two_or_six_sows(
    superuser_client, evaluated_sow, django_assert_max_num_queries, model
) -> None:
    per_sow = {"servicelevel": 2, "slameasurement": 2}.get(model, 1)
    for _ in range(2):
        evaluated_sow()
    small, queries_for_two = _get_counting_queries(superuser_client, URL.format(model))
    for _ in range(4):
        evaluated_sow()

    with django_assert_max_num_queries(queries_for_two):
        large = superuser_client.get(URL.format(model))

    assert small.context["cl"].result_count == 2 * per_sow
    assert large.status_code == 200 and large.context["cl"].result_count == 6 * per_sow

    def found(**params: str) -> int:
        return superuser_client.get(URL.format(model), params).context["cl"].result_count

    if model in ("statementofwork", "servicelevel"):
        assert (found(q="Acme"), found(q="Nobody")) == (6 * per_sow, 0)
    else:
        assert (found(month=f"{_last_month():%Y-%m}"), found(month="2001-01")) == (6 * per_sow, 0)


def test_breaches_list_the_target_and_the_measured_value_or_not_reported(
    superuser_client, evaluated_sow, make_sow, sow_parties
) -> None:
    evaluated_sow()  # first response 75 min against at most 60: missed
    month = _last_month()
    silent = make_sow(title="Quiet desk", start_date=month)
    services.sla_measurement_record(
        sow_id=silent.pk, metric="csat", period=month, value=Decimal("4.4"), by=sow_parties.vendor_owner
    )
    services.sla_evaluate(sow_id=silent.pk, period=month)  # first response never reported: missed too

    response = superuser_client.get(URL.format("slabreach"))

    columns = response.context["cl"].model_admin
    rows = [
        (breach.sow.title, columns.measured(breach), columns.promised(breach), columns.credit(breach))
        for breach in response.context["cl"].result_list
    ]
    assert rows == [
        ("Quiet desk", "not reported", "at most 60.00", "500.00 USD"),
        ("Tier-1 customer support", "75.00", "at most 60.00", "212.50 USD"),  # 5 % of 100 h × 42.50
    ]
    page = response.content.decode()
    assert "not reported" in page and "212.50 USD" in page


def test_staff_without_permissions_get_403_on_every_sow_list(client) -> None:
    client.force_login(UserFactory(is_staff=True))

    statuses = {model: client.get(URL.format(model)).status_code for model in MODELS}

    assert statuses == dict.fromkeys(MODELS, 403)


def test_support_reads_sows_and_breaches_but_not_money_and_cannot_evaluate(client, evaluated_sow) -> None:
    sow = evaluated_sow()
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)

    statuses = {model: client.get(URL.format(model)).status_code for model in MODELS}
    sow_page = client.get(SOW_URL)

    assert statuses == {
        "statementofwork": 200,
        "servicelevel": 200,
        "slameasurement": 200,
        "sowusage": 403,
        "slaevaluation": 403,
        "slabreach": 200,
    }
    assert sow_page.context["action_form"] is None or "evaluate_last_month" not in dict(
        sow_page.context["action_form"].fields["action"].choices
    )
    assert client.get(f"{SOW_URL}{sow.pk}/change/").status_code == 200


def test_finance_evaluates_last_month_and_a_second_run_changes_nothing(
    client, make_sow, sow_parties, django_capture_on_commit_callbacks
) -> None:
    month = _last_month()
    sow = make_sow(start_date=month)  # outcome-based: fee 10,000; first response ≤ 60 (5 %), CSAT ≥ 4.2 (5 %)
    for metric, value in (("first_response_minutes", "75"), ("csat", "4.7")):
        services.sla_measurement_record(
            sow_id=sow.pk, metric=metric, period=month, value=Decimal(value), by=sow_parties.vendor_owner
        )
    finance = UserFactory(is_staff=True)
    finance.groups.add(Group.objects.get(name="Finance"))
    client.force_login(finance)
    action = {"action": "evaluate_last_month", "_selected_action": [sow.pk]}

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(SOW_URL, action, follow=True)
    again = client.post(SOW_URL, action, follow=True)

    evaluation = SLAEvaluation.objects.get(sow=sow)
    assert (evaluation.period, evaluation.credit_total, evaluation.bonus_total) == (
        month,
        Decimal("500.00"),
        Decimal("300.00"),
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"Tier-1 customer support: {month:%B %Y} evaluated: 1 of 2 service levels met, "
        "credits 500.00 USD, bonuses 300.00 USD."
    ]
    assert (
        len(task_callbacks(callbacks)) == 2
    )  # both sides get the SLA report, the client the month's invoice, after the commit
    assert [str(m) for m in again.context["messages"]] == [
        f"Tier-1 customer support: {month:%B %Y} was already evaluated (1 of 2 service levels met, "
        "credits 500.00 USD, bonuses 300.00 USD)."
    ]
    assert SLAEvaluation.objects.count() == 1 and SLABreach.objects.count() == 1


def test_evaluating_a_draft_or_a_sow_that_started_this_month_is_refused_with_a_message(
    superuser_client, make_sow
) -> None:
    draft = make_sow(status="draft", title="Draft desk", start_date=_last_month())
    new = make_sow(title="New desk", start_date=timezone.localdate().replace(day=1))

    response = superuser_client.post(
        SOW_URL, {"action": "evaluate_last_month", "_selected_action": [draft.pk, new.pk]}, follow=True
    )

    assert response.status_code == 200
    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [
        ("error", "Draft desk: not evaluated. Only active or ended statements of work are evaluated."),
        ("error", f"New desk: not evaluated. {_last_month():%B %Y} is not a finished month of this statement of work."),
    ]
    assert not SLAEvaluation.objects.exists()


@pytest.mark.parametrize("model", MODELS)
def test_nobody_adds_changes_or_deletes_sow_rows_in_the_admin(superuser_client, evaluated_sow, model) -> None:
    sow = evaluated_sow()
    row = {
        "statementofwork": sow,
        "servicelevel": sow.service_levels.first(),
        "slameasurement": sow.measurements.first(),
        "sowusage": sow.usage.first(),
        "slaevaluation": sow.evaluations.first(),
        "slabreach": sow.breaches.first(),
    }[model]
    url = URL.format(model)

    add = superuser_client.get(f"{url}add/")
    change = superuser_client.post(f"{url}{row.pk}/change/", {})
    delete = superuser_client.post(f"{url}{row.pk}/delete/", {"post": "yes"})
    bulk_delete = superuser_client.post(url, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert superuser_client.get(f"{url}{row.pk}/change/").status_code == 200  # read-only view
    action_form = superuser_client.get(url).context["action_form"]
    assert action_form is None or "delete_selected" not in dict(action_form.fields["action"].choices)
    assert bulk_delete.status_code in (200, 302)
    assert type(row).objects.filter(pk=row.pk).exists()
    row_after = type(row).objects.get(pk=row.pk)
    assert row_after.updated_at == row.updated_at
