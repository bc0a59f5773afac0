"""Journey 4: a micro-task batch; the client uploads its units as a CSV file on the batch page and opens it, two
workers (each in their own browser) claim a unit and submit an answer, the client accepts one and rejects the other;
each side then sees the counts and the earnings that follow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership
from marketplace.models import TaskBatch, TaskUnit
from tests.e2e.conftest import screenshot
from tests.e2e.support import client_owner, sign_in, verified_user
from tests.factories import TalentProfileFactory
from tests.marketplace.test_microtasks_support import make_batch

UNITS_CSV = b"id,text\nrev-1,Great service and quick delivery.\nrev-2,Never again.\n"


def _stat(page: Page, label: str) -> Any:
    return page.locator(".stat-card").filter(has=page.locator(".stat-label", has_text=label))


def _stat_value(page: Page, label: str) -> Any:
    return _stat(page, label).locator(".stat-value")


def _worker(email: str, full_name: str) -> Any:
    user = verified_user(email=email, full_name=full_name)
    TalentProfileFactory(user=user, headline="Data labeller")
    return user


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_batch_is_uploaded_worked_by_two_workers_and_reviewed(page: Page, new_page: Any, e2e_world: Any) -> None:
    client, organization = client_owner(email="ada@acme.example", organization_name="Acme Robotics")
    member = Membership.objects.get(user=client, organization=organization)
    batch = make_batch(
        member,
        status=TaskBatch.Status.DRAFT,
        unit_price=Decimal("0.25"),
        answer_options=["positive", "negative"],
        instructions="Label the sentiment of each review.",
        gig_fields={"title": "Label customer reviews"},
    )
    gig = batch.gig
    grace = _worker("grace@example.com", "Grace Labeller")
    alan = _worker("alan@example.com", "Alan Labeller")

    # The client uploads the units through the batch page, then opens the batch to workers.
    sign_in(page, email=client.email)
    page.goto(f"/gigs/{gig.pk}/batch/")
    page.get_by_label("Units file").set_input_files(
        files=[{"name": "reviews.csv", "mimeType": "text/csv", "buffer": UNITS_CSV}]
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("Imported 2 units (0 of them gold quality checks).")).to_be_visible()
    expect(_stat_value(page, "Open")).to_have_text("2")
    page.get_by_role("button", name="Open to workers").click()
    expect(page.get_by_text("The batch is open: qualified workers can claim its units now.")).to_be_visible()
    expect(page.get_by_text("Open to workers", exact=True)).to_be_visible()
    screenshot(page, "j4-01-batch-uploaded-and-open")

    # Two workers, each in their own browser, find the batch and claim a unit each.
    first = new_page()
    sign_in(first, email=grace.email)
    first.goto("/work/tasks/")
    expect(first.get_by_text("Label customer reviews")).to_be_visible()
    screenshot(first, "j4-02-worker-batches")
    first.get_by_role("link", name="Label customer reviews").first.click()
    first.get_by_role("button", name="Start working").click()
    expect(first.get_by_role("heading", name="Unit rev-1")).to_be_visible()
    expect(first.get_by_text("Great service and quick delivery.")).to_be_visible()

    second = new_page()
    sign_in(second, email=alan.email)
    second.goto(f"/work/tasks/{batch.pk}/")
    second.get_by_role("button", name="Start working").click()
    expect(second.get_by_role("heading", name="Unit rev-2")).to_be_visible()
    expect(second.get_by_text("Never again.")).to_be_visible()
    screenshot(second, "j4-03-worker-unit")

    # Each answers and submits; nothing is left to claim afterwards.
    first.get_by_label("positive").check()
    first.get_by_role("button", name="Submit and continue").click()
    expect(first.get_by_role("heading", name="All done here")).to_be_visible()
    second.get_by_label("positive").check()
    second.get_by_role("button", name="Submit and continue").click()
    expect(second.get_by_role("heading", name="All done here")).to_be_visible()

    # The client sees both waiting, accepts the first and rejects the second with a reason.
    page.reload()
    expect(_stat_value(page, "Waiting for review")).to_have_text("2")
    page.get_by_role("link", name="Review them").click()
    first_row = page.locator("#review-table tbody tr").filter(has_text="rev-1")
    second_row = page.locator("#review-table tbody tr").filter(has_text="rev-2")
    expect(first_row).to_contain_text("positive")
    expect(first_row).to_contain_text("Grace Labeller")
    expect(second_row).to_contain_text("Alan Labeller")
    screenshot(page, "j4-04-review-queue")
    first_row.get_by_role("button", name="Accept").click()
    expect(first_row).to_contain_text("Accepted: 0.25 USD for the worker.")
    second_row.get_by_role("button", name="Reject…").click()
    second_row.get_by_label("Reason for rejecting unit rev-2").fill("That review is negative.")
    second_row.get_by_role("button", name="Reject", exact=True).click()
    expect(second_row).to_contain_text("Rejected: That review is negative.")

    page.goto(f"/gigs/{gig.pk}/batch/")
    expect(page.get_by_text("2 of 2 units done (100%).")).to_be_visible()
    expect(_stat_value(page, "Accepted")).to_have_text("1")
    expect(_stat(page, "Accepted")).to_contain_text("0.25 USD earned by workers")
    expect(_stat_value(page, "Rejected")).to_have_text("1")
    expect(_stat_value(page, "Waiting for review")).to_have_text("0")
    screenshot(page, "j4-05-batch-reviewed")

    # Each worker sees their own outcome: one accepted unit earned 0.25, the rejected one earned nothing.
    first.goto(f"/work/tasks/{batch.pk}/")
    expect(_stat_value(first, "Accepted")).to_have_text("1")
    expect(_stat(first, "Earned")).to_contain_text("0.25 USD")
    screenshot(first, "j4-06-worker-earned")
    second.goto(f"/work/tasks/{batch.pk}/")
    expect(_stat_value(second, "Accepted")).to_have_text("0")
    expect(_stat(second, "Earned")).to_contain_text("0.00 USD")
    expect(_stat(second, "Accepted")).to_contain_text("0 waiting for review")

    units = {unit.external_id: unit for unit in TaskUnit.objects.filter(batch=batch)}
    assert (units["rev-1"].status, units["rev-1"].claimed_by_id, units["rev-1"].earned_amount) == (
        TaskUnit.Status.ACCEPTED,
        grace.pk,
        Decimal("0.25"),
    )
    assert (units["rev-2"].status, units["rev-2"].claimed_by_id, units["rev-2"].rejection_reason) == (
        TaskUnit.Status.REJECTED,
        alan.pk,
        "That review is negative.",
    )
