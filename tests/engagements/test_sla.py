"""Service levels in use: the credit and bonus arithmetic (properties over many currencies and levels), monthly
measurements (one at a time and by CSV), the monthly evaluation (once per month, unreported = missed, T&M fee =
the month's usage), the daily run past the grace days, and the report emailed once to both sides."""

import io
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from billing.models import Invoice
from config.celery import app as celery_app
from core.errors import ApplicationError
from core.models import AuditEvent
from core.money import currency_exponent, quantize
from engagements import services, tasks
from engagements.models import ServiceLevel, SLABreach, SLAEvaluation, SLAMeasurement, StatementOfWork
from engagements.services import ServiceLevelInput, sla_settle
from engagements.services.sla import evaluation_due_months
from engagements.services.sows import METRIC_RULES, month_start, next_month
from tests.factories import MembershipFactory, OrganizationFactory
from tests.oncommit import task_callbacks

TODAY = timezone.localdate()
THIS_MONTH = month_start(TODAY)


def _months_ago(count: int) -> date:
    month = THIS_MONTH
    for _ in range(count):
        month = month_start(month - timedelta(days=1))
    return month


START = _months_ago(6)
LAST_MONTH = _months_ago(1)
AT_MOST = ServiceLevel.Direction.AT_MOST


@pytest.fixture
def run_tasks_here(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tasks queued with delay / delay_on_commit run in this process (and raise here) instead of going to the
    broker."""
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", True)
    yield


def _record(sow: StatementOfWork, by, metric: str, value: str, period: date = LAST_MONTH, **extra: Any):
    return services.sla_measurement_record(
        sow_id=sow.pk, metric=metric, period=period, value=Decimal(value), by=by, **extra
    )


def _import(sow: StatementOfWork, by, content: bytes):
    return services.sla_measurements_import(sow_id=sow.pk, file=io.BytesIO(content), by=by)


def _measurements() -> list[tuple[str, date, Decimal, str, str]]:
    return list(
        SLAMeasurement.objects.order_by("period", "metric").values_list("metric", "period", "value", "source", "note")
    )


def _everything() -> tuple[list[dict[str, Any]], ...]:
    """Every row an evaluation writes or touches, and every email sent."""
    return (
        list(SLAEvaluation.objects.order_by("pk").values()),
        list(SLABreach.objects.order_by("pk").values()),
        list(AuditEvent.objects.order_by("pk").values()),
        list(SLAMeasurement.objects.order_by("pk").values()),
        [{"subject": m.subject, "to": m.to, "body": m.body} for m in mail.outbox],
    )


def _level(metric: str, target: str, credit: str = "0", stretch: str | None = None, bonus: str = "0") -> ServiceLevel:
    return ServiceLevel(
        metric=metric,
        direction=METRIC_RULES[metric][0],
        target=Decimal(target),
        credit_pct=Decimal(credit),
        stretch_target=None if stretch is None else Decimal(stretch),
        bonus_pct=Decimal(bonus),
    )


# --- arithmetic: properties ---------------------------------------------------------------------------------------
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KRW", "CLP", "KWD", "BHD", "JOD"]
PERCENT = st.decimals(min_value=0, max_value=100, places=2)
FEE = st.decimals(min_value=0, max_value=Decimal("999999999.999"), places=3)


@st.composite
def _levels_and_values(draw: st.DrawFn) -> tuple[list[ServiceLevel], dict[str, Decimal | None]]:
    """Up to six service levels (one per metric, in the metric's natural direction, a stretch target better than
    the target when there is one) and a month's values (some unreported, some exactly on a target)."""
    levels: list[ServiceLevel] = []
    values: dict[str, Decimal | None] = {}
    for metric in draw(st.lists(st.sampled_from(list(METRIC_RULES)), unique=True, max_size=6)):
        direction, low, high = METRIC_RULES[metric]
        reading = st.decimals(min_value=low, max_value=min(high, Decimal(1000)), places=2)
        first, second = draw(reading), draw(reading)
        if first != second and draw(st.booleans()):
            better, worse = sorted([first, second], reverse=direction != AT_MOST)
            target, stretch = worse, better
        else:
            target, stretch = first, None
        levels.append(
            ServiceLevel(
                metric=metric,
                direction=direction,
                target=target,
                credit_pct=draw(PERCENT),
                stretch_target=stretch,
                bonus_pct=draw(PERCENT) if stretch is not None else Decimal(0),
            )
        )
        values[metric] = draw(st.none() | st.sampled_from([target, stretch or target]) | reading)
    return levels, values


def _reaches(value: Decimal | None, goal: Decimal | None, direction: str) -> bool:
    if value is None or goal is None:
        return False
    return value <= goal if direction == AT_MOST else value >= goal


def _cap(fee_base: Decimal, pct: Decimal, currency: str) -> Decimal:
    return (fee_base * pct / 100).quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUND_DOWN)


