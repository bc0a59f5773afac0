"""Service-level measurement and monthly evaluation: record a month's value of a metric (one at a time or by CSV,
every row checked, nothing saved unless all rows are good), and evaluate a finished month exactly once per SOW:
attainment, breaches, credits and bonuses (Decimal, capped), handed to billing, both sides told by email."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone as django_timezone

from core.bulk import all_or_nothing
from core.errors import ApplicationError
from core.money import currency_exponent, quantize
from core.services import audit_record
from engagements.models import ServiceLevel, SLABreach, SLAEvaluation, SLAMeasurement, SOWUsage, StatementOfWork
from engagements.selectors import CLIENT, sow_get_for_update
from engagements.services.sows import METRIC_RULES, metric_value_error, month_start, next_month, sow_months

if TYPE_CHECKING:
    from accounts.models import User

Source = SLAMeasurement.Source
MEASURABLE = (StatementOfWork.Status.ACTIVE, StatementOfWork.Status.ENDED)
IMPORT_MAX_ROWS = 5_000
IMPORT_MAX_BYTES = 1024 * 1024


# --- arithmetic ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LevelOutcome:
    service_level: ServiceLevel
    value: Decimal | None  # None: not reported, which counts as missed
    is_met: bool
    is_stretch_met: bool
    credit: Decimal
    bonus: Decimal

    def as_line(self) -> dict[str, object]:
        level = self.service_level
        return {
            "service_level_id": level.pk,
            "metric": level.metric,
            "direction": level.direction,
            "target": str(level.target),
            "stretch_target": None if level.stretch_target is None else str(level.stretch_target),
            "value": None if self.value is None else str(self.value),
            "met": self.is_met,
            "stretch_met": self.is_stretch_met,
            "credit": str(self.credit),
            "bonus": str(self.bonus),
        }


@dataclass(frozen=True)
class Settlement:
    currency: str
    fee_base: Decimal
    outcomes: tuple[LevelOutcome, ...]
    credits_before_cap: Decimal
    credit_total: Decimal
    bonuses_before_cap: Decimal
    bonus_total: Decimal


def _cap(fee_base: Decimal, pct: Decimal, currency: str) -> Decimal:
    # Rounded down: a cap of 12.5 % of 10.01 allows 1.25, never 1.26.
    return (fee_base * pct / 100).quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUND_DOWN)


def sla_settle(
    *,
    fee_base: Decimal,
    currency: str,
    levels: Sequence[ServiceLevel],
    values: Mapping[str, Decimal | None],
    credit_cap_pct: Decimal,
    bonus_cap_pct: Decimal,
    bonuses_allowed: bool,
) -> Settlement:
    """Each missed level earns the client `credit_pct` of the fee; each level at its stretch target earns the
    vendor `bonus_pct` (outcome-based pricing only). Every amount is rounded to the currency's minor unit, and the
    month's totals are capped at `credit_cap_pct` / `bonus_cap_pct` of the fee."""
    fee_base = quantize(fee_base, currency)
    zero = quantize(Decimal(0), currency)  # "0.00" (USD), "0" (JPY), "0.000" (KWD): every amount has the minor unit
    outcomes = []
    for level in levels:
        value = values.get(level.metric)
        met = value is not None and level.is_met(value)
        stretch = bonuses_allowed and value is not None and level.is_stretch_met(value)
        outcomes.append(
            LevelOutcome(
                service_level=level,
                value=value,
                is_met=met,
                is_stretch_met=stretch,
                credit=zero if met else quantize(fee_base * level.credit_pct / 100, currency),
                bonus=quantize(fee_base * level.bonus_pct / 100, currency) if stretch else zero,
            )
        )
    credits = sum((outcome.credit for outcome in outcomes), zero)
    bonuses = sum((outcome.bonus for outcome in outcomes), zero)
    return Settlement(
        currency=currency,
        fee_base=fee_base,
        outcomes=tuple(outcomes),
        credits_before_cap=quantize(credits, currency),
        credit_total=max(zero, min(quantize(credits, currency), _cap(fee_base, credit_cap_pct, currency))),
        bonuses_before_cap=quantize(bonuses, currency),
        bonus_total=max(zero, min(quantize(bonuses, currency), _cap(fee_base, bonus_cap_pct, currency))),
    )


# --- measurements -------------------------------------------------------------------------------------------------
def parse_period(raw: str) -> date | None:
    """'2026-04' or '2026-04-01' → 2026-04-01; None if it is neither."""
    text = (raw or "").strip()
    for pattern in ("%Y-%m", "%Y-%m-%d"):
        try:
            return month_start(datetime.strptime(text, pattern).date())
        except ValueError:
            continue
    return None


