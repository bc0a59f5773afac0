"""Statement-of-work writes: draft (by either side), edit terms and service levels while a draft, propose, send
back, sign (an owner or admin of each side, recorded with who and when), activate through the compliance gate on
the start date, end; and time-and-materials usage against the vendor's rate card."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone as django_timezone

from accounts.models import Membership, Organization
from core.errors import ApplicationError
from core.money import CURRENCIES, quantize
from core.services import audit_record
from engagements.models import ServiceLevel, SOWUsage, StatementOfWork
from engagements.selectors import CLIENT, WORKER, sow_get_for_update

if TYPE_CHECKING:
    from accounts.models import User

Pricing = StatementOfWork.Pricing
Metric = ServiceLevel.Metric
Direction = ServiceLevel.Direction

# What each metric means and which values make sense: (direction that is better, lowest, highest).
METRIC_RULES: dict[str, tuple[str, Decimal, Decimal]] = {
    Metric.FIRST_RESPONSE_MINUTES: (Direction.AT_MOST, Decimal(0), Decimal(100_000)),
    Metric.RESOLUTION_HOURS: (Direction.AT_MOST, Decimal(0), Decimal(100_000)),
    Metric.RESOLUTION_RATE_PCT: (Direction.AT_LEAST, Decimal(0), Decimal(100)),
    Metric.CSAT: (Direction.AT_LEAST, Decimal(1), Decimal(5)),
    Metric.UPTIME_PCT: (Direction.AT_LEAST, Decimal(0), Decimal(100)),
    Metric.BACKLOG_AGE_HOURS: (Direction.AT_MOST, Decimal(0), Decimal(100_000)),
}


def metric_value_error(metric: str, value: Decimal) -> str | None:
    """Why `value` can't be a reading of `metric`, or None."""
    _direction, low, high = METRIC_RULES[metric]
    if not value.is_finite() or value < low or value > high:
        return f"{Metric(metric).label} must be between {low} and {high}."
    if value != value.quantize(Decimal("0.01")):
        return "Use at most two decimal places."
    return None


@dataclass
class SOWInput:
    title: str
    scope: str
    start_date: date
    pricing_model: str
    currency: str
    deliverables: str = ""
    end_date: date | None = None
    monthly_fee: Decimal | None = None
    monthly_budget_cap: Decimal | None = None
    credit_cap_pct: Decimal = Decimal("20")
    bonus_cap_pct: Decimal = Decimal("10")


@dataclass
class ServiceLevelInput:
    metric: str
    target: Decimal
    credit_pct: Decimal = Decimal("0")
    direction: str = ""  # empty = the metric's natural direction
    stretch_target: Decimal | None = None
    bonus_pct: Decimal = Decimal("0")
    errors: dict[str, list[str]] = field(default_factory=dict, repr=False)


def _check_percent(errors: dict[str, list[str]], name: str, value: Decimal | None) -> None:
    if value is None or not (0 <= value <= 100):
        errors[name] = ["Enter a percentage from 0 to 100."]


def _amount(value: Decimal | None, currency: str) -> Decimal | None:
    if value is None or currency not in CURRENCIES:
        return value
    return quantize(value, currency)


