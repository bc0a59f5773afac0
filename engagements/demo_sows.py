"""Demo statements of work for `seed_demo`: vendor engagements in every state, with six months of SLA history.

- outcome-based (Ledgerline Payments ↔ Indus Ridge Solutions): monthly fee, credits for misses, bonuses at stretch
  targets; a ramp-up miss, a peak-season month with two misses, a month at every stretch target;
- fixed monthly (Harbourview Health Partners ↔ Bayanihan Contact Solutions): an outage month whose credits hit
  the cap, and a month where the vendor didn't report CSAT;
- time and materials (Copperleaf Outfitters ↔ Indus Ridge Solutions): monthly usage from the vendor's rate card;
- proposed and signed by the client (Ledgerline Payments ↔ Nilgiri Data Services), waiting for the vendor;
- a draft the vendor is writing (Indus Ridge Solutions → Northquay Freight).

The active ones started on the first day of the month six months ago; their six finished months are measured
(one CSV import by the vendor) and evaluated. Everything goes through the services, so the audit trail, the
billing hand-over and the evaluation emails (sent after the commit by the worker) are as in real use. Idempotent:
a SOW that exists (same client, vendor and title) is left as it is, and the random generator is only used for
SOWs that are created.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone

from accounts.models import Membership, Organization, User
from core.money import quantize
from engagements.models import ServiceLevel, SLABreach, SLAEvaluation, SLAMeasurement, SOWUsage, StatementOfWork
from engagements.services import (
    ServiceLevelInput,
    SOWInput,
    service_level_set,
    sla_evaluate,
    sla_measurements_import,
    sow_create,
    sow_propose,
    sow_sign,
    sow_usage_add,
)
from engagements.services.sows import month_start, next_month
from talent.models import RateCardEntry

MONTHS = 6
Pricing = StatementOfWork.Pricing
Metric = ServiceLevel.Metric
# How a month went for one service level: met (not at stretch), missed, at the stretch target, not reported.
USUAL, MISSED, STRETCH, UNREPORTED = "usual", "missed", "stretch", "unreported"


@dataclass(frozen=True)
class LevelPlan:
    metric: str
    target: str
    credit_pct: str
    usual: tuple[str, str]  # readings that meet the target but not the stretch target
    missed: tuple[str, str]
    stretch_target: str | None = None
    bonus_pct: str = "0"
    stretch: tuple[str, str] | None = None

    def as_input(self) -> ServiceLevelInput:
        return ServiceLevelInput(
            metric=self.metric,
            target=Decimal(self.target),
            credit_pct=Decimal(self.credit_pct),
            stretch_target=None if self.stretch_target is None else Decimal(self.stretch_target),
            bonus_pct=Decimal(self.bonus_pct),
        )


@dataclass(frozen=True)
class SOWPlan:
    client: str  # organisation slugs
    vendor: str
    title: str
    scope: str
    deliverables: str
    pricing: str
    levels: tuple[LevelPlan, ...]
    state: str  # "active", "proposed" (signed by the client) or "draft" (written by the vendor)
    monthly_fee: str | None = None
    credit_cap_pct: str = "20"
    bonus_cap_pct: str = "10"
    term_months: int | None = None
    # month index (0 = the first month) → metric → how it went (USUAL when not listed), with the vendor's note
    events: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)


FIRST_RESPONSE_30 = LevelPlan(
    Metric.FIRST_RESPONSE_MINUTES, "30", "4", ("16", "28"), ("34", "52"), "15", "2", ("9", "14.5")
)
RESOLUTION_RATE_92 = LevelPlan(
    Metric.RESOLUTION_RATE_PCT, "92", "3", ("92.5", "95.5"), ("86", "91.5"), "96", "2", ("96.2", "98.4")
)
CSAT_43 = LevelPlan(Metric.CSAT, "4.3", "3", ("4.32", "4.55"), ("3.9", "4.25"), "4.6", "3", ("4.62", "4.81"))

PLANS = (
    SOWPlan(
        client="ledgerline-payments",
        vendor="indus-ridge-solutions",
        title="Cardholder support, tier 1 and 2",
        scope="Email and chat support for Ledgerline cardholders, 24/7, in English and Spanish: card activation, "
        "disputes intake, declined payments, account access.",
        deliverables="Staffed queues around the clock; weekly quality report; monthly SLA report by the 3rd.",
        pricing=Pricing.OUTCOME_BASED,
        monthly_fee="24000",
        credit_cap_pct="15",
        bonus_cap_pct="8",
        levels=(
            FIRST_RESPONSE_30,
            LevelPlan(Metric.RESOLUTION_HOURS, "24", "4", ("11", "22"), ("26", "38")),
            RESOLUTION_RATE_92,
            CSAT_43,
            LevelPlan(Metric.BACKLOG_AGE_HOURS, "48", "2", ("18", "44"), ("52", "80")),
        ),
        state="active",
        events={
            1: {Metric.FIRST_RESPONSE_MINUTES: (MISSED, "Ramp-up: twelve new agents still in training.")},
            3: {
                Metric.CSAT: (MISSED, "Card reissue campaign doubled dispute contacts."),
                Metric.BACKLOG_AGE_HOURS: (MISSED, "Reissue backlog cleared on the 24th."),
            },
            4: {
                Metric.FIRST_RESPONSE_MINUTES: (STRETCH, "Follow-the-sun rota in place."),
                Metric.RESOLUTION_RATE_PCT: (STRETCH, ""),
                Metric.CSAT: (STRETCH, ""),
            },
            5: {Metric.CSAT: (STRETCH, "")},
        },
    ),
    SOWPlan(
        client="harbourview-health-partners",
        vendor="bayanihan-contact-solutions",
        title="Patient help desk",
        scope="Phone and email help desk for patients: appointments, portal access, billing questions; escalation "
        "of clinical questions to Harbourview nurses within 15 minutes.",
        deliverables="A team of 14 agents and 2 leads, US business hours plus Saturday mornings; HIPAA training.",
        pricing=Pricing.FIXED_MONTHLY,
        monthly_fee="18500",
        credit_cap_pct="10",
        term_months=12,
        levels=(
            LevelPlan(Metric.FIRST_RESPONSE_MINUTES, "60", "5", ("22", "55"), ("70", "110")),
            LevelPlan(Metric.RESOLUTION_HOURS, "48", "3", ("20", "44"), ("52", "75")),
            LevelPlan(Metric.CSAT, "4.2", "3", ("4.22", "4.6"), ("3.8", "4.15")),
            LevelPlan(Metric.UPTIME_PCT, "99.5", "5", ("99.55", "99.98"), ("98.2", "99.3")),
        ),
        state="active",
        events={
            2: {
                Metric.UPTIME_PCT: (MISSED, "Telephony provider outage on the 9th and 10th."),
                Metric.FIRST_RESPONSE_MINUTES: (MISSED, "Calls queued during the outage."),
                Metric.RESOLUTION_HOURS: (MISSED, "Outage backlog."),
            },
            5: {Metric.CSAT: (UNREPORTED, "")},
        },
    ),
    SOWPlan(
        client="copperleaf-outfitters",
        vendor="indus-ridge-solutions",
        title="Peak-season team on the rate card",
        scope="Extra capacity from Indus Ridge's rate card for the spring and holiday peaks, billed by use each "
        "month up to the monthly cap.",
        deliverables="Roles and hours reported monthly; no minimum commitment.",
        pricing=Pricing.TIME_AND_MATERIALS,
        levels=(
            LevelPlan(Metric.BACKLOG_AGE_HOURS, "72", "2", ("24", "66"), ("80", "120")),
            LevelPlan(Metric.CSAT, "4", "2", ("4.05", "4.5"), ("3.6", "3.95")),
        ),
        state="active",
        events={0: {Metric.BACKLOG_AGE_HOURS: (MISSED, "First month: onboarding to Copperleaf's tools.")}},
    ),
    SOWPlan(
        client="ledgerline-payments",
        vendor="nilgiri-data-services",
        title="Chargeback evidence labelling",
        scope="Classify chargeback evidence documents (receipts, delivery proofs, correspondence) and extract the "
        "fields the card networks ask for.",
        deliverables="Labelled documents back within 24 hours; weekly accuracy audit of a 5% sample.",
        pricing=Pricing.FIXED_MONTHLY,
        monthly_fee="9800",
        levels=(
            LevelPlan(Metric.RESOLUTION_RATE_PCT, "98", "5", ("98", "99.5"), ("95", "97.9")),
            LevelPlan(Metric.BACKLOG_AGE_HOURS, "24", "3", ("8", "22"), ("26", "40")),
        ),
        state="proposed",
        term_months=12,
    ),
    SOWPlan(
        client="northquay-freight",
        vendor="indus-ridge-solutions",
        title="Shipment-exception desk",
        scope="Handle shipment exceptions (delays, damage, address problems) for Northquay's shippers by email "
        "and portal, and rebook with carriers.",
        deliverables="",
        pricing=Pricing.OUTCOME_BASED,
        monthly_fee="15000",
        levels=(
            LevelPlan(Metric.FIRST_RESPONSE_MINUTES, "20", "4", ("8", "18"), ("25", "40"), "10", "2", ("5", "9")),
            LevelPlan(Metric.RESOLUTION_HOURS, "12", "4", ("4", "11"), ("14", "20")),
        ),
        state="draft",
    ),
)


def seed_sows_demo(*, rng: random.Random) -> dict[str, int]:
    """Create the demo statements of work that don't exist yet; return how many rows of each kind there are."""
    slugs = {slug for plan in PLANS for slug in (plan.client, plan.vendor)}
    organizations = {org.slug: org for org in Organization.objects.filter(slug__in=slugs)}
    this_month = month_start(timezone.localdate())
    for plan in PLANS:
        client, vendor = organizations[plan.client], organizations[plan.vendor]
        if StatementOfWork.objects.filter(organization=client, vendor=vendor, title=plan.title).exists():
            continue
        if plan.state == "active":
            _seed_active(plan, client, vendor, start=_months_back(this_month, MONTHS), rng=rng)
        elif plan.state == "proposed":
            by = _manager(client)
            sow_id = _create(plan, _terms(plan, next_month(this_month)), author=client, other=vendor, by=by)
            sow_propose(sow_id=sow_id, by=by)
            sow_sign(sow_id=sow_id, by=by)
        else:
            start = next_month(next_month(this_month))
            _create(plan, _terms(plan, start), author=vendor, other=client, by=_manager(vendor))
    return sows_demo_counts()


