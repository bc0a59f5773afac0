"""Statements of work: drafting, terms and service-level rules, the lifecycle (propose, send back, sign by both
sides, activate on the start date, end), time-and-materials usage against the monthly cap, who may do what, and
both sides signing at the same moment."""

import io
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Organization
from core.errors import ApplicationError
from core.models import AuditEvent
from engagements import services
from engagements.models import ServiceLevel, SLAMeasurement, SOWUsage, StatementOfWork
from engagements.selectors import sow_get, sow_list_for_user
from engagements.services import ServiceLevelInput, SOWInput
from engagements.services.sows import month_start, next_month, sow_activation_blockers, sow_months
from talent.models import RateCardEntry, VendorProfile
from tests.factories import MembershipFactory, OrganizationFactory

TODAY = timezone.localdate()
THIS_MONTH = month_start(TODAY)


def _months_ago(count: int) -> date:
    month = THIS_MONTH
    for _ in range(count):
        month = month_start(month - timedelta(days=1))
    return month


START = _months_ago(6)
LAST_MONTH = _months_ago(1)


def _terms(**changes: Any) -> SOWInput:
    values: dict[str, Any] = {
        "title": "Tier-1 customer support",
        "scope": "Email and chat support, 7 days a week.",
        "start_date": START,
        "pricing_model": "fixed_monthly",
        "currency": "USD",
        "monthly_fee": Decimal("10000"),
    }
    values.update(changes)
    return SOWInput(**values)


def _create(parties, **changes: Any) -> StatementOfWork:
    return services.sow_create(
        organization_id=parties.client.pk,
        counterparty_id=parties.vendor.pk,
        data=_terms(**changes),
        by=parties.client_owner,
    )


def _member(organization: Organization, role: str):
    return MembershipFactory(organization=organization, role=role).user


def _outsider():
    return MembershipFactory(organization=OrganizationFactory(kind="client")).user


def _trail(sow: StatementOfWork) -> list[tuple[str, str, str, str]]:
    events = AuditEvent.objects.filter(target_type="engagements.statementofwork", target_id=str(sow.pk))
    return list(events.order_by("id").values_list("action", "from_state", "to_state", "actor_label"))


def _row(sow: StatementOfWork) -> dict[str, Any]:
    return StatementOfWork.objects.filter(pk=sow.pk).values().get()