def _validated_terms(data: SOWInput) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = ["Give the statement of work a title."]
    if not data.scope.strip():
        errors["scope"] = ["Describe the scope of the work."]
    if data.pricing_model not in Pricing.values:
        errors["pricing_model"] = ["Choose fixed monthly, time and materials or outcome-based."]
    if data.end_date and data.start_date and data.end_date < data.start_date:
        errors["end_date"] = ["The end date must be on or after the start date."]
    # Only the marketplace's currencies: amounts are stored with two decimals, which a three-decimal currency
    # (KWD, BHD, …) would lose.
    if data.currency not in CURRENCIES:
        errors["currency"] = [f"“{data.currency}” is not a currency we bill in; choose one of the listed currencies."]
    fee = _amount(data.monthly_fee, data.currency)
    cap = _amount(data.monthly_budget_cap, data.currency)
    if data.pricing_model == Pricing.TIME_AND_MATERIALS:
        if cap is None or cap <= 0:
            errors["monthly_budget_cap"] = ["Time and materials needs a monthly budget cap above zero."]
        fee = None
    elif data.pricing_model in Pricing.values:
        if fee is None or fee <= 0:
            errors["monthly_fee"] = ["Enter the monthly fee (above zero)."]
        cap = None
    _check_percent(errors, "credit_cap_pct", data.credit_cap_pct)
    _check_percent(errors, "bonus_cap_pct", data.bonus_cap_pct)
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    return {
        "title": data.title.strip(),
        "scope": data.scope.strip(),
        "deliverables": data.deliverables.strip(),
        "start_date": data.start_date,
        "end_date": data.end_date,
        "pricing_model": data.pricing_model,
        "currency": data.currency,
        "monthly_fee": fee,
        "monthly_budget_cap": cap,
        "credit_cap_pct": data.credit_cap_pct,
        "bonus_cap_pct": data.bonus_cap_pct,
    }


def _audit(sow: StatementOfWork, *, by: User | None, action: str, previous: str = "", **data: str) -> None:
    audit_record(
        actor=by,
        action=action,
        target=sow,
        organization=sow.organization,
        from_state=previous,
        to_state=sow.status if previous else "",
        data=data,
    )


def _transition(sow: StatementOfWork, new_status: str, *, by: User | None, action: str, **data: str) -> None:
    previous = sow.transition_to(new_status)
    sow.save()
    _audit(sow, by=by, action=action, previous=previous, **data)


def _require_manager(role: str, what: str) -> None:
    if role not in Membership.MANAGER_ROLES:
        raise ApplicationError(f"Only an owner or admin of your organisation can {what}.", status=403)


def _require_draft(sow: StatementOfWork) -> None:
    if sow.status != StatementOfWork.Status.DRAFT:
        raise ApplicationError(
            "This statement of work is no longer a draft; send it back to draft to change it.", status=409
        )


@transaction.atomic
def sow_create(*, organization_id: int, counterparty_id: int, data: SOWInput, by: User) -> StatementOfWork:
    """A draft SOW between a client and a vendor firm, written by either side (`organization_id` is the
    author's organisation, `counterparty_id` the other side)."""
    membership = Membership.objects.filter(user=by, organization_id=organization_id).select_related("organization")
    author = membership.first()
    if author is None:
        raise Organization.DoesNotExist
    if author.role == Membership.Role.FINANCE:
        raise ApplicationError(
            "Finance members can't write statements of work; ask an owner, admin or member.", status=403
        )
    counterparty = Organization.objects.filter(pk=counterparty_id).first()
    expected = Organization.Kind.VENDOR if author.organization.kind == Organization.Kind.CLIENT else "client"
    if counterparty is None or counterparty.kind != expected or counterparty.pk == organization_id:
        side = "vendor firm" if expected == Organization.Kind.VENDOR else "client organisation"
        raise ApplicationError(
            f"Choose the {side} this statement of work is with.", field_errors={"counterparty": [f"Choose a {side}."]}
        )
    terms = _validated_terms(data)
    client, vendor = (
        (author.organization, counterparty)
        if expected == Organization.Kind.VENDOR
        else (counterparty, author.organization)
    )
    sow = StatementOfWork.objects.create(organization=client, vendor=vendor, created_by=by, **terms)
    _audit(sow, by=by, action="sow.created", side=CLIENT if client == author.organization else WORKER)
    return sow


@transaction.atomic
def sow_update(*, sow_id: int, data: SOWInput, by: User) -> StatementOfWork:
    sow, _side, role = sow_get_for_update(sow_id=sow_id, user=by)
    if role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't change statements of work.", status=403)
    _require_draft(sow)
    terms = _validated_terms(data)
    if terms["pricing_model"] != Pricing.OUTCOME_BASED and sow.service_levels.filter(bonus_pct__gt=0).exists():
        # The same rule service_level_set holds: bonuses belong to outcome-based pricing only.
        raise ApplicationError(
            "Please correct the highlighted fields.",
            field_errors={
                "pricing_model": [
                    "Bonuses are part of outcome-based pricing; set the service levels' bonuses to 0 first."
                ]
            },
        )
    for name, value in terms.items():
        setattr(sow, name, value)
    sow.save()
    _audit(sow, by=by, action="sow.updated")
    return sow