class _Rules:
    """What a SOW accepts as a measurement, loaded once (so a CSV of any length costs a constant number of
    queries)."""

    def __init__(self, sow: StatementOfWork) -> None:
        self.sow = sow
        self.metrics = set(sow.service_levels.values_list("metric", flat=True))
        self.months = set(sow_months(sow))
        self.evaluated = set(sow.evaluations.values_list("period", flat=True))

    def errors(self, metric: str, period: date | None, value: Decimal | None) -> dict[str, str]:
        problems: dict[str, str] = {}
        if metric not in METRIC_RULES:
            problems["metric"] = f"“{metric}” is not a metric; use one of {', '.join(METRIC_RULES)}."
        elif metric not in self.metrics:
            problems["metric"] = f"This statement of work has no service level for {ServiceLevel.Metric(metric).label}."
        if period is None:
            problems["period"] = "Give the month as YYYY-MM."
        elif period not in self.months:
            problems["period"] = "The month must be within the statement of work and not in the future."
        elif period in self.evaluated:
            problems["period"] = f"{period:%B %Y} has been evaluated; its measurements are final."
        if value is None:
            problems["value"] = "Enter a number."
        elif metric in METRIC_RULES and (problem := metric_value_error(metric, value)):
            problems["value"] = problem
        return problems


def _source_for(side: str, source: str | None) -> str:
    if source is not None:
        if source not in Source.values:
            raise ApplicationError("Unknown measurement source.")
        return source
    return Source.CLIENT_ENTRY if side == CLIENT else Source.VENDOR_REPORT


def _lock_measurable(sow_id: int, by: User) -> tuple[StatementOfWork, str]:
    sow, side, role = sow_get_for_update(sow_id=sow_id, user=by)
    if role == "finance":
        raise ApplicationError("Finance members can't record measurements.", status=403)
    if sow.status not in MEASURABLE:
        raise ApplicationError("Measurements can be recorded once the statement of work is active.", status=409)
    return sow, side


@transaction.atomic
def sla_measurement_record(
    *, sow_id: int, metric: str, period: date, value: Decimal, by: User, source: str | None = None, note: str = ""
) -> SLAMeasurement:
    """Record a month's value of a metric, or correct it until the month has been evaluated."""
    sow, side = _lock_measurable(sow_id, by)
    period = month_start(period) if period else period
    problems = _Rules(sow).errors(metric, period, value)
    if problems:
        raise ApplicationError(
            next(iter(problems.values())), field_errors={name: [text] for name, text in problems.items()}
        )
    measurement, created = SLAMeasurement.objects.select_for_update().get_or_create(
        sow=sow,
        metric=metric,
        period=period,
        defaults={"value": value, "source": _source_for(side, source), "recorded_by": by, "note": note.strip()},
    )
    previous = "" if created else str(measurement.value)
    if not created:
        measurement.value, measurement.recorded_by = value, by
        measurement.source, measurement.note = _source_for(side, source), note.strip()
        measurement.save()
    audit_record(
        actor=by,
        action="sla.measurement_recorded" if created else "sla.measurement_corrected",
        target=measurement,
        organization=sow.organization,
        data={"metric": metric, "period": f"{period:%Y-%m}", "value": str(value), "previous": previous},
    )
    return measurement


@dataclass(frozen=True)
class MeasurementInput:
    metric: str
    period: date
    value: Decimal
    note: str = ""


def sla_measurements_record(
    *, sow_id: int, measurements: Sequence[MeasurementInput], by: User, source: str | None = None
) -> list[SLAMeasurement]:
    """Record several months or metrics at once (the partner API's bulk call): each checked by
    sla_measurement_record's rules, all saved or none; field errors come back by index (BulkApplicationError), a
    refusal of the whole call names its measurement."""
    return all_or_nothing(
        measurements,
        lambda row: sla_measurement_record(
            sow_id=sow_id, metric=row.metric, period=row.period, value=row.value, note=row.note, source=source, by=by
        ),
        collection="measurements",
        label="measurement",
    )


@dataclass(frozen=True)
class MeasurementImportResult:
    created: int
    updated: int


def _import_error(message: str, rows: list[str] | None = None) -> ApplicationError:
    listed = rows or [message]
    return ApplicationError(
        f"Nothing was saved: {message}", code="invalid_measurements_file", field_errors={"file": listed}
    )