def _travel_to(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Make `timezone.localdate()` (today) return `day`; dates of given datetimes are unchanged."""
    real = timezone.localdate

    def localdate(value: datetime | None = None, timezone: tzinfo | None = None) -> date:
        return day if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


# --- drafting -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_client_drafts_a_sow_with_a_vendor_firm(sow_parties) -> None:
    p = sow_parties

    sow = _create(p, title="  Tier-1 support  ", deliverables=" Monthly report ", monthly_fee=Decimal("9999.995"))

    row = _row(sow)
    assert (row["organization_id"], row["vendor_id"], row["status"], row["created_by_id"]) == (
        p.client.pk,
        p.vendor.pk,
        "draft",
        p.client_owner.pk,
    )
    assert (row["title"], row["deliverables"], row["monthly_fee"], row["monthly_budget_cap"]) == (
        "Tier-1 support",
        "Monthly report",
        Decimal("10000.00"),
        None,
    )
    assert (row["credit_cap_pct"], row["bonus_cap_pct"]) == (Decimal("20.00"), Decimal("10.00"))
    assert _trail(sow) == [("sow.created", "", "", p.client_owner.email)]
    assert AuditEvent.objects.get(action="sow.created").data == {"side": "client"}


@pytest.mark.django_db
def test_a_vendor_drafts_a_sow_with_a_client_and_the_client_is_the_organisation(sow_parties) -> None:
    p = sow_parties

    sow = services.sow_create(
        organization_id=p.vendor.pk,
        counterparty_id=p.client.pk,
        data=_terms(pricing_model="time_and_materials", monthly_fee=Decimal("500"), monthly_budget_cap=Decimal("8000")),
        by=p.vendor_member,
    )

    row = _row(sow)
    assert (row["organization_id"], row["vendor_id"], row["pricing_model"]) == (
        p.client.pk,
        p.vendor.pk,
        "time_and_materials",
    )
    assert (row["monthly_fee"], row["monthly_budget_cap"]) == (None, Decimal("8000.00"))
    assert AuditEvent.objects.get(action="sow.created").data == {"side": "worker"}


@pytest.mark.django_db
def test_amounts_are_rounded_to_the_currencys_minor_unit(sow_parties) -> None:
    sow = _create(sow_parties, currency="JPY", monthly_fee=Decimal("1500000.4"))

    assert _row(sow)["monthly_fee"] == Decimal("1500000.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Give the statement of work a title."),
        ({"scope": ""}, "scope", "Describe the scope of the work."),
        (
            {"pricing_model": "per_ticket"},
            "pricing_model",
            "Choose fixed monthly, time and materials or outcome-based.",
        ),
        ({"end_date": START - timedelta(days=1)}, "end_date", "The end date must be on or after the start date."),
        ({"monthly_fee": None}, "monthly_fee", "Enter the monthly fee (above zero)."),
        ({"monthly_fee": Decimal("0.004")}, "monthly_fee", "Enter the monthly fee (above zero)."),
        (
            {"pricing_model": "time_and_materials", "monthly_budget_cap": None},
            "monthly_budget_cap",
            "Time and materials needs a monthly budget cap above zero.",
        ),
        (
            {"pricing_model": "time_and_materials", "monthly_budget_cap": Decimal("-5")},
            "monthly_budget_cap",
            "Time and materials needs a monthly budget cap above zero.",
        ),
        ({"credit_cap_pct": Decimal("100.01")}, "credit_cap_pct", "Enter a percentage from 0 to 100."),
        ({"bonus_cap_pct": Decimal("-1")}, "bonus_cap_pct", "Enter a percentage from 0 to 100."),
        (
            {"currency": "KWD"},
            "currency",
            "“KWD” is not a currency we bill in; choose one of the listed currencies.",
        ),
        ({"currency": "usd"}, "currency", "“usd” is not a currency we bill in; choose one of the listed currencies."),
    ],
)
def test_each_term_rule_refuses_with_its_message_and_creates_nothing(sow_parties, changes, field, message) -> None:
    with pytest.raises(ApplicationError) as error:
        _create(sow_parties, **changes)

    assert (error.value.message, error.value.field_errors) == (
        "Please correct the highlighted fields.",
        {field: [message]},
    )
    assert not StatementOfWork.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("author", "counterparty", "message"),
    [
        ("client", "other_client", "Choose the vendor firm this statement of work is with."),
        ("client", "client", "Choose the vendor firm this statement of work is with."),
        ("client", "missing", "Choose the vendor firm this statement of work is with."),
        ("vendor", "other_vendor", "Choose the client organisation this statement of work is with."),
    ],
)
def test_the_counterparty_must_be_the_other_kind_of_organisation(sow_parties, author, counterparty, message) -> None:
    p = sow_parties
    organizations = {
        "client": p.client.pk,
        "vendor": p.vendor.pk,
        "other_client": OrganizationFactory(kind="client").pk,
        "other_vendor": OrganizationFactory(kind="vendor").pk,
        "missing": 999_999,
    }
    by = p.client_owner if author == "client" else p.vendor_owner

    with pytest.raises(ApplicationError) as error:
        services.sow_create(
            organization_id=organizations[author], counterparty_id=organizations[counterparty], data=_terms(), by=by
        )

    assert error.value.message == message
    assert "counterparty" in error.value.field_errors
    assert not StatementOfWork.objects.exists()


@pytest.mark.django_db
def test_finance_members_cannot_draft_a_sow(sow_parties) -> None:
    finance = _member(sow_parties.client, "finance")

    with pytest.raises(ApplicationError) as error:
        services.sow_create(
            organization_id=sow_parties.client.pk, counterparty_id=sow_parties.vendor.pk, data=_terms(), by=finance
        )

    assert (error.value.message, error.value.status) == (
        "Finance members can't write statements of work; ask an owner, admin or member.",
        403,
    )
    assert not StatementOfWork.objects.exists()


@pytest.mark.django_db
def test_a_draft_is_edited_and_the_edit_audited(sow_parties) -> None:
    sow = _create(sow_parties)

    services.sow_update(
        sow_id=sow.pk,
        data=_terms(title="Tier-2 support", monthly_fee=Decimal("12500.50")),
        by=sow_parties.vendor_member,
    )

    row = _row(sow)
    assert (row["title"], row["monthly_fee"], row["status"]) == ("Tier-2 support", Decimal("12500.50"), "draft")
    assert [event[0] for event in _trail(sow)] == ["sow.created", "sow.updated"]


@pytest.mark.django_db
def test_a_proposed_sow_cannot_be_edited(make_sow, sow_parties) -> None:
    sow = make_sow(status="proposed", start_date=START)
    before, trail = _row(sow), _trail(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_update(sow_id=sow.pk, data=_terms(title="Changed"), by=sow_parties.client_owner)

    assert (error.value.message, error.value.status) == (
        "This statement of work is no longer a draft; send it back to draft to change it.",
        409,
    )
    assert (_row(sow), _trail(sow)) == (before, trail)


@pytest.mark.django_db
def test_finance_members_cannot_edit_a_draft(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", start_date=START)
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_update(sow_id=sow.pk, data=_terms(title="Changed"), by=_member(sow_parties.vendor, "finance"))

    assert (error.value.message, error.value.status) == ("Finance members can't change statements of work.", 403)
    assert _row(sow) == before


@pytest.mark.django_db
def test_pricing_cannot_leave_outcome_based_while_a_service_level_pays_a_bonus(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", start_date=START)  # outcome-based, csat with a 3 % bonus
    before, trail = _row(sow), _trail(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_update(sow_id=sow.pk, data=_terms(pricing_model="fixed_monthly"), by=sow_parties.client_owner)

    assert error.value.field_errors == {
        "pricing_model": ["Bonuses are part of outcome-based pricing; set the service levels' bonuses to 0 first."]
    }
    assert (_row(sow), _trail(sow)) == (before, trail)


# --- service levels -----------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_service_level_is_added_in_the_metrics_natural_direction_and_changed_in_place(sow_parties) -> None:
    sow = _create(sow_parties, pricing_model="outcome_based")

    added = services.service_level_set(
        sow_id=sow.pk,
        data=ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("5")),
        by=sow_parties.client_owner,
    )
    changed = services.service_level_set(
        sow_id=sow.pk,
        data=ServiceLevelInput(
            metric="first_response_minutes",
            target=Decimal("45"),
            credit_pct=Decimal("7.5"),
            stretch_target=Decimal("30"),
            bonus_pct=Decimal("2"),
        ),
        by=sow_parties.vendor_member,
    )

    assert changed.pk == added.pk
    assert list(
        ServiceLevel.objects.values_list("metric", "direction", "target", "credit_pct", "stretch_target", "bonus_pct")
    ) == [
        (
            "first_response_minutes",
            "at_most",
            Decimal("45.00"),
            Decimal("7.50"),
            Decimal("30.00"),
            Decimal("2.00"),
        )
    ]
    assert [event[0] for event in _trail(sow)] == [
        "sow.created",
        "sow.service_level_added",
        "sow.service_level_changed",
    ]


@pytest.mark.django_db
def test_csat_defaults_to_at_least(sow_parties) -> None:
    sow = _create(sow_parties)

    level = services.service_level_set(
        sow_id=sow.pk, data=ServiceLevelInput(metric="csat", target=Decimal("4.2")), by=sow_parties.client_owner
    )

    assert (level.direction, level.credit_pct, level.bonus_pct, level.stretch_target) == (
        "at_least",
        Decimal("0"),
        Decimal("0"),
        None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pricing", "data", "field", "message"),
    [
        (
            "outcome_based",
            ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), stretch_target=Decimal("60")),
            "stretch_target",
            "The stretch target must be better than the target (below 60).",
        ),
        (
            "outcome_based",
            ServiceLevelInput(metric="csat", target=Decimal("4.2"), stretch_target=Decimal("4.1")),
            "stretch_target",
            "The stretch target must be better than the target (above 4.2).",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(
                metric="csat", target=Decimal("4.2"), stretch_target=Decimal("4.6"), bonus_pct=Decimal("3")
            ),
            "bonus_pct",
            "Bonuses are part of outcome-based pricing; change the pricing or set 0.",
        ),
        (
            "time_and_materials",
            ServiceLevelInput(
                metric="csat", target=Decimal("4.2"), stretch_target=Decimal("4.6"), bonus_pct=Decimal("3")
            ),
            "bonus_pct",
            "Bonuses are part of outcome-based pricing; change the pricing or set 0.",
        ),
        (
            "outcome_based",
            ServiceLevelInput(metric="csat", target=Decimal("4.2"), bonus_pct=Decimal("3")),
            "stretch_target",
            "A bonus is paid above a stretch target: enter one.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="csat", target=Decimal("5.5")),
            "target",
            "Customer satisfaction (1–5) must be between 1 and 5.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="csat", target=Decimal("0.9")),
            "target",
            "Customer satisfaction (1–5) must be between 1 and 5.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="uptime_pct", target=Decimal("100.01")),
            "target",
            "Uptime (%) must be between 0 and 100.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="resolution_rate_pct", target=Decimal("-1")),
            "target",
            "Resolution rate (%) must be between 0 and 100.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="resolution_hours", target=Decimal("100001")),
            "target",
            "Resolution time (hours) must be between 0 and 100000.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="uptime_pct", target=Decimal("99.995")),
            "target",
            "Use at most two decimal places.",
        ),
        (
            "outcome_based",
            ServiceLevelInput(metric="csat", target=Decimal("4.2"), stretch_target=Decimal("6")),
            "stretch_target",
            "Customer satisfaction (1–5) must be between 1 and 5.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="csat", target=Decimal("4"), credit_pct=Decimal("120")),
            "credit_pct",
            "Enter a percentage from 0 to 100.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="csat", target=Decimal("4"), direction="about"),
            "direction",
            "Choose “at most” or “at least”.",
        ),
        (
            "fixed_monthly",
            ServiceLevelInput(metric="tickets_closed", target=Decimal("4")),
            "metric",
            "Choose one of the listed metrics.",
        ),
    ],
)
def test_each_service_level_rule_refuses_with_its_message_and_saves_nothing(
    sow_parties, pricing, data, field, message
) -> None:
    sow = _create(sow_parties, pricing_model=pricing, monthly_budget_cap=Decimal("8000"))
    trail = _trail(sow)

    with pytest.raises(ApplicationError) as error:
        services.service_level_set(sow_id=sow.pk, data=data, by=sow_parties.client_owner)

    assert error.value.field_errors == {field: [message]}
    assert not ServiceLevel.objects.exists()
    assert _trail(sow) == trail


@pytest.mark.django_db
def test_service_levels_change_only_on_drafts_and_not_by_finance(make_sow, sow_parties) -> None:
    proposed = make_sow(status="proposed", start_date=START)
    draft = make_sow(status="draft", start_date=START)
    levels = list(ServiceLevel.objects.order_by("pk").values())
    data = ServiceLevelInput(metric="uptime_pct", target=Decimal("99.9"))

    with pytest.raises(ApplicationError) as not_draft:
        services.service_level_set(sow_id=proposed.pk, data=data, by=sow_parties.client_owner)
    with pytest.raises(ApplicationError) as finance:
        services.service_level_set(sow_id=draft.pk, data=data, by=_member(sow_parties.client, "finance"))
    with pytest.raises(ApplicationError) as remove_not_draft:
        services.service_level_remove(service_level_id=proposed.service_levels.first().pk, by=sow_parties.client_owner)

    assert (not_draft.value.message, not_draft.value.status) == (
        "This statement of work is no longer a draft; send it back to draft to change it.",
        409,
    )
    assert (finance.value.message, finance.value.status) == ("Finance members can't change statements of work.", 403)
    assert remove_not_draft.value.status == 409
    assert list(ServiceLevel.objects.order_by("pk").values()) == levels


@pytest.mark.django_db
def test_a_service_level_is_removed_from_a_draft(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", start_date=START)
    csat = sow.service_levels.get(metric="csat")

    services.service_level_remove(service_level_id=csat.pk, by=sow_parties.vendor_owner)

    assert list(sow.service_levels.values_list("metric", flat=True)) == ["first_response_minutes"]
    removed = AuditEvent.objects.get(action="sow.service_level_removed")
    assert (removed.data, removed.actor_label) == ({"metric": "csat"}, sow_parties.vendor_owner.email)


# --- lifecycle ----------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_draft_is_proposed_signed_by_both_sides_and_starts_at_once_when_its_start_date_has_come(
    make_sow, sow_parties
) -> None:
    p = sow_parties
    sow = make_sow(status="draft", start_date=START)

    services.sow_propose(sow_id=sow.pk, by=p.vendor_member)
    half = services.sow_sign(sow_id=sow.pk, by=p.vendor_owner)
    half_status = half.status
    services.sow_sign(sow_id=sow.pk, by=p.client_owner)

    sow.refresh_from_db()
    assert half_status == "proposed"
    assert (sow.status, sow.proposed_by, sow.vendor_signed_by, sow.client_signed_by) == (
        "active",
        p.vendor_member,
        p.vendor_owner,
        p.client_owner,
    )
    assert None not in (sow.proposed_at, sow.vendor_signed_at, sow.client_signed_at, sow.activated_at)
    assert _trail(sow)[3:] == [
        ("sow.proposed", "draft", "proposed", p.vendor_member.email),
        ("sow.signed", "", "", p.vendor_owner.email),
        ("sow.signed", "", "", p.client_owner.email),
        ("sow.fully_signed", "proposed", "signed", p.client_owner.email),
        ("sow.activated", "signed", "active", p.client_owner.email),
    ]
    signed = AuditEvent.objects.filter(action="sow.signed").order_by("id").values_list("data", flat=True)
    assert list(signed) == [{"side": "worker"}, {"side": "client"}]


@pytest.mark.django_db
def test_outcome_based_pricing_needs_a_service_level_to_be_proposed(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", levels=[], start_date=START)
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_propose(sow_id=sow.pk, by=sow_parties.client_owner)

    assert error.value.message == "Outcome-based pricing needs at least one service level before it can be proposed."
    assert _row(sow) == before


@pytest.mark.django_db
def test_finance_members_cannot_propose(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", start_date=START)
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_propose(sow_id=sow.pk, by=_member(sow_parties.client, "finance"))

    assert (error.value.message, error.value.status) == ("Finance members can't propose statements of work.", 403)
    assert _row(sow) == before


@pytest.mark.django_db
def test_a_proposed_sow_is_proposed_only_once(make_sow, sow_parties) -> None:
    sow = make_sow(status="proposed", start_date=START)
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_propose(sow_id=sow.pk, by=sow_parties.client_owner)

    assert (error.value.message, error.value.status) == (
        "This statement of work is Proposed; it cannot become Proposed.",
        409,
    )
    assert _row(sow) == before


@pytest.mark.django_db
def test_sending_a_proposal_back_to_draft_clears_the_signatures_so_both_sides_sign_again(make_sow, sow_parties) -> None:
    p = sow_parties
    sow = make_sow(status="proposed", start_date=START)
    services.sow_sign(sow_id=sow.pk, by=p.client_owner)

    services.sow_return_to_draft(sow_id=sow.pk, by=p.vendor_member, note="  Lower the fee, please.  ")

    row = _row(sow)
    assert (row["status"], row["returned_note"]) == ("draft", "Lower the fee, please.")
    assert (
        row["client_signed_by_id"],
        row["client_signed_at"],
        row["vendor_signed_by_id"],
        row["vendor_signed_at"],
    ) == (
        None,
        None,
        None,
        None,
    )
    returned = AuditEvent.objects.get(action="sow.returned_to_draft")
    assert (returned.from_state, returned.to_state, returned.data) == (
        "proposed",
        "draft",
        {"note": "Lower the fee, please."},
    )
    services.sow_propose(sow_id=sow.pk, by=p.client_owner)
    services.sow_sign(sow_id=sow.pk, by=p.vendor_owner)
    assert (_row(sow)["status"], _row(sow)["returned_note"]) == ("proposed", "")


@pytest.mark.django_db
def test_only_a_proposed_sow_goes_back_to_draft(make_sow, sow_parties) -> None:
    draft = make_sow(status="draft", start_date=START)
    proposed = make_sow(status="proposed", start_date=START)
    before = (_row(draft), _row(proposed))

    with pytest.raises(ApplicationError) as not_proposed:
        services.sow_return_to_draft(sow_id=draft.pk, by=sow_parties.client_owner)
    with pytest.raises(ApplicationError) as finance:
        services.sow_return_to_draft(sow_id=proposed.pk, by=_member(sow_parties.vendor, "finance"))

    assert (not_proposed.value.message, not_proposed.value.status) == (
        "Only a proposed statement of work can go back to draft.",
        409,
    )
    assert (finance.value.message, finance.value.status) == ("Finance members can't change statements of work.", 403)
    assert (_row(draft), _row(proposed)) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("side", "role"), [("client", "member"), ("client", "finance"), ("vendor", "member"), ("vendor", "finance")]
)
def test_only_owners_and_admins_sign(make_sow, sow_parties, side, role) -> None:
    sow = make_sow(status="proposed", start_date=START)
    before = _row(sow)
    signer = _member(getattr(sow_parties, side), role)

    with pytest.raises(ApplicationError) as error:
        services.sow_sign(sow_id=sow.pk, by=signer)

    assert (error.value.message, error.value.status) == (
        "Only an owner or admin of your organisation can sign a statement of work.",
        403,
    )
    assert _row(sow) == before
    assert not AuditEvent.objects.filter(action="sow.signed").exists()


@pytest.mark.django_db
def test_admins_sign_for_their_side(make_sow, sow_parties) -> None:
    sow = make_sow(status="proposed", start_date=START)
    client_admin = _member(sow_parties.client, "admin")
    vendor_admin = _member(sow_parties.vendor, "admin")

    services.sow_sign(sow_id=sow.pk, by=client_admin)
    services.sow_sign(sow_id=sow.pk, by=vendor_admin)

    row = _row(sow)
    assert (row["status"], row["client_signed_by_id"], row["vendor_signed_by_id"]) == (
        "active",
        client_admin.pk,
        vendor_admin.pk,
    )


@pytest.mark.django_db
def test_a_side_signs_only_once(make_sow, sow_parties) -> None:
    p = sow_parties
    sow = make_sow(status="proposed", start_date=START)
    services.sow_sign(sow_id=sow.pk, by=p.client_owner)
    before = _row(sow)

    with pytest.raises(ApplicationError) as client_again:
        services.sow_sign(sow_id=sow.pk, by=_member(p.client, "admin"))
    services.sow_sign(sow_id=sow.pk, by=p.vendor_owner)
    after_both = _row(sow)
    with pytest.raises(ApplicationError) as vendor_again:
        services.sow_sign(sow_id=sow.pk, by=p.vendor_owner)

    assert (client_again.value.message, client_again.value.status) == ("Your organisation has already signed.", 409)
    assert before["client_signed_by_id"] == p.client_owner.pk
    assert (vendor_again.value.message, vendor_again.value.status) == (
        "Only a proposed statement of work can be signed.",
        409,
    )
    assert _row(sow) == after_both
    assert AuditEvent.objects.filter(action="sow.signed").count() == 2
    assert AuditEvent.objects.filter(action="sow.fully_signed").count() == 1


@pytest.mark.django_db
def test_the_vendor_signs_only_once(make_sow, sow_parties) -> None:
    sow = make_sow(status="proposed", start_date=START)
    services.sow_sign(sow_id=sow.pk, by=sow_parties.vendor_owner)
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_sign(sow_id=sow.pk, by=_member(sow_parties.vendor, "admin"))

    assert (error.value.message, error.value.status) == ("Your firm has already signed.", 409)
    assert _row(sow) == before


@pytest.mark.django_db
def test_a_draft_cannot_be_signed(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", start_date=START)
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_sign(sow_id=sow.pk, by=sow_parties.client_owner)

    assert (error.value.message, error.value.status) == ("Only a proposed statement of work can be signed.", 409)
    assert _row(sow) == before


@pytest.mark.django_db
def test_a_sow_starting_later_stays_signed_until_the_daily_run_on_its_start_date(
    make_sow, sow_parties, monkeypatch
) -> None:
    start = TODAY + timedelta(days=10)
    sow = make_sow(start_date=start)  # signed by both sides
    signed_row = _row(sow)
    blockers = sow_activation_blockers(sow)
    early_run = services.sows_activate_due()
    _travel_to(monkeypatch, start)

    first_run = services.sows_activate_due()
    second_run = services.sows_activate_due()

    assert (signed_row["status"], signed_row["activated_at"]) == ("signed", None)
    assert blockers == [f"It starts on {start:%-d %B %Y}."]
    assert (early_run, first_run, second_run) == (0, 1, 0)
    row = _row(sow)
    assert row["status"] == "active" and row["activated_at"] is not None
    assert _trail(sow)[-1] == ("sow.activated", "signed", "active", "system")
    assert sow_activation_blockers(StatementOfWork.objects.get(pk=sow.pk)) == []


@pytest.mark.django_db
def test_the_daily_run_ends_active_sows_past_their_end_date(make_sow) -> None:
    past = make_sow(start_date=START, end_date=TODAY - timedelta(days=1))
    ends_today = make_sow(start_date=START, end_date=TODAY)

    first_run = services.sows_activate_due()
    second_run = services.sows_activate_due()

    assert (first_run, second_run) == (1, 0)
    row = _row(past)
    assert (row["status"], row["end_reason"]) == ("ended", "Reached its end date.")
    assert row["ended_at"] is not None
    assert _trail(past)[-1] == ("sow.ended", "active", "ended", "system")
    assert _row(ends_today)["status"] == "active"


@pytest.mark.django_db
def test_an_owner_ends_a_sow_early_with_a_reason(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)

    services.sow_end(sow_id=sow.pk, by=sow_parties.vendor_owner, reason="  The client moved support in-house. ")

    row = _row(sow)
    assert (row["status"], row["end_reason"]) == ("ended", "The client moved support in-house.")
    ended = AuditEvent.objects.get(action="sow.ended")
    assert (ended.from_state, ended.to_state, ended.actor_label, ended.data) == (
        "active",
        "ended",
        sow_parties.vendor_owner.email,
        {"reason": "The client moved support in-house."},
    )


@pytest.mark.django_db
def test_ending_refusals_change_nothing(make_sow, sow_parties) -> None:
    p = sow_parties
    active = make_sow(start_date=START)
    draft = make_sow(status="draft", start_date=START)
    before = (_row(active), _row(draft))

    with pytest.raises(ApplicationError) as no_reason:
        services.sow_end(sow_id=active.pk, by=p.client_owner, reason="  ")
    with pytest.raises(ApplicationError) as member:
        services.sow_end(sow_id=active.pk, by=p.client_member, reason="Budget cut")
    with pytest.raises(ApplicationError) as finance:
        services.sow_end(sow_id=active.pk, by=_member(p.vendor, "finance"), reason="Budget cut")
    with pytest.raises(ApplicationError) as not_started:
        services.sow_end(sow_id=draft.pk, by=p.client_owner, reason="Budget cut")

    assert (no_reason.value.message, no_reason.value.field_errors) == (
        "Say why the statement of work ends.",
        {"reason": ["Give a reason."]},
    )
    assert (member.value.message, member.value.status) == (
        "Only an owner or admin of your organisation can end a statement of work.",
        403,
    )
    assert finance.value.message == member.value.message
    assert (not_started.value.message, not_started.value.status) == (
        "This statement of work is Draft; it cannot become Ended.",
        409,
    )
    assert (_row(active), _row(draft)) == before
    assert not AuditEvent.objects.filter(action="sow.ended").exists()


@pytest.mark.django_db
def test_an_ended_sow_cannot_be_ended_again(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START)
    services.sow_end(sow_id=sow.pk, by=sow_parties.client_owner, reason="Budget cut")
    before = _row(sow)

    with pytest.raises(ApplicationError) as error:
        services.sow_end(sow_id=sow.pk, by=sow_parties.client_owner, reason="Again")

    assert error.value.message == "This statement of work is Ended; it cannot become Ended."
    assert _row(sow) == before


# --- months -------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_months_of_a_sow_run_from_its_start_to_this_month_or_its_end(make_sow, sow_parties) -> None:
    open_ended = make_sow(start_date=START + timedelta(days=14))
    with_end = make_sow(start_date=START, end_date=_months_ago(4) + timedelta(days=9))
    ended_early = make_sow(start_date=START)
    services.sow_end(sow_id=ended_early.pk, by=sow_parties.client_owner, reason="Budget cut")
    ended_early.refresh_from_db()
    not_started = make_sow(start_date=TODAY + timedelta(days=40))

    months = {
        "open": sow_months(open_ended),
        "until": sow_months(open_ended, until=_months_ago(5)),
        "end": sow_months(with_end),
        "ended": sow_months(ended_early),
        "future": sow_months(not_started),
    }

    assert months == {
        "open": [_months_ago(n) for n in range(6, -1, -1)],
        "until": [_months_ago(6), _months_ago(5)],
        "end": [_months_ago(6), _months_ago(5), _months_ago(4)],
        "ended": [_months_ago(n) for n in range(6, -1, -1)],
        "future": [],
    }


@pytest.mark.django_db
def test_a_sow_ended_early_covers_no_month_after_the_day_it_ended(make_sow, sow_parties) -> None:
    sow = make_sow(start_date=START, end_date=TODAY + timedelta(days=365))
    StatementOfWork.objects.filter(pk=sow.pk).update(
        status="ended", ended_at=timezone.now() - timedelta(days=(TODAY - _months_ago(3)).days + 1)
    )
    sow.refresh_from_db()
    ended_before_start = make_sow(start_date=TODAY + timedelta(days=3))
    services.sow_end(sow_id=ended_before_start.pk, by=sow_parties.client_owner, reason="Plans changed")
    ended_before_start.refresh_from_db()

    months = (sow_months(sow), sow_months(ended_before_start, until=TODAY + timedelta(days=60)))

    assert months == ([_months_ago(n) for n in range(6, 3, -1)], [])


# --- time and materials -------------------------------------------------------------------------------------------
def _tm_sow(make_sow, **terms: Any) -> StatementOfWork:
    levels = [ServiceLevelInput(metric="first_response_minutes", target=Decimal("60"), credit_pct=Decimal("5"))]
    return make_sow(pricing="time_and_materials", levels=levels, start_date=START, **terms)


@pytest.mark.django_db
def test_the_vendor_records_usage_at_the_rate_card_rate(make_sow, sow_parties) -> None:
    sow = _tm_sow(make_sow)

    usage = services.sow_usage_add(
        sow_id=sow.pk,
        period=LAST_MONTH + timedelta(days=14),
        rate_card_entry_id=sow_parties.rate.pk,
        quantity=Decimal("7.5"),
        by=sow_parties.vendor_member,
        description="  Weekend cover ",
    )

    assert list(
        SOWUsage.objects.values_list(
            "period", "role", "unit", "unit_rate", "quantity", "amount", "currency", "description"
        )
    ) == [
        (
            LAST_MONTH,
            "Support agent (Mid-level)",
            "hour",
            Decimal("42.50"),
            Decimal("7.50"),
            Decimal("318.75"),
            "USD",
            "Weekend cover",
        )
    ]
    assert usage.recorded_by == sow_parties.vendor_member
    recorded = AuditEvent.objects.get(action="sow.usage_recorded")
    assert recorded.data == {"amount": "318.75", "period": f"{LAST_MONTH:%Y-%m}"}


@pytest.mark.django_db
def test_usage_over_the_monthly_cap_is_refused_with_the_amount_left(make_sow, sow_parties) -> None:
    sow = _tm_sow(make_sow)
    add = partial(services.sow_usage_add, sow_id=sow.pk, period=LAST_MONTH, rate_card_entry_id=sow_parties.rate.pk)
    add(quantity=Decimal("180"), by=sow_parties.vendor_owner)  # 7650.00 of 8000.00
    before = list(SOWUsage.objects.values())

    with pytest.raises(ApplicationError) as error:
        add(quantity=Decimal("10"), by=sow_parties.vendor_owner)  # 425.00 more

    assert error.value.message == (
        f"This would bring {LAST_MONTH:%B %Y} to 8075.00 USD, over the monthly cap of 8000.00; 350.00 USD is left."
    )
    assert error.value.field_errors == {"quantity": ["At most 350.00 USD is left this month."]}
    assert list(SOWUsage.objects.values()) == before


@pytest.mark.django_db
def test_usage_up_to_the_cap_exactly_is_accepted_and_each_month_has_its_own_cap(make_sow, sow_parties) -> None:
    sow = _tm_sow(make_sow)
    lead = RateCardEntry.objects.create(
        vendor=sow_parties.rate.vendor, role="Team lead", seniority="lead", rate=Decimal("50"), currency="USD"
    )
    add = partial(services.sow_usage_add, sow_id=sow.pk, rate_card_entry_id=lead.pk, by=sow_parties.vendor_owner)

    add(period=LAST_MONTH, quantity=Decimal("160"))
    add(period=THIS_MONTH, quantity=Decimal("160"))
    with pytest.raises(ApplicationError) as error:
        add(period=LAST_MONTH, quantity=Decimal("0.25"))

    assert list(SOWUsage.objects.order_by("period").values_list("period", "amount")) == [
        (LAST_MONTH, Decimal("8000.00")),
        (THIS_MONTH, Decimal("8000.00")),
    ]
    assert error.value.field_errors == {"quantity": ["At most 0.00 USD is left this month."]}


@pytest.mark.django_db
def test_usage_rules_refuse_with_their_messages_and_record_nothing(make_sow, sow_parties) -> None:
    p = sow_parties
    tm = _tm_sow(make_sow)
    fixed = make_sow(pricing="fixed_monthly", start_date=START)
    proposed = _tm_sow(make_sow, status="proposed")
    other_vendor = OrganizationFactory(kind="vendor")
    other_rate = RateCardEntry.objects.create(
        vendor=VendorProfile.objects.create(organization=other_vendor),
        role="Support agent",
        seniority="mid",
        rate=Decimal("30"),
        currency="USD",
    )
    euro_rate = RateCardEntry.objects.create(
        vendor=p.rate.vendor, role="Support agent", seniority="senior", rate=Decimal("55"), currency="EUR"
    )
    use = partial(services.sow_usage_add, sow_id=tm.pk, period=LAST_MONTH, quantity=Decimal("1"), by=p.vendor_owner)
    attempts: dict[str, Callable[[], object]] = {
        "client": partial(use, rate_card_entry_id=p.rate.pk, by=p.client_owner),
        "fixed": partial(use, rate_card_entry_id=p.rate.pk, sow_id=fixed.pk),
        "proposed": partial(use, rate_card_entry_id=p.rate.pk, sow_id=proposed.pk),
        "future": partial(use, rate_card_entry_id=p.rate.pk, period=next_month(THIS_MONTH)),
        "before_start": partial(use, rate_card_entry_id=p.rate.pk, period=_months_ago(7)),
        "zero": partial(use, rate_card_entry_id=p.rate.pk, quantity=Decimal("0")),
        "not_quarter": partial(use, rate_card_entry_id=p.rate.pk, quantity=Decimal("7.3")),
        "not_quarter_either": partial(use, rate_card_entry_id=p.rate.pk, quantity=Decimal("1.01")),
        "other_rate_card": partial(use, rate_card_entry_id=other_rate.pk),
        "currency": partial(use, rate_card_entry_id=euro_rate.pk),
    }
    audit_count = AuditEvent.objects.count()

    outcomes = {}
    for name, attempt in attempts.items():
        with pytest.raises(ApplicationError) as error:
            attempt()
        outcomes[name] = (error.value.message, error.value.status, error.value.field_errors)

    correct = "Please correct the highlighted fields."
    month = "Choose a month within the statement of work, up to this month."
    quantity = "Enter a quantity above zero, in quarter units (for example 7.5)."
    assert outcomes == {
        "client": ("Usage is reported by the vendor.", 403, {}),
        "fixed": ("Usage is recorded on time-and-materials statements of work only.", 400, {}),
        "proposed": ("Usage can be recorded once the statement of work is active.", 409, {}),
        "future": (correct, 400, {"period": [month]}),
        "before_start": (correct, 400, {"period": [month]}),
        "zero": (correct, 400, {"quantity": [quantity]}),
        "not_quarter": (correct, 400, {"quantity": [quantity]}),
        "not_quarter_either": (correct, 400, {"quantity": [quantity]}),
        "other_rate_card": (correct, 400, {"rate_card_entry": ["Choose a role from your firm's rate card."]}),
        "currency": (
            correct,
            400,
            {"rate_card_entry": ["This rate is in EUR; the statement of work is in USD."]},
        ),
    }
    assert not SOWUsage.objects.exists()
    assert AuditEvent.objects.count() == audit_count


# --- who may see and touch a SOW ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_outsiders_get_does_not_exist_from_every_service_and_nothing_changes(make_sow, sow_parties) -> None:
    p = sow_parties
    sow = make_sow(start_date=START)
    tm = _tm_sow(make_sow)
    draft = make_sow(status="draft", start_date=START)
    level = draft.service_levels.first()
    outsider = _outsider()
    vendor_outsider = MembershipFactory(organization=OrganizationFactory(kind="vendor")).user
    csv_file = b"metric,period,value\ncsat," + f"{LAST_MONTH:%Y-%m}".encode() + b",4.5\n"
    calls: dict[str, tuple[type[Exception], Callable[[], object]]] = {
        "sow_create": (
            Organization.DoesNotExist,
            partial(
                services.sow_create,
                organization_id=p.client.pk,
                counterparty_id=p.vendor.pk,
                data=_terms(),
                by=outsider,
            ),
        ),
        "sow_update": (
            StatementOfWork.DoesNotExist,
            partial(services.sow_update, sow_id=draft.pk, data=_terms(title="Mine"), by=outsider),
        ),
        "service_level_set": (
            StatementOfWork.DoesNotExist,
            partial(
                services.service_level_set,
                sow_id=draft.pk,
                data=ServiceLevelInput(metric="uptime_pct", target=Decimal("99")),
                by=outsider,
            ),
        ),
        "service_level_remove": (
            ServiceLevel.DoesNotExist,
            partial(services.service_level_remove, service_level_id=level.pk, by=outsider),
        ),
        "sow_propose": (StatementOfWork.DoesNotExist, partial(services.sow_propose, sow_id=draft.pk, by=outsider)),
        "sow_return_to_draft": (
            StatementOfWork.DoesNotExist,
            partial(services.sow_return_to_draft, sow_id=sow.pk, by=outsider),
        ),
        "sow_sign": (StatementOfWork.DoesNotExist, partial(services.sow_sign, sow_id=sow.pk, by=vendor_outsider)),
        "sow_end": (StatementOfWork.DoesNotExist, partial(services.sow_end, sow_id=sow.pk, by=outsider, reason="x")),
        "sow_usage_add": (
            StatementOfWork.DoesNotExist,
            partial(
                services.sow_usage_add,
                sow_id=tm.pk,
                period=LAST_MONTH,
                rate_card_entry_id=p.rate.pk,
                quantity=Decimal("1"),
                by=vendor_outsider,
            ),
        ),
        "sla_measurement_record": (
            StatementOfWork.DoesNotExist,
            partial(
                services.sla_measurement_record,
                sow_id=sow.pk,
                metric="csat",
                period=LAST_MONTH,
                value=Decimal("4.5"),
                by=vendor_outsider,
            ),
        ),
        "sla_measurements_import": (
            StatementOfWork.DoesNotExist,
            lambda: services.sla_measurements_import(sow_id=sow.pk, file=io.BytesIO(csv_file), by=vendor_outsider),
        ),
        "sow_get": (StatementOfWork.DoesNotExist, partial(sow_get, sow_id=sow.pk, user=outsider)),
    }
    before = (
        list(StatementOfWork.objects.order_by("pk").values()),
        list(ServiceLevel.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        SLAMeasurement.objects.count(),
        SOWUsage.objects.count(),
    )

    raised = {}
    for name, (expected, call) in calls.items():
        with pytest.raises(expected):
            call()
        raised[name] = expected.__name__

    assert len(raised) == 12
    assert list(sow_list_for_user(user=outsider)) == []
    assert (
        list(StatementOfWork.objects.order_by("pk").values()),
        list(ServiceLevel.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
        SLAMeasurement.objects.count(),
        SOWUsage.objects.count(),
    ) == before


@pytest.mark.django_db
def test_both_sides_see_the_sow_and_nobody_else(make_sow, sow_parties) -> None:
    sow = make_sow(status="draft", start_date=START)
    finance = _member(sow_parties.vendor, "finance")
    outsider = _outsider()

    seen = {
        name: [s.pk for s in sow_list_for_user(user=getattr(sow_parties, name))]
        for name in ("client_owner", "client_member", "vendor_owner", "vendor_member")
    }

    assert seen == {
        "client_owner": [sow.pk],
        "client_member": [sow.pk],
        "vendor_owner": [sow.pk],
        "vendor_member": [sow.pk],
    }
    assert sow_get(sow_id=sow.pk, user=finance) == sow
    assert list(sow_list_for_user(user=outsider)) == []


# --- both sides signing at the same moment ------------------------------------------------------------------------
def _run_together(calls: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Start every call at the same moment, each in its own thread (and so its own database connection)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = call()
            with lock:
                results.append(outcome)
        except BaseException as error:  # noqa: BLE001 - the test reports every failure of every thread
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_client_and_vendor_signing_at_the_same_moment_sign_the_sow_exactly_once(make_sow, sow_parties) -> None:
    sows = [make_sow(status="proposed", start_date=START) for _ in range(5)]

    outcomes = [
        _run_together(
            [
                partial(services.sow_sign, sow_id=sow.pk, by=sow_parties.client_owner),
                partial(services.sow_sign, sow_id=sow.pk, by=sow_parties.vendor_owner),
            ]
        )
        for sow in sows
    ]

    assert [errors for _results, errors in outcomes] == [[]] * 5
    for sow in sows:
        sow.refresh_from_db()
        assert (sow.status, sow.client_signed_by_id, sow.vendor_signed_by_id) == (
            "active",
            sow_parties.client_owner.pk,
            sow_parties.vendor_owner.pk,
        )
        actions = Counter(
            AuditEvent.objects.filter(target_type="engagements.statementofwork", target_id=str(sow.pk)).values_list(
                "action", flat=True
            )
        )
        assert (actions["sow.signed"], actions["sow.fully_signed"], actions["sow.activated"]) == (2, 1, 1)
    # Exactly one of the two calls saw the second signature and made the SOW signed (then active).
    assert [sorted(result.status for result in results) for results, _errors in outcomes] == [
        ["active", "proposed"]
    ] * 5