@given(
    currency=st.sampled_from(CURRENCIES),
    fee=FEE,
    levels_values=_levels_and_values(),
    credit_cap=PERCENT,
    bonus_cap=PERCENT,
    bonuses_allowed=st.booleans(),
)
def test_every_amount_is_a_decimal_in_the_currencys_minor_unit(
    currency, fee, levels_values, credit_cap, bonus_cap, bonuses_allowed
) -> None:
    levels, values = levels_values

    settlement = sla_settle(
        fee_base=fee,
        currency=currency,
        levels=levels,
        values=values,
        credit_cap_pct=credit_cap,
        bonus_cap_pct=bonus_cap,
        bonuses_allowed=bonuses_allowed,
    )

    amounts = [
        settlement.fee_base,
        settlement.credits_before_cap,
        settlement.credit_total,
        settlement.bonuses_before_cap,
        settlement.bonus_total,
        *(outcome.credit for outcome in settlement.outcomes),
        *(outcome.bonus for outcome in settlement.outcomes),
    ]
    exponent = -currency_exponent(currency)
    assert [(type(amount), amount.as_tuple().exponent) for amount in amounts] == [(Decimal, exponent)] * len(amounts)
    assert settlement.fee_base == quantize(fee, currency)
    assert settlement.currency == currency


@given(
    currency=st.sampled_from(CURRENCIES),
    fee=FEE,
    levels_values=_levels_and_values(),
    credit_cap=PERCENT,
)
def test_missed_levels_earn_their_credit_met_levels_none_and_the_total_is_capped(
    currency, fee, levels_values, credit_cap
) -> None:
    levels, values = levels_values

    settlement = sla_settle(
        fee_base=fee,
        currency=currency,
        levels=levels,
        values=values,
        credit_cap_pct=credit_cap,
        bonus_cap_pct=Decimal(10),
        bonuses_allowed=True,
    )

    fee_base = quantize(fee, currency)
    expected = []
    for level in levels:
        met = _reaches(values[level.metric], level.target, level.direction)  # unreported is missed
        expected.append(
            (level.metric, met, Decimal(0) if met else quantize(fee_base * level.credit_pct / 100, currency))
        )
    assert [(o.service_level.metric, o.is_met, o.credit) for o in settlement.outcomes] == expected
    credits = sum((credit for _metric, _met, credit in expected), Decimal(0))
    cap = _cap(fee_base, credit_cap, currency)
    assert settlement.credits_before_cap == credits
    assert settlement.credit_total == min(credits, cap)
    assert Decimal(0) <= settlement.credit_total <= cap
    assert settlement.credit_total <= settlement.credits_before_cap
    if credits <= cap:
        assert settlement.credit_total == credits


@given(
    currency=st.sampled_from(CURRENCIES),
    fee=FEE,
    levels_values=_levels_and_values(),
    bonus_cap=PERCENT,
    bonuses_allowed=st.booleans(),
)
def test_bonuses_only_for_outcome_based_pricing_at_the_stretch_target_and_capped(
    currency, fee, levels_values, bonus_cap, bonuses_allowed
) -> None:
    levels, values = levels_values

    settlement = sla_settle(
        fee_base=fee,
        currency=currency,
        levels=levels,
        values=values,
        credit_cap_pct=Decimal(20),
        bonus_cap_pct=bonus_cap,
        bonuses_allowed=bonuses_allowed,
    )

    fee_base = quantize(fee, currency)
    expected = []
    for level in levels:
        stretch = bonuses_allowed and _reaches(values[level.metric], level.stretch_target, level.direction)
        expected.append(
            (level.metric, stretch, quantize(fee_base * level.bonus_pct / 100, currency) if stretch else Decimal(0))
        )
    assert [(o.service_level.metric, o.is_stretch_met, o.bonus) for o in settlement.outcomes] == expected
    assert all(outcome.is_met for outcome in settlement.outcomes if outcome.is_stretch_met)
    bonuses = sum((bonus for _metric, _stretch, bonus in expected), Decimal(0))
    cap = _cap(fee_base, bonus_cap, currency)
    assert settlement.bonuses_before_cap == bonuses
    assert settlement.bonus_total == min(bonuses, cap)
    assert Decimal(0) <= settlement.bonus_total <= cap
    if not bonuses_allowed:
        assert (settlement.bonuses_before_cap, settlement.bonus_total) == (Decimal(0), Decimal(0))


# --- arithmetic: examples -----------------------------------------------------------------------------------------
def test_a_cap_is_rounded_down_so_12_5_percent_of_10_01_allows_1_25() -> None:
    levels = [_level("csat", "4", credit="100")]

    settlement = sla_settle(
        fee_base=Decimal("10.01"),
        currency="USD",
        levels=levels,
        values={"csat": Decimal("3")},
        credit_cap_pct=Decimal("12.5"),
        bonus_cap_pct=Decimal(0),
        bonuses_allowed=False,
    )

    assert (settlement.credits_before_cap, settlement.credit_total) == (Decimal("10.01"), Decimal("1.25"))


