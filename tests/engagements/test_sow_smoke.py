from datetime import date
from decimal import Decimal

import pytest

from engagements import services
from engagements.models import SLABreach, SLAEvaluation
from tests.oncommit import task_callbacks


@pytest.mark.django_db
def test_a_month_is_evaluated_once_with_exact_credits_and_bonuses(
    make_sow, sow_parties, django_capture_on_commit_callbacks
) -> None:
    sow = make_sow()
    assert sow.status == "active"
    services.sla_measurement_record(
        sow_id=sow.pk,
        metric="first_response_minutes",
        period=date(2026, 3, 1),
        value=Decimal("75"),
        by=sow_parties.vendor_owner,
    )
    services.sla_measurement_record(
        sow_id=sow.pk, metric="csat", period=date(2026, 3, 1), value=Decimal("4.7"), by=sow_parties.vendor_owner
    )

    with django_capture_on_commit_callbacks() as callbacks:
        evaluation = services.sla_evaluate(sow_id=sow.pk, period=date(2026, 3, 1))
    again = services.sla_evaluate(sow_id=sow.pk, period=date(2026, 3, 1))

    assert (evaluation.credit_total, evaluation.bonus_total) == (Decimal("500.00"), Decimal("300.00"))
    assert again.pk == evaluation.pk and SLAEvaluation.objects.count() == 1
    assert list(SLABreach.objects.values_list("metric", "measured_value")) == [
        ("first_response_minutes", Decimal("75.00"))
    ]
    assert len(task_callbacks(callbacks)) == 2  # the SLA report to both sides and the month's invoice to the client