def _validated_level(sow: StatementOfWork, data: ServiceLevelInput) -> dict[str, object]:
    errors: dict[str, list[str]] = {}
    if data.metric not in METRIC_RULES:
        raise ApplicationError("Choose a metric.", field_errors={"metric": ["Choose one of the listed metrics."]})
    natural, _low, _high = METRIC_RULES[data.metric]
    direction = data.direction or natural
    if direction not in Direction.values:
        errors["direction"] = ["Choose “at most” or “at least”."]
    for name in ("target", "stretch_target"):
        value = getattr(data, name)
        if value is not None and (problem := metric_value_error(data.metric, value)):
            errors[name] = [problem]
    if data.target is None:
        errors["target"] = ["Enter the target."]
    _check_percent(errors, "credit_pct", data.credit_pct)
    _check_percent(errors, "bonus_pct", data.bonus_pct)
    stretch = data.stretch_target
    if data.bonus_pct and data.bonus_pct > 0:
        if sow.pricing_model != Pricing.OUTCOME_BASED:
            errors["bonus_pct"] = ["Bonuses are part of outcome-based pricing; change the pricing or set 0."]
        elif stretch is None:
            errors["stretch_target"] = ["A bonus is paid above a stretch target: enter one."]
    if stretch is not None and data.target is not None and "target" not in errors and "stretch_target" not in errors:
        better = stretch < data.target if direction == Direction.AT_MOST else stretch > data.target
        if not better:
            side = "below" if direction == Direction.AT_MOST else "above"
            errors["stretch_target"] = [f"The stretch target must be better than the target ({side} {data.target})."]
    if errors:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    return {
        "direction": direction,
        "target": data.target,
        "credit_pct": data.credit_pct,
        "stretch_target": stretch,
        "bonus_pct": data.bonus_pct or Decimal(0),
    }


@transaction.atomic
def service_level_set(*, sow_id: int, data: ServiceLevelInput, by: User) -> ServiceLevel:
    """Add the service level for a metric, or change it if the SOW already has one (drafts only)."""
    sow, _side, role = sow_get_for_update(sow_id=sow_id, user=by)
    if role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't change statements of work.", status=403)
    _require_draft(sow)
    values = _validated_level(sow, data)
    level, created = ServiceLevel.objects.update_or_create(sow=sow, metric=data.metric, defaults=values)
    _audit(
        sow, by=by, action="sow.service_level_added" if created else "sow.service_level_changed", metric=level.metric
    )
    return level


@transaction.atomic
def service_level_remove(*, service_level_id: int, by: User) -> None:
    sow_id = ServiceLevel.objects.filter(pk=service_level_id).values_list("sow_id", flat=True).first()
    if sow_id is None:
        raise ServiceLevel.DoesNotExist
    try:
        sow, _side, role = sow_get_for_update(sow_id=sow_id, user=by)
    except StatementOfWork.DoesNotExist as error:
        raise ServiceLevel.DoesNotExist from error
    if role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't change statements of work.", status=403)
    _require_draft(sow)
    level = ServiceLevel.objects.get(pk=service_level_id)
    level.delete()
    _audit(sow, by=by, action="sow.service_level_removed", metric=level.metric)


@transaction.atomic
def sow_propose(*, sow_id: int, by: User) -> StatementOfWork:
    """draft → proposed: the terms are frozen and go to the other side for signature."""
    sow, _side, role = sow_get_for_update(sow_id=sow_id, user=by)
    if role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't propose statements of work.", status=403)
    if sow.pricing_model == Pricing.OUTCOME_BASED and not sow.service_levels.exists():
        raise ApplicationError("Outcome-based pricing needs at least one service level before it can be proposed.")
    sow.proposed_by, sow.proposed_at, sow.returned_note = by, django_timezone.now(), ""
    _transition(sow, StatementOfWork.Status.PROPOSED, by=by, action="sow.proposed")
    return sow