@pytest.mark.parametrize(
    ("currency", "fee", "credit", "zero", "cap"),
    [
        ("JPY", "12345", "617", "0", "2469"),
        ("KWD", "1234.5674", "61.728", "0.000", "246.913"),
        ("USD", "1234.565", "61.73", "0.00", "246.91"),
    ],
)
def test_credits_are_exact_in_zero_two_and_three_decimal_currencies(currency, fee, credit, zero, cap) -> None:
    levels = [
        _level("first_response_minutes", "60", credit="5"),
        _level("csat", "4.2", credit="5", stretch="4.6", bonus="3"),
    ]

    settlement = sla_settle(
        fee_base=Decimal(fee),
        currency=currency,
        levels=levels,
        values={"first_response_minutes": Decimal("61"), "csat": Decimal("4.3")},
        credit_cap_pct=Decimal("20"),
        bonus_cap_pct=Decimal("10"),
        bonuses_allowed=True,
    )

    assert [(str(o.credit), str(o.bonus)) for o in settlement.outcomes] == [(credit, zero), (zero, zero)]
    assert (str(settlement.credit_total), str(settlement.bonus_total)) == (credit, zero)
    assert str(_cap(settlement.fee_base, Decimal(20), currency)) == cap


def test_money_is_never_a_float() -> None:
    with pytest.raises(TypeError, match="never a float"):
        sla_settle(
            fee_base=10000.0,  # type: ignore[arg-type]
            currency="USD",
            levels=[],
            values={},
            credit_cap_pct=Decimal(20),
            bonus_cap_pct=Decimal(10),
            bonuses_allowed=False,
        )


# --- measurements -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_months_value_is_recorded_and_a_correction_audits_the_previous_value(make_sow, sow_parties) -> None:
    p = sow_parties
    sow = make_sow(start_date=START)

    _record(sow, p.vendor_member, "first_response_minutes", "75", period=LAST_MONTH + timedelta(days=12))
    _record(sow, p.client_owner, "first_response_minutes", "55", note="  Recounted from the ticket log ")
    _record(sow, p.vendor_owner, "csat", "4.5", period=THIS_MONTH, source="api")

    assert _measurements() == [
        ("first_response_minutes", LAST_MONTH, Decimal("55.00"), "client_entry", "Recounted from the ticket log"),
        ("csat", THIS_MONTH, Decimal("4.50"), "api", ""),
    ]
    assert SLAMeasurement.objects.get(metric="first_response_minutes").recorded_by == p.client_owner
    events = AuditEvent.objects.filter(action__startswith="sla.measurement").order_by("id")
    assert [(e.action, e.actor_label, e.data) for e in events] == [
        (
            "sla.measurement_recorded",
            p.vendor_member.email,
            {"metric": "first_response_minutes", "period": f"{LAST_MONTH:%Y-%m}", "value": "75", "previous": ""},
        ),
        (
            "sla.measurement_corrected",
            p.client_owner.email,
            {"metric": "first_response_minutes", "period": f"{LAST_MONTH:%Y-%m}", "value": "55", "previous": "75.00"},
        ),
        (
            "sla.measurement_recorded",
            p.vendor_owner.email,
            {"metric": "csat", "period": f"{THIS_MONTH:%Y-%m}", "value": "4.5", "previous": ""},
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("metric", "period", "value", "field", "message"),
    [
        ("uptime_pct", LAST_MONTH, "99.9", "metric", "This statement of work has no service level for Uptime (%)."),
        (
            "speed",
            LAST_MONTH,
            "1",
            "metric",
            "“speed” is not a metric; use one of first_response_minutes, resolution_hours, resolution_rate_pct, csat, "
            "uptime_pct, backlog_age_hours.",
        ),
        (
            "csat",
            next_month(THIS_MONTH),
            "4.5",
            "period",
            "The month must be within the statement of work and not in the future.",
        ),
        (
            "csat",
            _months_ago(7),
            "4.5",
            "period",
            "The month must be within the statement of work and not in the future.",
        ),
        ("csat", LAST_MONTH, "5.5", "value", "Customer satisfaction (1–5) must be between 1 and 5."),
        ("first_response_minutes", LAST_MONTH, "-1", "value", "First response (minutes) must be between 0 and 100000."),
        ("csat", LAST_MONTH, "4.255", "value", "Use at most two decimal places."),
        ("csat", LAST_MONTH, "NaN", "value", "Customer satisfaction (1–5) must be between 1 and 5."),
    ],
)
def test_each_measurement_rule_refuses_with_its_message_and_saves_nothing(
    make_sow, sow_parties, metric, period, value, field, message
) -> None:
    sow = make_sow(start_date=START)
    audit_count = AuditEvent.objects.count()

    with pytest.raises(ApplicationError) as error:
        _record(sow, sow_parties.vendor_owner, metric, value, period=period)

    assert (error.value.message, error.value.field_errors) == (message, {field: [message]})
    assert not SLAMeasurement.objects.exists()
    assert AuditEvent.objects.count() == audit_count


@pytest.mark.django_db
def test_who_may_record_and_when(make_sow, sow_parties) -> None:
    active = make_sow(start_date=START)
    proposed = make_sow(status="proposed", start_date=START)
    finance = MembershipFactory(organization=sow_parties.vendor, role="finance").user

    with pytest.raises(ApplicationError) as by_finance:
        _record(active, finance, "csat", "4.5")
    with pytest.raises(ApplicationError) as not_active:
        _record(proposed, sow_parties.vendor_owner, "csat", "4.5")
    with pytest.raises(ApplicationError) as bad_source:
        _record(active, sow_parties.vendor_owner, "csat", "4.5", source="email")

    assert (by_finance.value.message, by_finance.value.status) == ("Finance members can't record measurements.", 403)
    assert (not_active.value.message, not_active.value.status) == (
        "Measurements can be recorded once the statement of work is active.",
        409,
    )
    assert bad_source.value.message == "Unknown measurement source."
    assert not SLAMeasurement.objects.exists()


@pytest.mark.django_db
def test_an_evaluated_months_measurements_are_final(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)
    _record(sow, sow_parties.vendor_owner, "csat", "4.5")
    services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)
    before = _measurements()

    with pytest.raises(ApplicationError) as correction:
        _record(sow, sow_parties.client_owner, "csat", "3.9")
    with pytest.raises(ApplicationError) as late:
        _record(sow, sow_parties.vendor_owner, "first_response_minutes", "20")

    final = f"{LAST_MONTH:%B %Y} has been evaluated; its measurements are final."
    assert correction.value.field_errors == late.value.field_errors == {"period": [final]}
    assert _measurements() == before


