"""Statement-of-work pages: drafting, the lifecycle, service levels, measurements (one by one and by CSV), usage,
the SLA dashboard; refusals with their message; 404 for everyone outside the two organisations; flat query counts."""

from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from engagements import services
from engagements.models import ServiceLevel, SLAMeasurement, SOWUsage, StatementOfWork
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _terms(**overrides) -> dict[str, str]:
    return {
        "title": "Tier-1 customer support",
        "scope": "Email and chat support, 7 days a week.",
        "deliverables": "A monthly report.",
        "start_date": "2026-06-01",
        "end_date": "",
        "pricing_model": "outcome_based",
        "currency": "USD",
        "monthly_fee": "10000",
        "monthly_budget_cap": "",
        "credit_cap_pct": "20",
        "bonus_cap_pct": "10",
        **overrides,
    }


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("measurements.csv", text.encode(), content_type="text/csv")


def _record(sow, parties, metric: str, month: date, value: str) -> None:
    services.sla_measurement_record(
        sow_id=sow.pk, metric=metric, period=month, value=Decimal(value), by=parties.vendor_owner
    )


# --- the journey --------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_sow_from_draft_to_a_breach_on_the_dashboard(sow_parties) -> None:
    p = sow_parties
    client, vendor, vendor_member = _login(p.client_owner), _login(p.vendor_owner), _login(p.vendor_member)

    empty = client.get("/sows/")
    form = client.get("/sows/new/")
    created = client.post("/sows/new/", {**_terms(), "organization": p.client.pk, "counterparty": p.vendor.pk})
    sow = StatementOfWork.objects.get()
    first = client.post(
        f"/sows/{sow.pk}/levels/",
        {"metric": "first_response_minutes", "direction": "", "target": "60", "credit_pct": "5"},
        **HTMX,
    )
    client.post(
        f"/sows/{sow.pk}/levels/",
        {"metric": "csat", "target": "4.2", "credit_pct": "5", "stretch_target": "4.6", "bonus_pct": "3"},
        **HTMX,
    )
    client.post(f"/sows/{sow.pk}/propose/")
    vendor.post(f"/sows/{sow.pk}/sign/")
    signed = client.post(f"/sows/{sow.pk}/sign/", follow=True)

    assert (
        "No statements of work yet" in empty.content.decode() and "Draft a statement of work" in empty.content.decode()
    )
    assert f'<option value="{p.vendor.pk}">Helpdesk Partners</option>' in form.content.decode()
    assert created.status_code == 302 and created["Location"] == f"/sows/{sow.pk}/"
    assert (sow.organization, sow.vendor, sow.monthly_fee, sow.created_by) == (
        p.client,
        p.vendor,
        Decimal("10000.00"),
        p.client_owner,
    )
    assert first.status_code == 200 and "<html" not in first.content.decode()
    assert "Service level saved: First response (minutes) at most 60." in first.content.decode()
    assert list(sow.service_levels.values_list("metric", "direction", "target", "bonus_pct")) == [
        ("csat", "at_least", Decimal("4.20"), Decimal("3.00")),
        ("first_response_minutes", "at_most", Decimal("60.00"), Decimal("0.00")),
    ]
    assert "Signed by both sides: the statement of work is active." in signed.content.decode()
    sow.refresh_from_db()
    assert (sow.status, sow.client_signed_by, sow.vendor_signed_by) == ("active", p.client_owner, p.vendor_owner)

    september = {"metric": "first_response_minutes", "period": "2026-09", "value": "75", "note": "Holiday peak"}
    recorded = vendor_member.post(f"/sows/{sow.pk}/measurements/", september, **HTMX)
    vendor_member.post(f"/sows/{sow.pk}/measurements/", {"metric": "csat", "period": "2026-09", "value": "4.7"}, **HTMX)
    bad_file = _csv("metric,period,value\nfirst_response_minutes,2026-10,40\ncsat,2026-10,7\n")
    imported = vendor_member.post(f"/sows/{sow.pk}/measurements/import/", {"file": bad_file}, **HTMX)

    assert "Saved: First response (minutes) for September 2026 is 75." in recorded.content.decode()
    assert 'value="2026-09"' in recorded.content.decode()  # the month stays for the next metric
    html = imported.content.decode()
    assert "Nothing was saved: 1 problem(s) in the file; fix them and upload it again." in html
    assert "Row 3: Customer satisfaction (1–5) must be between 1 and 5." in html
    assert sorted(SLAMeasurement.objects.values_list("metric", "period", "value", "source")) == [
        ("csat", date(2026, 9, 1), Decimal("4.70"), "vendor_report"),
        ("first_response_minutes", date(2026, 9, 1), Decimal("75.00"), "vendor_report"),
    ]

    evaluation = services.sla_evaluate(sow_id=sow.pk, period=date(2026, 9, 1))
    dashboard = client.get(f"/sows/{sow.pk}/sla/")
    detail = client.get(f"/sows/{sow.pk}/")
    listing = vendor_member.get("/sows/")

    assert (evaluation.credit_total, evaluation.bonus_total) == (Decimal("500.00"), Decimal("300.00"))
    html = dashboard.content.decode()
    assert dashboard.status_code == 200
    assert '<span class="badge badge-danger">1 breach</span>' in html
    assert '<circle class="chart-point chart-point-breach"' in html
    assert "<title>Sep: 75</title>" in html
    assert "Breached</span>" in html
    assert "500.00 USD" in html and "300.00 USD" in html
    assert [panel.breach_count for panel in dashboard.context["panels"]] == [0, 1]  # csat, first response
    assert "September 2026" in detail.content.decode() and "−500.00 USD" in detail.content.decode()
    assert "50.0%" in listing.content.decode() and "Acme Retail" in listing.content.decode()