def sows_demo_counts() -> dict[str, int]:
    return {
        "statements_of_work": StatementOfWork.objects.count(),
        "service_levels": ServiceLevel.objects.count(),
        "measurements": SLAMeasurement.objects.count(),
        "usage": SOWUsage.objects.count(),
        "evaluations": SLAEvaluation.objects.count(),
        "breaches": SLABreach.objects.count(),
    }


# --- helpers ------------------------------------------------------------------------------------------------------
def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _manager(organization: Organization) -> User:
    """An owner who signs for the organisation: the published demo login where there is one."""
    owners = Membership.objects.filter(organization=organization, role=Membership.Role.OWNER).select_related("user")
    ranked = sorted(owners, key=lambda m: (not m.user.email.endswith("@tandem.test"), m.pk))
    assert ranked, f"{organization} has an owner"
    return ranked[0].user


def _between(rng: random.Random, bounds: tuple[str, str]) -> Decimal:
    """A reading between the bounds, to the hundredth (integers drawn, so no float ever enters)."""
    low, high = (int(Decimal(bound) * 100) for bound in bounds)
    return Decimal(rng.randint(low, high)) / 100


def _terms(plan: SOWPlan, start: date, *, fee_currency: str = "USD", cap: Decimal | None = None) -> SOWInput:
    end = _months_back(start, -plan.term_months) - timedelta(days=1) if plan.term_months else None
    return SOWInput(
        title=plan.title,
        scope=plan.scope,
        deliverables=plan.deliverables,
        start_date=start,
        end_date=end,
        pricing_model=plan.pricing,
        currency=fee_currency,
        monthly_fee=None if plan.monthly_fee is None else Decimal(plan.monthly_fee),
        monthly_budget_cap=cap,
        credit_cap_pct=Decimal(plan.credit_cap_pct),
        bonus_cap_pct=Decimal(plan.bonus_cap_pct),
    )