# --- CSV import ---------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_csv_adds_new_months_and_corrects_existing_ones(make_sow, sow_parties) -> None:
    p = sow_parties
    sow = make_sow(start_date=START)
    _record(sow, p.vendor_owner, "first_response_minutes", "75")
    first_saved = SLAMeasurement.objects.get().updated_at
    two_ago = _months_ago(2)
    content = (
        "\ufeff Metric , PERIOD,value,Note\r\n"
        f"first_response_minutes,{LAST_MONTH:%Y-%m},55,Recounted\r\n"
        f"csat,{LAST_MONTH:%Y-%m-%d},4.7,\r\n"
        ",,,\r\n"
        f"csat,{two_ago:%Y-%m},4.1,  Survey of 212 customers  \r\n"
    ).encode()

    result = _import(sow, p.client_owner, content)

    assert (result.created, result.updated) == (2, 1)
    assert _measurements() == [
        ("csat", two_ago, Decimal("4.10"), "client_entry", "Survey of 212 customers"),
        ("csat", LAST_MONTH, Decimal("4.70"), "client_entry", ""),
        ("first_response_minutes", LAST_MONTH, Decimal("55.00"), "client_entry", "Recounted"),
    ]
    corrected = SLAMeasurement.objects.get(metric="first_response_minutes")
    assert corrected.recorded_by == p.client_owner
    assert corrected.updated_at > first_saved
    imported = AuditEvent.objects.get(action="sla.measurements_imported")
    assert (imported.actor_label, imported.data) == (
        p.client_owner.email,
        {"created": "2", "updated": "1", "previous": {f"first_response_minutes {LAST_MONTH:%Y-%m}": "75.00"}},
    )