@transaction.atomic
def sow_return_to_draft(*, sow_id: int, by: User, note: str = "") -> StatementOfWork:
    """proposed → draft (withdrawn by the proposer, or sent back by the other side with a note). Signatures on
    the proposed terms are cleared: changed terms must be signed again."""
    sow, _side, role = sow_get_for_update(sow_id=sow_id, user=by)
    if role == Membership.Role.FINANCE:
        raise ApplicationError("Finance members can't change statements of work.", status=403)
    if sow.status != StatementOfWork.Status.PROPOSED:
        raise ApplicationError("Only a proposed statement of work can go back to draft.", status=409)
    sow.client_signed_by = sow.vendor_signed_by = None
    sow.client_signed_at = sow.vendor_signed_at = None
    sow.returned_note = note.strip()
    _transition(sow, StatementOfWork.Status.DRAFT, by=by, action="sow.returned_to_draft", note=note.strip())
    return sow


@transaction.atomic
def sow_sign(*, sow_id: int, by: User) -> StatementOfWork:
    """An owner or admin signs for their side; when both sides have signed the SOW is signed, and it starts at
    once if its start date has come and the compliance gate lets it."""
    sow, side, role = sow_get_for_update(sow_id=sow_id, user=by)
    _require_manager(role, "sign a statement of work")
    if sow.status != StatementOfWork.Status.PROPOSED:
        raise ApplicationError("Only a proposed statement of work can be signed.", status=409)
    now = django_timezone.now()
    if side == CLIENT:
        if sow.client_signed_at:
            raise ApplicationError("Your organisation has already signed.", status=409)
        sow.client_signed_by, sow.client_signed_at = by, now
    else:
        if sow.vendor_signed_at:
            raise ApplicationError("Your firm has already signed.", status=409)
        sow.vendor_signed_by, sow.vendor_signed_at = by, now
    sow.save()
    _audit(sow, by=by, action="sow.signed", side=side)
    if sow.is_signed_by_both:
        _transition(sow, StatementOfWork.Status.SIGNED, by=by, action="sow.fully_signed")
        _activate_if_ready(sow, by=by)
    return sow


def sow_activation_blockers(sow: StatementOfWork) -> list[str]:
    from compliance.selectors import sow_activation_blockers as blockers

    reasons = list(blockers(sow=sow))
    if sow.start_date > django_timezone.localdate():
        reasons.insert(0, f"It starts on {sow.start_date:%-d %B %Y}.")
    return reasons


def _activate_if_ready(sow: StatementOfWork, *, by: User | None) -> bool:
    if sow.status != StatementOfWork.Status.SIGNED or sow_activation_blockers(sow):
        return False
    sow.activated_at = django_timezone.now()
    _transition(sow, StatementOfWork.Status.ACTIVE, by=by, action="sow.activated")
    return True


@transaction.atomic
def sows_activate_due() -> int:
    """Daily: start signed SOWs whose start date has come (and the compliance gate allows), and end active SOWs
    past their end date. Idempotent: a second run finds nothing to do."""
    today = django_timezone.localdate()
    changed = 0
    for sow in StatementOfWork.objects.select_for_update(skip_locked=True).filter(
        status=StatementOfWork.Status.SIGNED, start_date__lte=today
    ):
        changed += _activate_if_ready(sow, by=None)
    for sow in StatementOfWork.objects.select_for_update(skip_locked=True).filter(
        status=StatementOfWork.Status.ACTIVE, end_date__lt=today
    ):
        sow.ended_at, sow.end_reason = django_timezone.now(), "Reached its end date."
        _transition(sow, StatementOfWork.Status.ENDED, by=None, action="sow.ended")
        changed += 1
    return changed