def _create(plan: SOWPlan, terms: SOWInput, *, author: Organization, other: Organization, by: User) -> int:
    sow = sow_create(organization_id=author.pk, counterparty_id=other.pk, data=terms, by=by)
    for level in plan.levels:
        service_level_set(sow_id=sow.pk, data=level.as_input(), by=by)
    return sow.pk


def _rate_card_plan(
    vendor: Organization, rng: random.Random
) -> tuple[str, Decimal, list[list[tuple[RateCardEntry, Decimal]]]]:
    """Time and materials: up to three roles of the vendor's rate card and each month's quantity of each, the
    currency, and a monthly cap that the busiest month stays under."""
    entries = list(RateCardEntry.objects.filter(vendor__organization=vendor).order_by("pk"))
    assert entries, f"seed_talent_demo gives {vendor} a rate card"
    currency = entries[0].currency
    entries = [entry for entry in entries if entry.currency == currency]
    chosen = sorted(rng.sample(entries, k=min(3, len(entries))), key=lambda entry: entry.pk)
    months = []
    for _month in range(MONTHS):
        usage = []
        for entry in chosen:
            if entry.unit == RateCardEntry.Unit.MONTH:
                quantity = Decimal(rng.randint(4, 12)) / 4  # 1 to 3 people for the month
            else:
                quantity = Decimal(rng.randint(320, 1280)) / 4  # 80 to 320 hours
            usage.append((entry, quantity))
        months.append(usage)
    busiest = max(sum(quantize(entry.rate * quantity, currency) for entry, quantity in month) for month in months)
    cap = (busiest * Decimal("1.1") / 1000).to_integral_value(rounding=ROUND_CEILING) * 1000
    return currency, cap, months