@pytest.mark.django_db
def test_every_bad_row_gets_its_own_message_with_its_row_number_and_nothing_is_saved(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)
    _record(sow, sow_parties.vendor_owner, "first_response_minutes", "75")
    before = (list(SLAMeasurement.objects.values()), AuditEvent.objects.count())
    content = (
        "metric,period,value\n"
        f"first_response_minutes,{LAST_MONTH:%Y-%m},50\n"
        f"uptime_pct,{LAST_MONTH:%Y-%m},99.9\n"
        f"csat,{LAST_MONTH:%Y/%m},4\n"
        f"csat,{next_month(THIS_MONTH):%Y-%m},4.5\n"
        f"csat,{LAST_MONTH:%Y-%m},six\n"
        f"first_response_minutes,{LAST_MONTH:%Y-%m},45\n"
        f"csat,{_months_ago(2):%Y-%m},7\n"
    ).encode()

    with pytest.raises(ApplicationError) as error:
        _import(sow, sow_parties.vendor_owner, content)

    assert (error.value.message, error.value.code) == (
        "Nothing was saved: 6 problem(s) in the file; fix them and upload it again.",
        "invalid_measurements_file",
    )
    assert error.value.field_errors == {
        "file": [
            "Row 3: This statement of work has no service level for Uptime (%).",
            "Row 4: Give the month as YYYY-MM.",
            "Row 5: The month must be within the statement of work and not in the future.",
            "Row 6: Enter a number.",
            f"Row 7: first_response_minutes for {LAST_MONTH:%Y-%m} is already on row 2.",
            "Row 8: Customer satisfaction (1–5) must be between 1 and 5.",
        ]
    }
    assert (list(SLAMeasurement.objects.values()), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_row_numbers_count_blank_lines_and_old_mac_line_ends_are_read(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)
    with_blank_lines = f"metric,period,value\n\ncsat,{LAST_MONTH:%Y-%m},4.5\n\nuptime_pct,{LAST_MONTH:%Y-%m},99\n"
    carriage_returns = f"metric,period,value\rcsat,{LAST_MONTH:%Y-%m},4.5\r"

    with pytest.raises(ApplicationError) as error:
        _import(sow, sow_parties.vendor_owner, with_blank_lines.encode())
    result = _import(sow, sow_parties.vendor_owner, carriage_returns.encode())

    assert error.value.field_errors == {"file": ["Row 5: This statement of work has no service level for Uptime (%)."]}
    assert (result.created, result.updated) == (1, 0)
    assert _measurements() == [("csat", LAST_MONTH, Decimal("4.50"), "vendor_report", "")]


@pytest.mark.django_db
def test_a_month_evaluated_already_is_refused_row_by_row(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)
    services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)

    with pytest.raises(ApplicationError) as error:
        _import(sow, sow_parties.vendor_owner, f"metric,period,value\ncsat,{LAST_MONTH:%Y-%m},4.5\n".encode())

    assert error.value.field_errors == {
        "file": [f"Row 2: {LAST_MONTH:%B %Y} has been evaluated; its measurements are final."]
    }
    assert not SLAMeasurement.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"metric;period;value\ncsat;2026-01;4.5\n",
            "the header row needs the columns metric, period and value (missing: metric, period, value).",
        ),
        (
            b"metric,month,value\ncsat,2026-01,4.5\n",
            "the header row needs the columns metric, period and value (missing: period).",
        ),
        (b"", "the header row needs the columns metric, period and value (missing: metric, period, value)."),
        (b"metric,period,value\n", "the file has no measurements."),
        (
            b"metric,period,value,note\ncsat,2026-01,4.5,caf\xe9\n",
            "the file is not UTF-8 text; save it as CSV (UTF-8).",
        ),
        (b"\xff\xfem\x00e\x00t\x00", "the file is not UTF-8 text; save it as CSV (UTF-8)."),
        (b"metric,period,value,note\ncsat,2026-01,4.5,a\x00b\n", "the file is not CSV text; save it as CSV (UTF-8)."),
        (
            b"metric,period,value,note\ncsat,2026-01,4.5," + b"x" * 140_000 + b"\n",
            "the file is not valid CSV; save it as CSV (UTF-8).",
        ),
        (b"metric,period,value\n" + b"x" * (1024 * 1024), "the file is larger than 1 MB; split it."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_what_to_do(make_sow, sow_parties, content, message) -> None:
    sow = make_sow(start_date=START)
    audit_count = AuditEvent.objects.count()

    with pytest.raises(ApplicationError) as error:
        _import(sow, sow_parties.vendor_owner, content)

    assert (error.value.message, error.value.field_errors) == (f"Nothing was saved: {message}", {"file": [message]})
    assert not SLAMeasurement.objects.exists()
    assert AuditEvent.objects.count() == audit_count


@pytest.mark.django_db
def test_finance_members_cannot_import(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)
    finance = MembershipFactory(organization=sow_parties.client, role="finance").user

    with pytest.raises(ApplicationError) as error:
        _import(sow, finance, f"metric,period,value\ncsat,{LAST_MONTH:%Y-%m},4.5\n".encode())

    assert (error.value.message, error.value.status) == ("Finance members can't record measurements.", 403)
    assert not SLAMeasurement.objects.exists()


# --- monthly evaluation -------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_missed_and_an_unreported_level_are_both_breaches_with_their_credits(make_sow, sow_parties) -> None:
    sow = make_sow(pricing="fixed_monthly", start_date=START)  # first response ≤ 60 and csat ≥ 4.2, 5 % credit each
    _record(sow, sow_parties.vendor_owner, "first_response_minutes", "75")

    evaluation = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)

    row = SLAEvaluation.objects.filter(pk=evaluation.pk).values().get()
    assert {name: row[name] for name in ("period", "currency", "fee_base", "levels_met", "levels_total")} == {
        "period": LAST_MONTH,
        "currency": "USD",
        "fee_base": Decimal("10000.00"),
        "levels_met": 0,
        "levels_total": 2,
    }
    assert (row["credits_before_cap"], row["credit_total"], row["bonuses_before_cap"], row["bonus_total"]) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    csat, response = sow.service_levels.order_by("metric")
    assert row["lines"] == [
        {
            "service_level_id": csat.pk,
            "metric": "csat",
            "direction": "at_least",
            "target": "4.20",
            "stretch_target": None,
            "value": None,
            "met": False,
            "stretch_met": False,
            "credit": "500.00",
            "bonus": "0.00",
        },
        {
            "service_level_id": response.pk,
            "metric": "first_response_minutes",
            "direction": "at_most",
            "target": "60.00",
            "stretch_target": None,
            "value": "75.00",
            "met": False,
            "stretch_met": False,
            "credit": "500.00",
            "bonus": "0.00",
        },
    ]
    assert list(
        SLABreach.objects.order_by("metric").values_list(
            "metric", "direction", "target", "measured_value", "credit_amount", "currency", "period", "sow_id"
        )
    ) == [
        ("csat", "at_least", Decimal("4.20"), None, Decimal("500.00"), "USD", LAST_MONTH, sow.pk),
        (
            "first_response_minutes",
            "at_most",
            Decimal("60.00"),
            Decimal("75.00"),
            Decimal("500.00"),
            "USD",
            LAST_MONTH,
            sow.pk,
        ),
    ]
    assert [breach.is_unreported for breach in SLABreach.objects.order_by("metric")] == [True, False]
    evaluated = AuditEvent.objects.get(action="sla.evaluated")
    assert (evaluated.actor_label, evaluated.data) == (
        "system",
        {"period": f"{LAST_MONTH:%Y-%m}", "breaches": "2", "credit": "1000.00", "bonus": "0.00"},
    )
    invoice = Invoice.objects.get(sow=sow)
    assert (invoice.subtotal, invoice.client_fee, invoice.total, invoice.status) == (
        Decimal("9000.00"),
        Decimal("450.00"),
        Decimal("9450.00"),
        "issued",
    )
    assert list(invoice.lines.values_list("kind", "amount")) == [
        ("work", Decimal("10000.00")),
        ("sla_credit", Decimal("-1000.00")),
        ("marketplace_fee", Decimal("450.00")),
    ]