@transaction.atomic
def sow_end(*, sow_id: int, by: User, reason: str) -> StatementOfWork:
    """Either side's owner or admin ends a signed or active SOW early, with a reason."""
    sow, _side, role = sow_get_for_update(sow_id=sow_id, user=by)
    _require_manager(role, "end a statement of work")
    if not reason.strip():
        raise ApplicationError("Say why the statement of work ends.", field_errors={"reason": ["Give a reason."]})
    sow.ended_at, sow.end_reason = django_timezone.now(), reason.strip()
    _transition(sow, StatementOfWork.Status.ENDED, by=by, action="sow.ended", reason=reason.strip())
    return sow


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def sow_months(sow: StatementOfWork, *, until: date | None = None) -> list[date]:
    """First days of the months the SOW covers, up to `until` (default: this month)."""
    # A SOW ended early covers the months up to the day it was ended, not up to its planned end date.
    ended = django_timezone.localdate(sow.ended_at) if sow.ended_at else None
    last_day = min(filter(None, [sow.end_date, ended, until or django_timezone.localdate()]))
    if last_day < sow.start_date:
        return []
    last = month_start(last_day)
    months, current = [], month_start(sow.start_date)
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months


@transaction.atomic
def sow_usage_add(
    *, sow_id: int, period: date, rate_card_entry_id: int, quantity: Decimal, by: User, description: str = ""
) -> SOWUsage:
    """Time-and-materials: the vendor records a month's use of a rate-card role; the rate is fixed now. The
    month's usage may not exceed the SOW's monthly budget cap."""
    from talent.models import RateCardEntry

    sow, side, _role = sow_get_for_update(sow_id=sow_id, user=by)
    if side != WORKER:
        raise ApplicationError("Usage is reported by the vendor.", status=403)
    if sow.pricing_model != Pricing.TIME_AND_MATERIALS:
        raise ApplicationError("Usage is recorded on time-and-materials statements of work only.")
    if sow.status not in (StatementOfWork.Status.ACTIVE, StatementOfWork.Status.ENDED):
        raise ApplicationError("Usage can be recorded once the statement of work is active.", status=409)
    errors: dict[str, list[str]] = {}
    period = month_start(period)
    if period not in sow_months(sow):
        errors["period"] = ["Choose a month within the statement of work, up to this month."]
    elif sow.evaluations.filter(period=period).exists():
        errors["period"] = [f"{period:%B %Y} has been evaluated and invoiced; it can't change."]
    entry = RateCardEntry.objects.filter(pk=rate_card_entry_id, vendor__organization_id=sow.vendor_id).first()
    if entry is None:
        errors["rate_card_entry"] = ["Choose a role from your firm's rate card."]
    elif entry.currency != sow.currency:
        errors["rate_card_entry"] = [f"This rate is in {entry.currency}; the statement of work is in {sow.currency}."]
    # Multiples of 0.25 (quantize(Decimal("0.25")) would only round to two decimals and let 7.3 through).
    if quantity is None or not quantity.is_finite() or quantity <= 0 or quantity % Decimal("0.25") != 0:
        errors["quantity"] = ["Enter a quantity above zero, in quarter units (for example 7.5)."]
    if errors or entry is None:
        raise ApplicationError("Please correct the highlighted fields.", field_errors=errors)
    amount = quantize(entry.rate * quantity, sow.currency)
    used = SOWUsage.objects.filter(sow=sow, period=period).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    assert sow.monthly_budget_cap is not None
    if used + amount > sow.monthly_budget_cap:
        left = sow.monthly_budget_cap - used
        raise ApplicationError(
            f"This would bring {period:%B %Y} to {used + amount} {sow.currency}, over the monthly cap of "
            f"{sow.monthly_budget_cap}; {left} {sow.currency} is left.",
            field_errors={"quantity": [f"At most {left} {sow.currency} is left this month."]},
        )
    usage = SOWUsage.objects.create(
        sow=sow,
        period=period,
        rate_card_entry=entry,
        role=f"{entry.role} ({entry.get_seniority_display()})",
        unit=entry.unit,
        unit_rate=entry.rate,
        currency=sow.currency,
        quantity=quantity,
        amount=amount,
        description=description.strip(),
        recorded_by=by,
    )
    _audit(sow, by=by, action="sow.usage_recorded", amount=str(amount), period=f"{period:%Y-%m}")
    return usage