def _seed_active(plan: SOWPlan, client: Organization, vendor: Organization, *, start: date, rng: random.Random) -> None:
    client_manager, vendor_manager = _manager(client), _manager(vendor)
    usage_plan: list[list[tuple[RateCardEntry, Decimal]]] = []
    if plan.pricing == Pricing.TIME_AND_MATERIALS:
        currency, cap, usage_plan = _rate_card_plan(vendor, rng)
        terms = _terms(plan, start, fee_currency=currency, cap=cap)
    else:
        terms = _terms(plan, start)
    sow_id = _create(plan, terms, author=client, other=vendor, by=client_manager)
    sow_propose(sow_id=sow_id, by=client_manager)
    sow_sign(sow_id=sow_id, by=vendor_manager)
    sow = sow_sign(sow_id=sow_id, by=client_manager)  # both signed, start date passed: active at once
    assert sow.status == StatementOfWork.Status.ACTIVE, sow_id

    periods = [_months_back(start, -index) for index in range(MONTHS)]
    report = io.StringIO()
    writer = csv.writer(report)
    writer.writerow(["metric", "period", "value", "note"])
    for index, period in enumerate(periods):
        for level in plan.levels:
            outcome, note = plan.events.get(index, {}).get(level.metric, (USUAL, ""))
            if outcome == UNREPORTED:
                continue
            bounds = {USUAL: level.usual, MISSED: level.missed, STRETCH: level.stretch}[outcome]
            assert bounds is not None, (plan.title, level.metric)
            writer.writerow([level.metric, f"{period:%Y-%m}", _between(rng, bounds), note])
    sla_measurements_import(sow_id=sow_id, file=io.BytesIO(report.getvalue().encode()), by=vendor_manager)
    for period, usage in zip(periods, usage_plan, strict=False):
        for entry, quantity in usage:
            sow_usage_add(
                sow_id=sow_id,
                period=period,
                rate_card_entry_id=entry.pk,
                quantity=quantity,
                by=vendor_manager,
                description=f"{entry.role}, {period:%B} peak cover",
            )
    for period in periods:
        sla_evaluate(sow_id=sow_id, period=period)