@transaction.atomic
def sla_measurements_import(
    *, sow_id: int, file: IO[bytes], by: User, source: str | None = None
) -> MeasurementImportResult:
    """A CSV with the columns metric, period (YYYY-MM), value and optionally note. Every row is checked first;
    each bad row gets its own message and nothing is saved unless every row is good."""
    sow, side = _lock_measurable(sow_id, by)
    raw = file.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        raise _import_error("the file is larger than 1 MB; split it.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _import_error("the file is not UTF-8 text; save it as CSV (UTF-8).") from None
    if "\x00" in text:
        raise _import_error("the file is not CSV text; save it as CSV (UTF-8).")
    try:
        return _import_rows(sow, side, text, by=by, source=source)
    except csv.Error:
        # A row the csv module refuses (a field over its 128 KB limit, …) is a bad file, not a server error.
        raise _import_error("the file is not valid CSV; save it as CSV (UTF-8).") from None


def _import_rows(
    sow: StatementOfWork, side: str, text: str, *, by: User, source: str | None
) -> MeasurementImportResult:
    # newline="": the csv module splits the lines itself, so files with old Mac (CR-only) line ends read too.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = [name for name in ("metric", "period", "value") if name not in headers]
    if missing:
        raise _import_error(
            f"the header row needs the columns metric, period and value (missing: {', '.join(missing)})."
        )
    rules = _Rules(sow)
    rows: dict[tuple[str, date], tuple[Decimal, str]] = {}
    first_row: dict[tuple[str, date], int] = {}
    messages: list[str] = []
    for count, record in enumerate(reader, start=1):
        if count > IMPORT_MAX_ROWS:
            raise _import_error(f"the file has more than {IMPORT_MAX_ROWS} rows.")
        # The line in the file (DictReader skips blank lines, so counting records would misnumber the rows after
        # one).
        number = reader.line_num
        record = {(key or "").strip().lower(): (value or "").strip() for key, value in record.items() if key}
        if not any(record.values()):
            continue
        metric, period = record.get("metric", ""), parse_period(record.get("period", ""))
        try:
            value: Decimal | None = Decimal(record.get("value", ""))
        except InvalidOperation:
            value = None
        problems = list(rules.errors(metric, period, value).values())
        if period is not None and (metric, period) in first_row:
            problems.append(f"{metric} for {period:%Y-%m} is already on row {first_row[(metric, period)]}.")
        if problems:
            messages.extend(f"Row {number}: {problem}" for problem in problems)
            continue
        assert period is not None and value is not None
        first_row[(metric, period)] = number
        rows[(metric, period)] = (value, record.get("note", "")[:300])
    if messages:
        raise _import_error(f"{len(messages)} problem(s) in the file; fix them and upload it again.", messages[:200])
    if not rows:
        raise _import_error("the file has no measurements.")
    existing = {
        (m.metric, m.period): m
        for m in SLAMeasurement.objects.select_for_update().filter(
            sow=sow, metric__in={metric for metric, _ in rows}, period__in={period for _, period in rows}
        )
    }
    source_value = _source_for(side, source)
    now = django_timezone.now()
    new, changed = [], []
    previous: dict[str, str] = {}
    for (metric, period), (value, note) in rows.items():
        if (metric, period) in existing:
            measurement = existing[(metric, period)]
            # Corrections keep their previous value in the audit trail, as sla_measurement_record's do.
            previous[f"{metric} {period:%Y-%m}"] = str(measurement.value)
            measurement.value, measurement.note, measurement.source, measurement.recorded_by = (
                value,
                note,
                source_value,
                by,
            )
            measurement.updated_at = now  # bulk_update doesn't apply auto_now
            changed.append(measurement)
        else:
            new.append(
                SLAMeasurement(
                    sow=sow, metric=metric, period=period, value=value, note=note, source=source_value, recorded_by=by
                )
            )
    SLAMeasurement.objects.bulk_create(new)
    SLAMeasurement.objects.bulk_update(changed, ["value", "note", "source", "recorded_by", "updated_at"])
    audit_record(
        actor=by,
        action="sla.measurements_imported",
        target=sow,
        organization=sow.organization,
        data={"created": str(len(new)), "updated": str(len(changed)), "previous": previous},
    )
    return MeasurementImportResult(created=len(new), updated=len(changed))


# --- monthly evaluation -------------------------------------------------------------------------------------------
def sow_fee_base(*, sow: StatementOfWork, period: date) -> Decimal:
    """What the month is billed before SLA adjustments: the monthly fee, or the month's time-and-materials usage
    (which the budget cap already bounds)."""
    if sow.pricing_model == StatementOfWork.Pricing.TIME_AND_MATERIALS:
        used = SOWUsage.objects.filter(sow=sow, period=period).aggregate(total=Sum("amount"))["total"]
        return min(used or Decimal(0), sow.monthly_budget_cap or Decimal(0))
    return sow.monthly_fee or Decimal(0)


def evaluation_due_months(*, sow: StatementOfWork, today: date | None = None) -> list[date]:
    """Finished months of the SOW, past the reporting grace days, not yet evaluated."""
    today = today or django_timezone.localdate()
    grace = timedelta(days=settings.SLA_EVALUATION_GRACE_DAYS)
    done = set(sow.evaluations.values_list("period", flat=True))
    return [month for month in sow_months(sow, until=today) if next_month(month) + grace <= today and month not in done]


@transaction.atomic
def sla_evaluate(*, sow_id: int, period: date) -> SLAEvaluation:
    """Evaluate one finished month of an active or ended SOW, once: a second call returns the stored evaluation
    and changes nothing."""
    from billing.services import invoice_issue_for_sow_month
    from engagements.tasks import sla_evaluation_email_send

    # of=self: lock the SOW only, not the client organisation's row that select_related joins in.
    sow = StatementOfWork.objects.select_for_update(of=("self",)).select_related("organization").get(pk=sow_id)
    period = month_start(period)
    existing = SLAEvaluation.objects.filter(sow=sow, period=period).first()
    if existing is not None:
        return existing
    if sow.status not in MEASURABLE:
        raise ApplicationError("Only active or ended statements of work are evaluated.", status=409)
    if period not in sow_months(sow) or next_month(period) > django_timezone.localdate():
        raise ApplicationError(f"{period:%B %Y} is not a finished month of this statement of work.", status=409)
    levels = list(sow.service_levels.all())
    values = dict(SLAMeasurement.objects.filter(sow=sow, period=period).values_list("metric", "value"))
    settlement = sla_settle(
        fee_base=sow_fee_base(sow=sow, period=period),
        currency=sow.currency,
        levels=levels,
        values=values,
        credit_cap_pct=sow.credit_cap_pct,
        bonus_cap_pct=sow.bonus_cap_pct,
        bonuses_allowed=sow.pricing_model == StatementOfWork.Pricing.OUTCOME_BASED,
    )
    evaluation = SLAEvaluation.objects.create(
        sow=sow,
        period=period,
        currency=sow.currency,
        fee_base=settlement.fee_base,
        credits_before_cap=settlement.credits_before_cap,
        credit_total=settlement.credit_total,
        bonuses_before_cap=settlement.bonuses_before_cap,
        bonus_total=settlement.bonus_total,
        levels_met=sum(outcome.is_met for outcome in settlement.outcomes),
        levels_total=len(settlement.outcomes),
        lines=[outcome.as_line() for outcome in settlement.outcomes],
    )
    SLABreach.objects.bulk_create(
        SLABreach(
            evaluation=evaluation,
            sow=sow,
            service_level=outcome.service_level,
            period=period,
            metric=outcome.service_level.metric,
            direction=outcome.service_level.direction,
            target=outcome.service_level.target,
            measured_value=outcome.value,
            credit_amount=outcome.credit,
            currency=sow.currency,
        )
        for outcome in settlement.outcomes
        if not outcome.is_met
    )
    audit_record(
        actor=None,
        action="sla.evaluated",
        target=evaluation,
        organization=sow.organization,
        data={
            "period": f"{period:%Y-%m}",
            "breaches": str(evaluation.levels_total - evaluation.levels_met),
            "credit": str(evaluation.credit_total),
            "bonus": str(evaluation.bonus_total),
        },
    )
    invoice_issue_for_sow_month(evaluation=evaluation)  # the month's invoice: fee, minus credits, plus bonuses
    sla_evaluation_email_send.delay_on_commit(evaluation_id=evaluation.pk)  # type: ignore[attr-defined]
    return evaluation


def sla_evaluations_run(*, today: date | None = None) -> int:
    """Daily: evaluate every finished, unevaluated month of every active or ended SOW (each in its own
    transaction; idempotent)."""
    count = 0
    for sow in StatementOfWork.objects.filter(status__in=MEASURABLE).prefetch_related("evaluations"):
        for period in evaluation_due_months(sow=sow, today=today):
            sla_evaluate(sow_id=sow.pk, period=period)
            count += 1
    return count