@pytest.mark.django_db
def test_met_levels_earn_no_credit_and_the_stretch_target_earns_the_bonus(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)  # outcome-based: csat ≥ 4.2, stretch 4.6 with a 3 % bonus
    _record(sow, sow_parties.vendor_owner, "first_response_minutes", "60")
    _record(sow, sow_parties.vendor_owner, "csat", "4.6")

    evaluation = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)

    assert (evaluation.credit_total, evaluation.bonus_total, evaluation.levels_met) == (
        Decimal("0.00"),
        Decimal("300.00"),
        2,
    )
    assert [
        (line["metric"], line["met"], line["stretch_met"], line["credit"], line["bonus"]) for line in evaluation.lines
    ] == [
        ("csat", True, True, "0.00", "300.00"),
        ("first_response_minutes", True, False, "0.00", "0.00"),
    ]
    assert not SLABreach.objects.exists()
    assert evaluation.attainment_pct == Decimal("100.0")


@pytest.mark.django_db
def test_credits_and_bonuses_are_capped_at_the_sows_percentages_of_the_fee(make_sow, sow_parties) -> None:
    levels = [
        ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("15")),
        ServiceLevelInput(metric="resolution_hours", target=Decimal("24"), credit_pct=Decimal("15")),
        ServiceLevelInput(metric="backlog_age_hours", target=Decimal("48"), credit_pct=Decimal("15")),
        ServiceLevelInput(metric="csat", target=Decimal("4.2"), stretch_target=Decimal("4.6"), bonus_pct=Decimal("8")),
        ServiceLevelInput(
            metric="uptime_pct", target=Decimal("99.5"), stretch_target=Decimal("99.9"), bonus_pct=Decimal("7")
        ),
    ]
    sow = make_sow(levels=levels, start_date=START, credit_cap_pct=Decimal("20"), bonus_cap_pct=Decimal("10"))
    _record(sow, sow_parties.vendor_owner, "csat", "4.8")
    _record(sow, sow_parties.vendor_owner, "uptime_pct", "100")
    _record(sow, sow_parties.vendor_owner, "resolution_hours", "30")

    evaluation = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)

    assert (
        evaluation.credits_before_cap,
        evaluation.credit_total,
        evaluation.bonuses_before_cap,
        evaluation.bonus_total,
    ) == (Decimal("4500.00"), Decimal("2000.00"), Decimal("1500.00"), Decimal("1000.00"))
    assert list(SLABreach.objects.order_by("metric").values_list("metric", "measured_value", "credit_amount")) == [
        ("backlog_age_hours", None, Decimal("1500.00")),
        ("first_response_minutes", None, Decimal("1500.00")),
        ("resolution_hours", Decimal("30.00"), Decimal("1500.00")),
    ]
    assert evaluation.attainment_pct == Decimal("40.0")


