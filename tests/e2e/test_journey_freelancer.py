"""Journey 2: a freelancer signs up, verifies their email, completes a profile, uploads compliance documents, finds an
hourly gig and bids; the client hires them; an ops reviewer approves the documents and signs off the worker
classification in the Django admin, and the contract starts; the freelancer logs a week of hours and submits it,
the client approves it, the week is invoiced and the client pays it with a test card (the Stripe stand-in's webhooks
reach the live server); the freelancer connects a payout account through the stand-in's onboarding and the payout
reaches their earnings page."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from accounts.models import Membership, User
from accounts.staff_groups import COMPLIANCE_REVIEWERS
from billing.models import Invoice, Payout, PayoutAccount
from billing.stripe_standin import StripeStandIn
from billing.tasks import invoices_issue_due, payouts_create_due
from compliance.models import ClassificationAssessment, ComplianceDocument, ScreeningHit
from engagements.models import Contract, Timesheet
from marketplace.models import Bid
from talent.models import TalentProfile
from tests.e2e.conftest import screenshot
from tests.e2e.support import client_owner, sign_in, verified_user
from tests.factories import SkillFactory
from tests.marketplace.conftest import make_gig

EMAIL = "linnea@example.com"
PASSWORD = "a-long-and-unguessable-passphrase"
NOT_A_PDF = b"<html><body>Not really a passport</body></html>"


def _pdf(name: str) -> FilePayload:
    """A small but real PDF (the upload judges files by their first bytes, not by name or type)."""
    body = f"%PDF-1.4\n1 0 obj << /Type /Catalog /Title ({name}) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return {"name": name, "mimeType": "application/pdf", "buffer": body.encode()}


def _requirement_card(page: Page, name: str) -> Any:
    return page.locator("li.compliance-item").filter(has=page.get_by_role("heading", name=name, exact=True))


def _stat(page: Page, label: str) -> Any:
    return page.locator(".stat-card").filter(has=page.locator(".stat-label", has_text=label))


def _reload_until(page: Page, check: Any, what: str) -> None:
    """Webhooks and the worker finish shortly after the page answers; reload until the page shows it."""
    for _ in range(30):
        page.reload()
        if check():
            return
        page.wait_for_timeout(1000)
    raise AssertionError(f"the page never showed {what}")


def _admin_run_action(page: Page, action: str) -> None:
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="Run").click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_freelancer_signs_up_is_vetted_hired_logs_a_week_and_is_paid_out(
    page: Page, new_page: Any, e2e_world: Any, stripe_standin: StripeStandIn, reference_data: None
) -> None:
    stripe_standin.webhook_url = f"{e2e_world.url}/billing/stripe/webhook/"
    skill = SkillFactory(name="Django", slug="django")
    client, organization = client_owner(email="ada@acme.example", organization_name="Acme Robotics")
    member = Membership.objects.get(user=client, organization=organization)
    gig = make_gig(member, skill, title="Payments API for our marketplace")
    ops_user = verified_user(email="olive@tandem.example", full_name="Olive Ops", is_staff=True)
    ops_user.groups.add(Group.objects.get(name=COMPLIANCE_REVIEWERS))
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())

    # The freelancer signs up to find work and verifies their email with the link it contains.
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", name="Create your Tandem account")).to_be_visible()
    page.check("input[name=intent][value=work]", force=True)
    page.fill("input[name=full_name]", "Linnea Bergqvist")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.select_option("select[name=country]", "GB")
    screenshot(page, "j2-01-signup")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=re.compile("verify", re.IGNORECASE)).first).to_be_visible()
    screenshot(page, "j2-02-verify-email-sent")

    bodies = [m.body for m in mail.outbox if m.to == [EMAIL]]
    links = [
        found.group(0) for body in bodies if (found := re.search(r"https?://\S+/accounts/confirm-email/\S+/", body))
    ]
    assert len(links) == 1, bodies
    page.goto(links[0])
    page.get_by_role("button", name=re.compile("confirm", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    freelancer = User.objects.get(email=EMAIL)
    assert (freelancer.full_name, freelancer.country) == ("Linnea Bergqvist", "GB")
    assert TalentProfile.objects.filter(user=freelancer).exists()
    assert not Membership.objects.filter(user=freelancer).exists()

    # They complete their profile: details, then skills.
    page.goto("/talent/profile/edit/")
    expect(page.get_by_role("heading", name="Your talent profile")).to_be_visible()
    page.get_by_label("Headline").fill("Django engineer for payments and billing APIs")
    page.get_by_label("About you").fill("Eight years of Django; Stripe Connect payouts, ledgers and invoicing.")
    page.get_by_label("Hourly rate").fill("55")
    page.get_by_label("Currency").select_option("USD")
    page.get_by_label("Availability (hours a week)").fill("30")
    page.get_by_label("Languages").fill("English, Swedish")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Everyone signed in to Tandem").check(force=True)
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    skills = page.locator("#skills")
    skills.locator("input[name=skill]").last.fill("Django")
    skills.locator("select[name=level]").last.select_option("4")
    skills.locator("input[name=years]").last.fill("8")
    skills.get_by_role("button", name="Save skills").click()
    expect(page.get_by_text("Skills saved: 1 listed.")).to_be_visible()
    screenshot(page, "j2-03-profile")
    profile = TalentProfile.objects.get(user=freelancer)
    assert (profile.headline, profile.hourly_rate, profile.currency, profile.weekly_hours) == (
        "Django engineer for payments and billing APIs",
        Decimal("55.00"),
        "USD",
        30,
    )
    assert list(profile.profile_skills.values_list("skill__name", "level", "years")) == [("Django", 4, 8)]

    # The compliance checklist: identity, the NDA and (outside the US) a W-8BEN. A web page renamed .pdf is refused.
    page.goto("/compliance/")
    expect(page.get_by_role("heading", name="Your compliance checklist")).to_be_visible()
    expect(page.get_by_text("0 of 3 requirements met.")).to_be_visible()
    identity = _requirement_card(page, "Identity verification")
    expect(identity.get_by_label("File")).to_have_attribute(
        "accept", "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"
    )
    identity.get_by_label("File").set_input_files(
        files=[{"name": "passport.pdf", "mimeType": "application/pdf", "buffer": NOT_A_PDF}]
    )
    identity.get_by_role("button", name="Upload").click()
    expect(identity.get_by_text("Only PDF, PNG and JPEG files are accepted")).to_be_visible()
    identity.get_by_label("File").set_input_files(files=[_pdf("passport.pdf")])
    identity.get_by_role("button", name="Upload").click()
    expect(identity.get_by_text("Uploaded passport.pdf.")).to_be_visible()
    nda = _requirement_card(page, "Non-disclosure agreement")
    nda.get_by_label("File").set_input_files(files=[_pdf("signed-nda.pdf")])
    nda.get_by_role("button", name="Upload").click()
    expect(nda.get_by_text("Uploaded signed-nda.pdf.")).to_be_visible()
    tax_form = _requirement_card(page, "W-8BEN tax form")
    tax_form.get_by_label("Taxpayer identification number").fill("1234567890")
    tax_form.get_by_label("File").set_input_files(files=[_pdf("w-8ben.pdf")])
    tax_form.get_by_role("button", name="Upload").click()
    expect(tax_form.get_by_text("Uploaded w-8ben.pdf.")).to_be_visible()
    for card in (identity, nda, tax_form):
        expect(card.locator(".badge")).to_have_text("Waiting for review")
    page.reload()  # htmx swapped only the cards; the summary above them is rendered with the page
    expect(page.get_by_role("list", name="What holds payouts").get_by_role("listitem")).to_have_text(
        [
            "Identity verification: uploaded, waiting for review by our compliance team.",
            "W-8BEN tax form: uploaded, waiting for review by our compliance team.",
        ]
    )
    screenshot(page, "j2-04-compliance-uploaded")
    documents = ComplianceDocument.objects.filter(user=freelancer)
    assert sorted(documents.values_list("requirement__code", "status")) == [
        ("identity", "submitted"),
        ("nda", "submitted"),
        ("tax-form-w8ben", "submitted"),
    ]
    assert documents.get(requirement__code="tax-form-w8ben").tax_id_last4 == "7890"

    # They find the gig and bid on it.
    page.goto("/gigs/")
    page.get_by_label("Search gigs").fill("payments")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Payments API for our marketplace")).to_be_visible()
    screenshot(page, "j2-05-gig-search")
    page.get_by_role("link", name="Payments API for our marketplace").click()
    expect(page.get_by_role("heading", name="Place a bid")).to_be_visible()
    page.get_by_label("Your hourly rate").fill("55")
    page.get_by_label("Estimated hours").fill("60")
    page.get_by_label("Cover letter").fill("I built Stripe Connect payouts for two marketplaces.")
    page.get_by_role("button", name="Submit bid").click()
    expect(page.get_by_text("Your bid is in. We'll email you when the client decides.")).to_be_visible()
    expect(page.get_by_text("Payments API for our marketplace")).to_be_visible()
    screenshot(page, "j2-06-bid-placed")
    bid = Bid.objects.get(gig=gig, freelancer=freelancer)
    assert (bid.status, bid.hourly_rate, bid.estimated_hours) == ("submitted", Decimal("55.00"), 60)

    # The client hires them; the contract waits for compliance.
    buyer = new_page()
    sign_in(buyer, email=client.email)
    buyer.goto(f"/gigs/{gig.pk}/bids/")
    expect(buyer.get_by_text("Linnea Bergqvist").first).to_be_visible()
    buyer.once("dialog", lambda dialog: dialog.accept())
    buyer.locator(f"form[action='/bids/{bid.pk}/accept/'] button").click()
    contract = Contract.objects.get(gig=gig)
    expect(buyer.get_by_text(f"Hired. Contract #{contract.pk} starts once compliance checks pass.")).to_be_visible()
    screenshot(buyer, "j2-07-client-hired")
    buyer.goto(f"/contracts/{contract.pk}/")
    blockers = buyer.locator("section[aria-labelledby=blocked-title] li")
    expect(blockers).to_have_text(
        [
            "Identity verification: uploaded, waiting for review by our compliance team.",
            "Non-disclosure agreement: uploaded, waiting for review by our compliance team.",
            "Worker-classification assessment: the engagement looks like employment (high risk) and needs our "
            "compliance team's sign-off.",
        ]
    )
    screenshot(buyer, "j2-08-contract-waiting-for-compliance")
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.PENDING_COMPLIANCE

    # An ops reviewer approves the documents in the admin: one from its own page, the other two from the queue.
    ops = new_page()
    sign_in(ops, email=ops_user.email)
    ops.goto("/admin/compliance/compliancedocument/")
    queue = ops.locator("#result_list tbody tr")
    expect(queue).to_have_count(3)
    queue.filter(has_text="passport.pdf").get_by_role("link", name="Identity verification").click()
    expect(ops.locator("#decision")).to_be_visible()
    screenshot(ops, "j2-09-ops-document-review")
    ops.locator("#decision").get_by_role("button", name="Approve").click()
    expect(ops.get_by_text("Approved 1 document(s).")).to_be_visible()
    ops.goto("/admin/compliance/compliancedocument/")
    expect(queue).to_have_count(2)
    ops.locator("#action-toggle").check()
    _admin_run_action(ops, "approve_documents")
    expect(ops.get_by_text("Approved 2 document(s).")).to_be_visible()
    expect(queue).to_have_count(0)
    screenshot(ops, "j2-10-ops-documents-approved")

    # …and signs off the high-risk classification assessment with a note.
    ops.goto("/admin/compliance/classificationassessment/")
    assessments = ops.locator("#result_list tbody tr")
    expect(assessments).to_have_count(1)
    expect(assessments).to_contain_text("High")
    assessments.locator("input[name=_selected_action]").check()
    _admin_run_action(ops, "sign_off_assessments")
    expect(ops.get_by_text("Sign off: 1 item waiting for a decision.")).to_be_visible()
    ops.get_by_label("Note").fill("Capped at 40 h a week and the freelancer sets their own hours.")
    screenshot(ops, "j2-11-ops-assessment-sign-off")
    ops.get_by_role("button", name="Sign off").click()
    expect(ops.get_by_text("Sign off: 1 item(s).")).to_be_visible()

    # The contract starts by itself, today: time before that is refused, so the freelancer logs today's hours
    # and submits the week.
    page.goto(f"/contracts/{contract.pk}/")
    _reload_until(page, lambda: page.get_by_role("heading", name="Log time").count() == 1, "the contract active")
    expect(page.locator(".page-subtitle .badge")).to_have_text("Active")
    page.get_by_label("Date").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("What you worked on").fill("Kick-off call")
    page.get_by_role("button", name="Log time").click()
    expect(page.get_by_text(f"The contract started on {today.isoformat()}; log time from then on.")).to_be_visible()
    for start, hours, what in (("09:00", "4", "Payout models and migrations"), ("14:00", "4", "Transfer service")):
        page.get_by_label("Date").fill(today.isoformat())
        page.get_by_label("Start").fill(start)
        page.get_by_label("Hours").fill(hours)
        page.get_by_label("What you worked on").fill(what)
        page.get_by_role("button", name="Log time").click()
        expect(page.locator("#timesheets tbody tr").filter(has_text=what)).to_be_visible()
    week = page.locator("#timesheets .card").filter(has_text="Week of")
    expect(week.get_by_role("heading")).to_have_text(f"Week of {monday.day} {monday:%b %Y} · 8.00 h of 40")
    screenshot(page, "j2-12-time-logged")
    week.get_by_role("button", name="Submit the week").click()
    expect(page.get_by_text("Week submitted: the client has 5 days to review it.")).to_be_visible()
    expect(week.locator(".badge")).to_have_text("Submitted")
    screenshot(page, "j2-13-week-submitted")

    # The client approves the week.
    buyer.goto(f"/contracts/{contract.pk}/")
    client_week = buyer.locator("#timesheets .card").filter(has_text="Week of")
    expect(client_week).to_contain_text("Payout models and migrations")
    client_week.get_by_role("button", name="Approve").click()
    expect(buyer.get_by_text("Week approved.")).to_be_visible()
    expect(client_week.locator(".badge")).to_have_text("Approved")
    screenshot(buyer, "j2-14-client-week-approved")

    # The daily invoicing run (beat does not run in tests; no page starts it) invoices the approved week:
    # 8 h at 55.00 = 440.00, plus the client's 5% marketplace fee.
    assert invoices_issue_due() == 1
    invoice = Invoice.objects.get(contract=contract)
    buyer.goto("/billing/")
    buyer.get_by_role("link", name=invoice.number).click()
    expect(buyer.get_by_role("heading", name=f"Invoice {invoice.number}", level=1)).to_be_visible()
    line = buyer.locator(".invoice-lines tbody tr")
    expect(line).to_have_text(
        re.compile(
            rf"Payments API for our marketplace — week of {monday.day} {monday:%b %Y}"
            r"\s+8 hours\s+55\.00 USD\s+440\.00 USD"
        )
    )
    expect(buyer.locator(".invoice-lines tr.invoice-total")).to_contain_text("462.00 USD")
    screenshot(buyer, "j2-15-client-invoice")

    # The client pays it with a test card; Stripe's webhook marks it paid.
    buyer.get_by_role("button", name="Pay by card").click()
    expect(buyer.get_by_role("heading", name="Pay 462.00 USD")).to_be_visible()
    screenshot(buyer, "j2-16-pay-invoice")
    buyer.get_by_role("button", name="Pay 462.00 USD").click()
    buyer.goto(f"/billing/invoices/{invoice.pk}/")
    _reload_until(buyer, lambda: buyer.locator(".page-subtitle .badge").inner_text() == "Paid", "the invoice paid")

    # The freelancer sees the money payable and connects a payout account through Stripe's onboarding.
    page.goto("/billing/earnings/")
    expect(_stat(page, "Payable").locator(".stat-value")).to_have_text("396.00 USD")
    page.get_by_role("button", name="Connect with Stripe").click()
    expect(page.get_by_role("heading", name="Connect onboarding (stand-in)")).to_be_visible()
    screenshot(page, "j2-17-stripe-onboarding")
    page.get_by_role("button", name="Complete onboarding").click()
    page.wait_for_url(re.compile(r"/billing/earnings/"))
    expect(
        page.get_by_text("Your payout account is ready: what is payable is paid out in the next daily run.")
    ).to_be_visible()
    expect(page.locator("[aria-labelledby=payout-account-title] .badge")).to_have_text("Enabled")

    # The daily payout run (beat; no page starts it either) queues the payout and the worker sends the transfer.
    assert payouts_create_due() == 1
    payouts = page.locator("#payouts tbody tr")
    _reload_until(page, lambda: "Paid" in payouts.first.inner_text() if payouts.count() else False, "the payout")
    expect(payouts).to_have_count(1)
    expect(payouts.first).to_contain_text("396.00 USD")
    expect(_stat(page, "Paid out").locator(".stat-value")).to_have_text("396.00 USD")
    expect(_stat(page, "Payable").locator(".stat-value")).to_have_text("0.00 USD")
    issued = page.locator("#issued tbody tr")
    expect(issued).to_have_count(1)
    expect(issued).to_contain_text(invoice.number)
    expect(issued.locator("td").nth(4)).to_have_text("396.00 USD")
    expect(issued.locator(".badge")).to_have_text("Paid")
    screenshot(page, "j2-18-earnings-paid-out")

    assert set(documents.values_list("status", "reviewed_by")) == {(ComplianceDocument.Status.APPROVED, ops_user.pk)}
    assessment = ClassificationAssessment.objects.get(contract=contract)
    assert (assessment.status, assessment.reviewed_by_id) == (ClassificationAssessment.Status.SIGNED_OFF, ops_user.pk)
    contract.refresh_from_db()
    assert (contract.status, contract.start_date, contract.hourly_rate) == (
        Contract.Status.ACTIVE,
        today,
        Decimal("55.00"),
    )
    timesheet = Timesheet.objects.get(contract=contract)
    assert (timesheet.week_start, timesheet.status, timesheet.total_hours) == (
        monday,
        Timesheet.Status.APPROVED,
        Decimal("8.00"),
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.subtotal, invoice.client_fee, invoice.worker_fee, invoice.total) == (
        Invoice.Status.PAID,
        Decimal("440.00"),
        Decimal("22.00"),
        Decimal("44.00"),
        Decimal("462.00"),
    )
    payout_account = PayoutAccount.objects.get(user=freelancer)
    assert payout_account.payouts_enabled
    payout = Payout.objects.get(user=freelancer)
    assert (payout.status, payout.amount, payout.currency, payout.payout_account_id) == (
        Payout.Status.PAID,
        Decimal("396.00"),
        "USD",
        payout_account.pk,
    )
    assert not ScreeningHit.objects.filter(user=freelancer).exists()