@pytest.mark.django_db
def test_errors_show_next_to_the_fields_and_keep_what_was_typed(sow_parties) -> None:
    p = sow_parties
    client = _login(p.client_member)

    response = client.post(
        "/sows/new/",
        {
            **_terms(title="Night-shift support", monthly_fee="", end_date="2026-05-01"),
            "organization": p.client.pk,
            "counterparty": p.vendor.pk,
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="Night-shift support"' in html and "Email and chat support, 7 days a week." in html
    assert 'id="id_monthly_fee_error"' in html and "Enter the monthly fee (above zero)." in html
    assert "The end date must be on or after the start date." in html
    assert f'<option value="{p.vendor.pk}" selected>Helpdesk Partners</option>' in html
    assert StatementOfWork.objects.count() == 0


@pytest.mark.django_db
def test_time_and_materials_needs_a_cap_and_the_vendor_records_usage(sow_parties, make_sow) -> None:
    p = sow_parties
    sow = make_sow(pricing="time_and_materials", monthly_budget_cap=Decimal("1000"))
    vendor, client = _login(p.vendor_member), _login(p.client_owner)
    usage = {"rate_card_entry": p.rate.pk, "period": "2026-10", "quantity": "10", "description": "Weekend cover"}

    recorded = vendor.post(f"/sows/{sow.pk}/usage/", usage, **HTMX)
    over_cap = vendor.post(f"/sows/{sow.pk}/usage/", {**usage, "quantity": "20"}, **HTMX)
    by_client = client.post(f"/sows/{sow.pk}/usage/", usage)
    no_cap = client.post(
        "/sows/new/",
        {**_terms(pricing_model="time_and_materials", monthly_fee=""), "counterparty": p.vendor.pk},
    )

    assert "Recorded: Support agent (Mid-level) × 10 for October 2026 = 425.00 USD." in recorded.content.decode()
    assert "At most 575.00 USD is left this month." in over_cap.content.decode()
    assert by_client.status_code == 403 and "Usage is reported by the vendor." in by_client.content.decode()
    assert list(SOWUsage.objects.values_list("quantity", "amount")) == [(Decimal("10.00"), Decimal("425.00"))]
    assert "Time and materials needs a monthly budget cap above zero." in no_cap.content.decode()


# --- the lifecycle and its refusals --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_other_side_sends_back_with_a_note_and_the_proposer_withdraws(sow_parties, make_sow) -> None:
    p = sow_parties
    sow = make_sow(status="proposed")
    vendor, client = _login(p.vendor_member), _login(p.client_member)

    page = vendor.get(f"/sows/{sow.pk}/")
    vendor.post(f"/sows/{sow.pk}/return/", {"note": "CSAT target is too high for month one."})
    returned = client.get(f"/sows/{sow.pk}/")
    client.post(f"/sows/{sow.pk}/propose/")
    own_page = client.get(f"/sows/{sow.pk}/")
    client.post(f"/sows/{sow.pk}/return/", {"note": ""})

    assert "Send back for changes" in page.content.decode()
    assert "Sent back for changes:</strong> CSAT target is too high for month one." in returned.content.decode()
    assert "Withdraw to draft" in own_page.content.decode()
    sow.refresh_from_db()
    assert (sow.status, sow.returned_note, sow.client_signed_at) == ("draft", "", None)


@pytest.mark.django_db
def test_refusals_show_their_message_and_change_nothing(sow_parties, make_sow) -> None:
    p = sow_parties
    proposed = make_sow(status="proposed")
    finance = MembershipFactory(organization=p.client, role="finance").user
    member = _login(p.vendor_member)

    sign = member.post(f"/sows/{proposed.pk}/sign/")
    change = _login(p.client_owner).post(
        f"/sows/{proposed.pk}/levels/", {"metric": "uptime_pct", "target": "99.5", "credit_pct": "5"}
    )
    withdraw = _login(finance).post(f"/sows/{proposed.pk}/return/", {"note": "no"})
    page = member.get(f"/sows/{proposed.pk}/")

    assert sign.status_code == 403
    assert "Only an owner or admin of your organisation can sign a statement of work." in sign.content.decode()
    assert change.status_code == 409
    assert "This statement of work is no longer a draft; send it back to draft to change it." in change.content.decode()
    assert withdraw.status_code == 403 and "Finance members can't change statements of work." in unescape(
        withdraw.content.decode()
    )
    assert "An owner or admin of Helpdesk Partners signs for your side." in page.content.decode()
    proposed.refresh_from_db()
    assert (proposed.status, proposed.vendor_signed_at, proposed.service_levels.count()) == ("proposed", None, 2)


@pytest.mark.django_db
def test_ending_needs_a_reason_and_an_owner_or_admin(sow_parties, make_sow) -> None:
    p = sow_parties
    sow = make_sow()
    owner = _login(p.client_owner)

    blank = owner.post(f"/sows/{sow.pk}/end/", {"reason": "  "})
    by_member = _login(p.client_member).post(f"/sows/{sow.pk}/end/", {"reason": "Budget cut"})
    sow.refresh_from_db()
    status_after_refusals = sow.status
    ended = owner.post(f"/sows/{sow.pk}/end/", {"reason": "Moving support in-house."}, follow=True)

    assert blank.status_code == 400 and 'id="id_reason_error"' in blank.content.decode()
    assert "Give a reason." in blank.content.decode()
    assert by_member.status_code == 403
    assert "Only an owner or admin of your organisation can end a statement of work." in by_member.content.decode()
    assert status_after_refusals == "active"
    assert "The statement of work has ended." in ended.content.decode()
    sow.refresh_from_db()
    assert (sow.status, sow.end_reason) == ("ended", "Moving support in-house.")


@pytest.mark.django_db
def test_service_levels_are_changed_and_removed_in_place(sow_parties, make_sow) -> None:
    p = sow_parties
    sow = make_sow(status="draft")
    level = sow.service_levels.get(metric="csat")
    client = _login(p.client_member)

    prefilled = client.get(f"/sows/{sow.pk}/?level={level.pk}")
    worse_stretch = client.post(
        f"/sows/{sow.pk}/levels/",
        {"metric": "csat", "target": "4.2", "credit_pct": "5", "stretch_target": "4.0", "bonus_pct": "3"},
        **HTMX,
    )
    changed = client.post(
        f"/sows/{sow.pk}/levels/",
        {"metric": "csat", "target": "4.4", "credit_pct": "7.5", "stretch_target": "4.8", "bonus_pct": "3"},
        **HTMX,
    )
    removed = client.post(f"/sows/{sow.pk}/levels/{level.pk}/remove/", **HTMX)

    assert prefilled.context["level_form"].initial["target"] == Decimal("4.20")
    assert "The stretch target must be better than the target (above 4.2)." in worse_stretch.content.decode()
    assert 'value="4.0"' in worse_stretch.content.decode()
    assert "Service level saved: Customer satisfaction (1–5) at least 4.4." in changed.content.decode()
    assert "Service level removed." in removed.content.decode()
    assert list(ServiceLevel.objects.filter(sow=sow).values_list("metric", flat=True)) == ["first_response_minutes"]


@pytest.mark.django_db
def test_edit_terms_while_draft_only(sow_parties, make_sow) -> None:
    p = sow_parties
    draft, active = make_sow(status="draft"), make_sow(title="Running")
    client = _login(p.client_member)

    saved = client.post(f"/sows/{draft.pk}/edit/", _terms(title="Tier-1 and tier-2 support", monthly_fee="12500"))
    locked = client.get(f"/sows/{active.pk}/edit/", follow=True)

    draft.refresh_from_db()
    assert saved.status_code == 302
    assert (draft.title, draft.monthly_fee) == ("Tier-1 and tier-2 support", Decimal("12500.00"))
    assert "Only a draft can be changed: send the statement of work back to draft first." in locked.content.decode()


# --- drafting for the right organisation ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_vendor_drafts_for_a_client_it_knows(sow_parties) -> None:
    from marketplace.models import Invitation
    from tests.factories import SkillFactory
    from tests.marketplace.conftest import make_gig

    p = sow_parties
    owner = MembershipFactory(organization=OrganizationFactory(kind="client", name="Beta Clinics"))
    gig = make_gig(owner, SkillFactory())
    Invitation.objects.create(gig=gig, vendor=p.vendor, invited_by=owner.user)
    OrganizationFactory(kind="client", name="Stranger Corp")
    vendor = _login(p.vendor_member)

    form = vendor.get("/sows/new/")
    created = vendor.post(
        "/sows/new/",
        {**_terms(pricing_model="fixed_monthly"), "organization": p.vendor.pk, "counterparty": owner.organization.pk},
    )

    assert [org.name for org in form.context["form"].fields["counterparty"].queryset] == ["Beta Clinics"]
    assert "Stranger Corp" not in form.content.decode()
    sow = StatementOfWork.objects.get()
    assert created["Location"] == f"/sows/{sow.pk}/"
    assert (sow.organization, sow.vendor, sow.pricing_model) == (owner.organization, p.vendor, "fixed_monthly")


@pytest.mark.django_db
def test_someone_in_two_organisations_chooses_which_one_they_draft_for(sow_parties) -> None:
    p = sow_parties
    MembershipFactory(user=p.client_member, organization=p.vendor, role="member")
    other = OrganizationFactory(kind="client")
    client = _login(p.client_member)

    as_client = client.get(f"/sows/new/?organization={p.client.pk}")
    as_vendor = client.get(f"/sows/new/?organization={p.vendor.pk}")
    foreign = client.post("/sows/new/", {**_terms(), "organization": other.pk, "counterparty": p.vendor.pk})

    assert as_client.context["form"].fields["counterparty"].label == "Vendor firm"
    assert as_vendor.context["form"].fields["counterparty"].label == "Client"
    assert "You draft for" in as_client.content.decode()
    assert foreign.status_code == 404
    assert StatementOfWork.objects.count() == 0


# --- outsiders ------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_outsiders_get_404_on_every_sow_page_and_nothing_changes(sow_parties, make_sow) -> None:
    p = sow_parties
    draft = make_sow(status="draft", title="Draft one")
    active = make_sow(title="Active one")
    tm = make_sow(pricing="time_and_materials", title="T&M one")
    level = draft.service_levels.first()
    other_vendor = MembershipFactory(organization=OrganizationFactory(kind="vendor"), role="owner").user
    outsiders = [MembershipFactory(organization__kind="client").user, other_vendor, TalentProfileFactory().user]
    before = (
        list(StatementOfWork.objects.order_by("pk").values_list("status", "title", "client_signed_at", "ended_at")),
        ServiceLevel.objects.count(),
        SLAMeasurement.objects.count(),
        SOWUsage.objects.count(),
    )

    for outsider in outsiders:
        browser = _login(outsider)
        for url in (f"/sows/{draft.pk}/", f"/sows/{draft.pk}/edit/", f"/sows/{active.pk}/sla/"):
            assert browser.get(url).status_code == 404, url
        posts = [
            (f"/sows/{draft.pk}/edit/", _terms(title="Hijacked")),
            (f"/sows/{draft.pk}/propose/", {}),
            (f"/sows/{active.pk}/return/", {"note": "x"}),
            (f"/sows/{active.pk}/sign/", {}),
            (f"/sows/{active.pk}/end/", {"reason": "x"}),
            (f"/sows/{active.pk}/nonsense/", {}),
            (f"/sows/{draft.pk}/levels/", {"metric": "uptime_pct", "target": "99", "credit_pct": "1"}),
            (f"/sows/{draft.pk}/levels/", {"metric": "bogus"}),
            (f"/sows/{draft.pk}/levels/{level.pk}/remove/", {}),
            (f"/sows/{active.pk}/measurements/", {"metric": "csat", "period": "2026-09", "value": "4"}),
            (f"/sows/{active.pk}/measurements/import/", {"file": _csv("metric,period,value\ncsat,2026-09,4\n")}),
            (f"/sows/{tm.pk}/usage/", {"rate_card_entry": p.rate.pk, "period": "2026-09", "quantity": "1"}),
        ]
        for url, data in posts:
            assert browser.post(url, data).status_code == 404, url
        assert browser.post(f"/sows/{draft.pk}/levels/", {"metric": "csat"}, **HTMX).status_code == 404
        listing = browser.get("/sows/").content.decode()
        assert "Draft one" not in listing and "Active one" not in listing

    after = (
        list(StatementOfWork.objects.order_by("pk").values_list("status", "title", "client_signed_at", "ended_at")),
        ServiceLevel.objects.count(),
        SLAMeasurement.objects.count(),
        SOWUsage.objects.count(),
    )
    assert after == before


# --- dashboard and list: accessible, flat query counts ---------------------------------------------------------------
@pytest.mark.django_db
def test_the_dashboard_charts_are_accessible_with_a_data_table(sow_parties, make_sow) -> None:
    p = sow_parties
    sow = make_sow()
    _record(sow, p, "first_response_minutes", date(2026, 10, 1), "42")
    services.sla_evaluate(sow_id=sow.pk, period=date(2026, 10, 1))  # csat not reported: breached

    html = _login(p.client_member).get(f"/sows/{sow.pk}/sla/").content.decode()

    assert html.count('role="img"') == 3  # attainment + one per service level
    assert '<title id="attainment-chart-title">Attainment by month, January 2026 to November 2026</title>' in html
    assert "October 2026: 1 of 2 met (50.0%)." in html
    assert "Monthly Customer satisfaction (1–5), January 2026 to November 2026: 0 of 11 months reported." in html
    assert '<path class="chart-missing"' in html  # the unreported breach is marked on the axis
    assert html.count("<summary>Show the numbers") == 3
    assert "Breached: not reported" in html


def _evaluated_months(sow, parties, count: int) -> None:
    for month in range(1, count + 1):
        _record(sow, parties, "first_response_minutes", date(2026, month, 1), str(40 + month * 5))
        _record(sow, parties, "csat", date(2026, month, 1), "4.5")
        services.sla_evaluate(sow_id=sow.pk, period=date(2026, month, 1))


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_months(sow_parties, make_sow, django_assert_max_num_queries) -> None:
    p = sow_parties
    short, long = make_sow(title="Short"), make_sow(title="Long")
    _evaluated_months(short, p, 2)
    _evaluated_months(long, p, 8)
    browser = _login(p.client_member)
    browser.get(f"/sows/{short.pk}/sla/")

    with django_assert_max_num_queries(30) as few:
        browser.get(f"/sows/{short.pk}/sla/")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser.get(f"/sows/{long.pk}/sla/")

    assert len(response.context["evaluations"]) == 8
    assert sum(panel.breach_count for panel in response.context["panels"]) == 4  # 65, 70, 75 and 80 minutes are over 60


@pytest.mark.django_db
def test_sow_list_query_count_is_flat(sow_parties, make_sow, django_assert_max_num_queries) -> None:
    p = sow_parties
    first = make_sow(title="First")
    _evaluated_months(first, p, 1)
    browser = _login(p.vendor_member)
    browser.get("/sows/")

    with django_assert_max_num_queries(20) as few:
        browser.get("/sows/")
    for number in range(8):
        sow = make_sow(title=f"SOW {number}", status="draft" if number % 2 else "active")
        if number % 2 == 0:
            _evaluated_months(sow, p, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser.get("/sows/")

    rows = response.context["rows"]
    assert len(rows) == 9
    assert {row.counterparty.name for row in rows} == {"Acme Retail"}
    newest, evaluated, oldest = rows[0], rows[1], rows[-1]
    assert (newest.sow.title, newest.latest_period, newest.latest_attainment) == ("SOW 7", None, None)
    assert (evaluated.sow.title, evaluated.latest_period, evaluated.latest_attainment) == (
        "SOW 6",
        date(2026, 2, 1),
        Decimal("100.0"),
    )
    assert (oldest.sow.title, oldest.latest_levels_met, oldest.latest_levels_total) == ("First", 2, 2)


@pytest.mark.django_db
def test_detail_query_count_does_not_grow_with_months(sow_parties, make_sow, django_assert_max_num_queries) -> None:
    p = sow_parties
    short, long = make_sow(title="Short"), make_sow(title="Long")
    _evaluated_months(short, p, 2)
    _evaluated_months(long, p, 8)
    browser = _login(p.vendor_owner)
    browser.get(f"/sows/{short.pk}/")

    with django_assert_max_num_queries(40) as few:
        browser.get(f"/sows/{short.pk}/")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser.get(f"/sows/{long.pk}/")

    assert len(response.context["evaluations"]) == 8
    assert response.context["credit_total"] == Decimal("2000.00")  # four breached months × 5 % of 10,000