@pytest.mark.django_db
def test_time_and_materials_is_measured_against_the_months_usage(make_sow, sow_parties) -> None:
    p = sow_parties
    levels = [ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("5"))]
    sow = make_sow(pricing="time_and_materials", levels=levels, start_date=START)
    for quantity in ("100", "20"):  # 4250.00 + 850.00
        services.sow_usage_add(
            sow_id=sow.pk,
            period=LAST_MONTH,
            rate_card_entry_id=p.rate.pk,
            quantity=Decimal(quantity),
            by=p.vendor_owner,
        )
    services.sow_usage_add(
        sow_id=sow.pk, period=_months_ago(3), rate_card_entry_id=p.rate.pk, quantity=Decimal("1"), by=p.vendor_owner
    )
    _record(sow, p.vendor_owner, "first_response_minutes", "75")

    with_usage = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)
    without_usage = services.sla_evaluate(sow_id=sow.pk, period=_months_ago(2))

    assert (with_usage.fee_base, with_usage.credit_total, with_usage.bonus_total) == (
        Decimal("5100.00"),
        Decimal("255.00"),
        Decimal("0.00"),
    )
    assert (without_usage.fee_base, without_usage.credit_total, without_usage.levels_met) == (
        Decimal("0.00"),
        Decimal("0.00"),
        0,
    )
    assert SLABreach.objects.filter(evaluation=without_usage).values_list("credit_amount", flat=True).get() == 0
    with pytest.raises(ApplicationError) as late_usage:
        services.sow_usage_add(
            sow_id=sow.pk, period=LAST_MONTH, rate_card_entry_id=p.rate.pk, quantity=Decimal("1"), by=p.vendor_owner
        )
    assert late_usage.value.field_errors == {
        "period": [f"{LAST_MONTH:%B %Y} has been evaluated and invoiced; it can't change."]
    }


@pytest.mark.django_db
def test_a_second_evaluation_of_the_same_month_leaves_every_row_and_the_outbox_as_they_were(
    make_sow, sow_parties, django_capture_on_commit_callbacks, run_tasks_here
) -> None:
    sow = make_sow(start_date=LAST_MONTH)
    _record(sow, sow_parties.vendor_owner, "csat", "4.9")
    with django_capture_on_commit_callbacks(execute=True):
        first_run = services.sla_evaluations_run(today=THIS_MONTH + timedelta(days=10))
    before = _everything()

    with django_capture_on_commit_callbacks(execute=True):
        second_run = services.sla_evaluations_run(today=THIS_MONTH + timedelta(days=10))
        again = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)

    assert (first_run, second_run) == (1, 0)
    assert again.period == LAST_MONTH
    assert _everything() == before
    assert (len(before[0]), len(before[4])) == (1, 2)  # one evaluation; the SLA report and the month's invoice
    assert before[0][0]["notified_at"] is not None


@pytest.mark.django_db
def test_only_finished_months_of_active_or_ended_sows_are_evaluated(make_sow) -> None:
    active = make_sow(start_date=START)
    proposed = make_sow(status="proposed", start_date=START)

    refusals = {}
    for name, sow_id, period in [
        ("this_month", active.pk, THIS_MONTH),
        ("before_start", active.pk, _months_ago(7)),
        ("proposed", proposed.pk, LAST_MONTH),
    ]:
        with pytest.raises(ApplicationError) as error:
            services.sla_evaluate(sow_id=sow_id, period=period)
        refusals[name] = (error.value.message, error.value.status)

    assert refusals == {
        "this_month": (f"{THIS_MONTH:%B %Y} is not a finished month of this statement of work.", 409),
        "before_start": (f"{_months_ago(7):%B %Y} is not a finished month of this statement of work.", 409),
        "proposed": ("Only active or ended statements of work are evaluated.", 409),
    }
    assert not SLAEvaluation.objects.exists()
    assert not AuditEvent.objects.filter(action="sla.evaluated").exists()


# --- the daily run ------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_daily_run_evaluates_each_finished_month_once_after_the_grace_days(make_sow, settings) -> None:
    settings.SLA_EVALUATION_GRACE_DAYS = 5
    sow = make_sow(start_date=_months_ago(3) + timedelta(days=20))
    make_sow(status="proposed", start_date=START)
    make_sow(status="draft", start_date=START)

    in_grace = services.sla_evaluations_run(today=THIS_MONTH + timedelta(days=4))
    evaluated_in_grace = list(SLAEvaluation.objects.order_by("period").values_list("period", flat=True))
    due = evaluation_due_months(sow=sow, today=THIS_MONTH + timedelta(days=5))
    after_grace = services.sla_evaluations_run(today=THIS_MONTH + timedelta(days=5))
    again = services.sla_evaluations_run(today=THIS_MONTH + timedelta(days=5))

    assert (in_grace, after_grace, again) == (2, 1, 0)
    assert evaluated_in_grace == [_months_ago(3), _months_ago(2)]
    assert due == [LAST_MONTH]
    assert list(SLAEvaluation.objects.order_by("period").values_list("sow_id", "period")) == [
        (sow.pk, _months_ago(3)),
        (sow.pk, _months_ago(2)),
        (sow.pk, LAST_MONTH),
    ]


@pytest.mark.django_db
def test_the_beat_task_evaluates_every_finished_month_once(make_sow, settings) -> None:
    settings.SLA_EVALUATION_GRACE_DAYS = 0
    sow = make_sow(start_date=_months_ago(2))

    first = tasks.sla_evaluations_run()
    before = _everything()
    second = tasks.sla_evaluations_run()

    assert (first, second) == (2, 0)
    assert [row["period"] for row in before[0]] == [_months_ago(2), LAST_MONTH]
    assert _everything() == before
    assert SLAEvaluation.objects.filter(sow=sow).count() == 2


@pytest.mark.django_db
def test_a_sow_ended_early_is_not_evaluated_for_the_months_after_it_ended(make_sow, sow_parties, settings) -> None:
    settings.SLA_EVALUATION_GRACE_DAYS = 0
    sow = make_sow(start_date=START)
    services.sow_end(sow_id=sow.pk, by=sow_parties.client_owner, reason="Moved support in-house")
    StatementOfWork.objects.filter(pk=sow.pk).update(
        ended_at=timezone.now() - timedelta(days=(TODAY - _months_ago(3)).days - 9)
    )
    ended_on = timezone.localdate(StatementOfWork.objects.get(pk=sow.pk).ended_at)

    evaluated = services.sla_evaluations_run()

    assert month_start(ended_on) == _months_ago(3)
    assert evaluated == 4
    assert list(SLAEvaluation.objects.order_by("period").values_list("period", flat=True)) == [
        _months_ago(6),
        _months_ago(5),
        _months_ago(4),
        _months_ago(3),
    ]


# --- the report email ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_report_is_emailed_once_to_owners_admins_and_finance_of_both_sides(
    make_sow, sow_parties, django_capture_on_commit_callbacks, run_tasks_here
) -> None:
    p = sow_parties
    sow = make_sow(start_date=START)
    recipients = [
        p.client_owner,
        p.vendor_owner,
        MembershipFactory(organization=p.client, role="admin").user,
        MembershipFactory(organization=p.client, role="finance").user,
        MembershipFactory(organization=p.vendor, role="admin").user,
        MembershipFactory(organization=p.vendor, role="finance").user,
    ]
    MembershipFactory(organization=p.client, role="owner", user__is_active=False)
    MembershipFactory(organization=OrganizationFactory(kind="client"), role="owner")
    _record(sow, p.vendor_owner, "csat", "4.7")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        evaluation = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)
    redelivered = tasks.sla_evaluation_email_send(evaluation_id=evaluation.pk)
    redelivered_again = tasks.sla_evaluation_email_send(evaluation_id=evaluation.pk)

    assert (len(task_callbacks(callbacks)), redelivered, redelivered_again) == (
        2,
        False,
        False,
    )  # the report and the invoice
    reports = [message for message in mail.outbox if message.subject.startswith("SLA report")]
    assert len(reports) == 1
    message = reports[0]
    assert message.subject == f"SLA report for {LAST_MONTH:%B %Y}: Tier-1 customer support"
    assert message.to == sorted(user.email for user in recipients)
    assert message.body == (
        "Tier-1 customer support — Acme Retail and Helpdesk Partners\n"
        f"Service levels for {LAST_MONTH:%B %Y}: 1 of 2 met.\n"
        "\n"
        "- Customer satisfaction (1–5): 4.70 (target at least 4.20) — met, stretch target reached\n"
        "- First response (minutes): not reported (target at most 60.00) — missed\n"
        "\n"
        "Fee for the month: 10000.00 USD\n"
        "SLA credits to the client: 500.00 USD\n"
        "Outcome bonuses to the vendor: 300.00 USD\n"
        "\n"
        "These adjustments go on the month's invoice. See the SLA dashboard for the details:\n"
        f"/sows/{sow.pk}/sla/\n"
        "\n"
    )
    assert SLAEvaluation.objects.get().notified_at is not None


@pytest.mark.django_db
def test_the_email_task_sends_once_however_often_it_runs(make_sow, sow_parties) -> None:
    levels = [ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("50"))]
    sow = make_sow(pricing="fixed_monthly", levels=levels, start_date=START)
    evaluation = services.sla_evaluate(sow_id=sow.pk, period=LAST_MONTH)

    first = tasks.sla_evaluation_email_send(evaluation_id=evaluation.pk)
    second = tasks.sla_evaluation_email_send(evaluation_id=evaluation.pk)
    missing = tasks.sla_evaluation_email_send(evaluation_id=evaluation.pk + 1000)

    assert (first, second, missing) == (True, False, False)
    assert [message.to for message in mail.outbox] == [
        sorted([sow_parties.client_owner.email, sow_parties.vendor_owner.email])
    ]
    assert "SLA credits to the client: 2000.00 USD (capped; 5000.00 before the cap)\n" in mail.outbox[0].body
