"""Micro-task pages: who gets 200 and who gets 404, the claim → submit flow (plain and htmx), uploads with row errors,
review actions, and constant query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace.models import TaskBatch, TaskUnit
from marketplace.services.microtasks import task_unit_claim_next, task_unit_submit
from tests.factories import UserFactory
from tests.marketplace.test_microtasks_support import (
    add_units,
    labelling_skill,
    make_batch,
    make_client_member,
    make_gig,
    make_worker,
    statuses,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _submitted(batch: TaskBatch, count: int) -> list[TaskUnit]:
    units = []
    for _ in range(count):
        worker = make_worker()
        unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
        units.append(task_unit_submit(unit_id=unit.pk, worker=worker, result={"label": "cat"}))
    return units


# --- worker pages ---------------------------------------------------------------------------------------------------
def test_the_task_list_shows_batches_the_worker_qualifies_for() -> None:
    skill = labelling_skill()
    mine = make_batch(units=3, skills=((skill, 2),), unit_price=Decimal("0.35"), gig_fields={"title": "Label tweets"})
    make_batch(units=3, skills=((skill, 4),), gig_fields={"title": "Needs an expert"})
    make_batch(units=3, status=TaskBatch.Status.DRAFT, gig_fields={"title": "Not open yet"})
    worker = make_worker((skill, 3))

    response = _client(worker).get(reverse("marketplace:task_batch_list_for_worker"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Label tweets" in page and "0.35 USD" in page
    assert "Needs an expert" not in page and "Not open yet" not in page
    assert list(response.context["page"].object_list) == [mine]
    assert response.context["page"].object_list[0].remaining_units == 3


def test_the_task_list_flags_a_worker_below_the_minimum_accuracy() -> None:
    batch = make_batch(units=7, gold=dict.fromkeys(range(1, 6), "yes"), min_accuracy=Decimal("50"))
    worker = make_worker()
    for answer in ["no", "no", "no", "yes", "yes"]:
        unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
        task_unit_submit(unit_id=unit.pk, worker=worker, result=answer)

    response = _client(worker).get(reverse("marketplace:task_batch_list_for_worker"))

    listed = response.context["page"].object_list[0]
    assert (listed.my_gold_answered, listed.my_gold_correct, listed.is_accuracy_blocked) == (5, 2, True)
    assert "Your accuracy is below this batch’s minimum" in response.content.decode()


def test_the_task_list_tells_someone_without_a_talent_profile_what_it_is_for() -> None:
    make_batch(units=3)

    response = _client(UserFactory()).get(reverse("marketplace:task_batch_list_for_worker"))

    assert response.status_code == 200
    assert "Micro-tasks are for freelancers" in response.content.decode()


def test_the_task_list_takes_the_same_number_of_queries_for_one_batch_or_ten() -> None:
    worker = make_worker()
    client = _client(worker)
    batch = make_batch(units=2)
    task_unit_claim_next(batch_id=batch.pk, worker=worker)
    url = reverse("marketplace:task_batch_list_for_worker")
    one = _queries(client, url)

    for _ in range(9):
        make_batch(units=3)
    ten = _queries(client, url)

    assert one == ten


def test_pages_need_a_signed_in_user() -> None:
    batch = make_batch(units=1)

    worker_page = Client().get(reverse("marketplace:task_work", kwargs={"batch_id": batch.pk}))
    client_page = Client().get(reverse("marketplace:task_batch_detail", kwargs={"gig_id": batch.gig_id}))

    assert worker_page.status_code == client_page.status_code == 302
    assert worker_page["Location"].startswith(reverse("account_login"))


def test_claim_then_submit_without_javascript() -> None:
    batch = make_batch(units=2, answer_options=["positive", "negative"])
    worker = make_worker()
    client = _client(worker)
    work_url = reverse("marketplace:task_work", kwargs={"batch_id": batch.pk})

    start = client.get(work_url)
    claimed = client.post(reverse("marketplace:task_unit_claim", kwargs={"batch_id": batch.pk}))
    page = client.get(work_url)
    unit = page.context["unit"]
    submitted = client.post(
        reverse("marketplace:task_unit_submit", kwargs={"batch_id": batch.pk, "unit_id": unit.pk}),
        {"answer": "negative"},
    )

    assert start.status_code == 200 and "Start working" in start.content.decode()
    assert claimed.status_code == 302 and claimed["Location"] == work_url
    assert page.status_code == 200 and "Review number 1" in page.content.decode()
    assert 'data-seconds-left="' in page.content.decode()
    assert submitted.status_code == 302
    unit.refresh_from_db()
    assert (unit.status, unit.result) == ("submitted", "negative")


def test_claim_and_submit_with_htmx_swap_in_the_next_unit() -> None:
    batch = make_batch(units=2)
    worker = make_worker()
    client = _client(worker)
    claim_url = reverse("marketplace:task_unit_claim", kwargs={"batch_id": batch.pk})

    claimed = client.post(claim_url, **HTMX)
    unit = TaskUnit.objects.get(batch=batch, status="leased")
    submitted = client.post(
        reverse("marketplace:task_unit_submit", kwargs={"batch_id": batch.pk, "unit_id": unit.pk}),
        {"answer": "  looks fine  "},
        **HTMX,
    )
    following = client.post(claim_url, **HTMX)

    assert claimed.status_code == 200 and "<html" not in claimed.content.decode()
    assert "Review number 1" in claimed.content.decode()
    assert submitted.status_code == 200 and f'hx-post="{claim_url}"' in submitted.content.decode()
    assert 'hx-trigger="load"' in submitted.content.decode()
    assert "Review number 2" in following.content.decode()
    assert statuses(batch) == {"submitted": 1, "leased": 1}


def test_an_empty_answer_shows_the_unit_again_with_the_error() -> None:
    batch = make_batch(units=1)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)

    response = _client(worker).post(
        reverse("marketplace:task_unit_submit", kwargs={"batch_id": batch.pk, "unit_id": unit.pk}),
        {"answer": "   "},
        **HTMX,
    )

    assert response.status_code == 400
    assert "Enter your answer before submitting." in response.content.decode()
    assert "Review number 1" in response.content.decode()
    assert statuses(batch) == {"leased": 1}


def test_submitting_after_the_lease_ran_out_says_so() -> None:
    batch = make_batch(units=1)
    worker = make_worker()
    unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
    TaskUnit.objects.filter(pk=unit.pk).update(leased_until=timezone.now() - timedelta(seconds=1))

    response = _client(worker).post(
        reverse("marketplace:task_unit_submit", kwargs={"batch_id": batch.pk, "unit_id": unit.pk}),
        {"answer": "late"},
    )

    assert response.status_code == 409
    assert "lease on this unit ran out" in response.content.decode()
    assert statuses(batch) == {"leased": 1}


def test_the_work_page_says_all_done_when_nothing_is_left() -> None:
    batch = make_batch(units=1)
    task_unit_claim_next(batch_id=batch.pk, worker=make_worker())
    worker = make_worker()
    client = _client(worker)

    page = client.get(reverse("marketplace:task_work", kwargs={"batch_id": batch.pk}))
    claim = client.post(reverse("marketplace:task_unit_claim", kwargs={"batch_id": batch.pk}), **HTMX)

    assert page.status_code == claim.status_code == 200
    assert "All done here" in page.content.decode() and "All done here" in claim.content.decode()


def test_a_worker_without_the_skills_is_told_which_ones() -> None:
    skill = labelling_skill("Sentiment labelling")
    batch = make_batch(units=1, skills=((skill, 3),))
    worker = make_worker((skill, 1))

    response = _client(worker).post(reverse("marketplace:task_unit_claim", kwargs={"batch_id": batch.pk}))

    assert response.status_code == 403
    assert "Sentiment labelling at level 3 (you have level 1)" in response.content.decode()
    assert statuses(batch) == {"open": 1}


def test_a_draft_batch_is_not_found_for_workers() -> None:
    batch = make_batch(units=1, status=TaskBatch.Status.DRAFT)

    response = _client(make_worker()).get(reverse("marketplace:task_work", kwargs={"batch_id": batch.pk}))

    assert response.status_code == 404


# --- client pages ---------------------------------------------------------------------------------------------------
def test_client_pages_answer_members_and_hide_from_everyone_else() -> None:
    batch = make_batch(units=2)
    member = batch.gig.organization.memberships.get()
    outsider = make_client_member()
    worker = make_worker()
    urls = [
        reverse(name, kwargs={"gig_id": batch.gig_id})
        for name in [
            "marketplace:task_batch_detail",
            "marketplace:task_batch_edit",
            "marketplace:task_unit_review_list",
        ]
    ]

    for url in urls:
        assert _client(member.user).get(url).status_code == 200
        assert _client(outsider.user).get(url).status_code == 404
        assert _client(worker).get(url).status_code == 404


def test_the_batch_page_shows_progress_from_one_aggregate() -> None:
    batch = make_batch(units=5, gold={5: "yes"})
    member = batch.gig.organization.memberships.get()
    _submitted(batch, 2)
    task_unit_claim_next(batch_id=batch.pk, worker=make_worker())

    response = _client(member.user).get(reverse("marketplace:task_batch_detail", kwargs={"gig_id": batch.gig_id}))

    progress = response.context["progress"]
    assert {k: progress[k] for k in ["total", "open", "leased", "submitted", "accepted", "rejected", "gold"]} == {
        "total": 5,
        "open": 2,
        "leased": 1,
        "submitted": 2,
        "accepted": 0,
        "rejected": 0,
        "gold": 1,
    }


def test_a_client_creates_the_batch_from_the_gig_page() -> None:
    member = make_client_member()
    gig = make_gig(member)
    client = _client(member.user)

    redirect = client.get(reverse("marketplace:task_batch_detail", kwargs={"gig_id": gig.pk}))
    form = client.get(redirect["Location"])
    created = client.post(
        reverse("marketplace:task_batch_create", kwargs={"gig_id": gig.pk}),
        {
            "instructions": "Label the sentiment.",
            "answer_options": "positive\nnegative\n\nneutral",
            "unit_price": "0.20",
            "time_limit_minutes": "5",
            "min_accuracy": "",
        },
    )

    assert redirect.status_code == 302 and form.status_code == 200
    assert created.status_code == 302
    batch = TaskBatch.objects.get(gig=gig)
    assert (batch.status, batch.unit_price, batch.answer_options) == (
        "draft",
        Decimal("0.20"),
        ["positive", "negative", "neutral"],
    )


def test_the_batch_form_shows_service_refusals_next_to_the_fields() -> None:
    member = make_client_member()
    gig = make_gig(member)

    response = _client(member.user).post(
        reverse("marketplace:task_batch_create", kwargs={"gig_id": gig.pk}),
        {"instructions": "Do it", "answer_options": "only", "unit_price": "0.20", "time_limit_minutes": "5"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["answer_options"] == [
        "Give at least two answers to choose from, or none for a free answer."
    ]
    assert not TaskBatch.objects.exists()


def test_an_upload_with_bad_rows_lists_every_row_error_next_to_the_file_field() -> None:
    batch = make_batch()
    member = batch.gig.organization.memberships.get()
    upload = SimpleUploadedFile("units.csv", b"id,text\n,missing id\nx,ok\nx,dup\n")

    response = _client(member.user).post(
        reverse("marketplace:task_units_import", kwargs={"gig_id": batch.gig_id}), {"file": upload}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported: 2 rows have problems." in page
    assert "Row 2: the “id” is empty: every unit needs an id." in page
    assert "Row 4: the id “x” is used twice in the file (first on row 3)." in page
    assert response.context["import_form"].errors["file"][0].startswith("Row 2:")
    assert not TaskUnit.objects.exists()


def test_a_good_upload_imports_the_units() -> None:
    batch = make_batch()
    member = batch.gig.organization.memberships.get()
    upload = SimpleUploadedFile("units.jsonl", b'{"id": "a", "payload": {"t": 1}}\n{"id": "b", "payload": {"t": 2}}\n')
    client = _client(member.user)

    response = client.post(reverse("marketplace:task_units_import", kwargs={"gig_id": batch.gig_id}), {"file": upload})

    assert response.status_code == 302
    assert sorted(batch.units.values_list("external_id", flat=True)) == ["a", "b"]
    page = client.get(response["Location"]).content.decode()
    assert "Imported 2 units (0 of them gold quality checks)." in page


def test_another_organisation_cannot_upload() -> None:
    batch = make_batch()
    outsider = make_client_member()
    upload = SimpleUploadedFile("units.csv", b"id,text\n1,a\n")

    response = _client(outsider.user).post(
        reverse("marketplace:task_units_import", kwargs={"gig_id": batch.gig_id}), {"file": upload}
    )

    assert response.status_code == 404
    assert not TaskUnit.objects.exists()


def test_open_and_close_from_the_batch_page() -> None:
    batch = make_batch(units=1, status=TaskBatch.Status.DRAFT)
    member = batch.gig.organization.memberships.get()
    client = _client(member.user)

    opened = client.post(reverse("marketplace:task_batch_open", kwargs={"gig_id": batch.gig_id}))
    batch.refresh_from_db()
    status_after_open = batch.status
    closed = client.post(reverse("marketplace:task_batch_close", kwargs={"gig_id": batch.gig_id}))
    batch.refresh_from_db()

    assert opened.status_code == closed.status_code == 302
    assert (status_after_open, batch.status) == ("open", "closed")


def test_the_review_queue_lists_submitted_units_but_not_gold_ones() -> None:
    batch = make_batch(units=3, gold={3: "x"})
    member = batch.gig.organization.memberships.get()
    _submitted(batch, 3)

    response = _client(member.user).get(reverse("marketplace:task_unit_review_list", kwargs={"gig_id": batch.gig_id}))

    assert [u.external_id for u in response.context["page"].object_list] == ["u1", "u2"]
    assert "&#x27;label&#x27;: &#x27;cat&#x27;" in response.content.decode()


def test_the_review_queue_takes_the_same_number_of_queries_whatever_the_page_size() -> None:
    batch = make_batch(units=120)
    member = batch.gig.organization.memberships.get()
    client = _client(member.user)
    url = reverse("marketplace:task_unit_review_list", kwargs={"gig_id": batch.gig_id})
    _submitted(batch, 3)
    small = _queries(client, f"{url}?per_page=25")

    _submitted(batch, 100)
    full = _queries(client, f"{url}?per_page=100")
    second_page = _queries(client, f"{url}?per_page=25&page=3")

    assert small == full == second_page


def test_accept_and_reject_from_the_review_queue() -> None:
    batch = make_batch(units=2, unit_price=Decimal("0.40"))
    member = batch.gig.organization.memberships.get()
    first, second = _submitted(batch, 2)
    client = _client(member.user)

    accepted = client.post(
        reverse("marketplace:task_unit_accept", kwargs={"gig_id": batch.gig_id, "unit_id": first.pk}),
        {"page": "1", "per_page": "50"},
    )
    rejected = client.post(
        reverse("marketplace:task_unit_reject", kwargs={"gig_id": batch.gig_id, "unit_id": second.pk}),
        {"reason": "Wrong label"},
        **HTMX,
    )

    assert accepted.status_code == 302 and accepted["Location"].endswith("?page=1&per_page=50")
    assert rejected.status_code == 200 and "Rejected: Wrong label" in rejected.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.earned_amount, second.status) == ("accepted", Decimal("0.40"), "rejected")


def test_another_organisation_cannot_review_a_unit() -> None:
    batch = make_batch(units=1)
    unit = _submitted(batch, 1)[0]
    outsider = make_client_member()

    response = _client(outsider.user).post(
        reverse("marketplace:task_unit_accept", kwargs={"gig_id": batch.gig_id, "unit_id": unit.pk})
    )

    assert response.status_code == 404
    assert statuses(batch) == {"submitted": 1}


def test_bulk_accept_and_bulk_reject_with_a_reason() -> None:
    batch = make_batch(units=4)
    member = batch.gig.organization.memberships.get()
    units = _submitted(batch, 4)
    client = _client(member.user)
    url = reverse("marketplace:task_units_bulk_review", kwargs={"gig_id": batch.gig_id})

    accepted = client.post(url, {"action": "accept", "unit_ids": [units[0].pk, units[1].pk]})
    missing_reason = client.post(url, {"action": "reject", "unit_ids": [units[2].pk], "reason": ""})
    rejected = client.post(url, {"action": "reject", "unit_ids": [units[2].pk, units[3].pk], "reason": "Sloppy"})

    assert accepted.status_code == 302 and rejected.status_code == 302
    assert missing_reason.status_code == 400
    assert "Say why the unit is rejected" in missing_reason.content.decode()
    assert statuses(batch) == {"accepted": 2, "rejected": 2}


def test_bulk_review_of_units_of_another_batch_is_not_found() -> None:
    batch = make_batch(units=1)
    member = batch.gig.organization.memberships.get()
    other = make_batch(units=1)
    foreign = _submitted(other, 1)[0]

    response = _client(member.user).post(
        reverse("marketplace:task_units_bulk_review", kwargs={"gig_id": batch.gig_id}),
        {"action": "accept", "unit_ids": [foreign.pk]},
    )

    assert response.status_code == 404
    assert statuses(other) == {"submitted": 1}


def test_new_units_show_in_the_worker_count_after_an_upload() -> None:
    batch = make_batch(units=1)
    worker = make_worker()
    add_units(batch, 2, start=2)

    response = _client(worker).get(reverse("marketplace:task_work", kwargs={"batch_id": batch.pk}))

    assert response.context["remaining"] == 3


def test_the_unit_shows_its_payload_in_the_uploaded_column_order() -> None:
    batch = make_batch(payload_columns=["zeta", "alpha", "middle"])
    TaskUnit.objects.create(
        batch=batch, external_id="x", payload={"alpha": "A", "middle": "M", "zeta": "Z", "new": "N"}
    )
    worker = make_worker()
    task_unit_claim_next(batch_id=batch.pk, worker=worker)

    response = _client(worker).get(reverse("marketplace:task_work", kwargs={"batch_id": batch.pk}))

    assert [row["key"] for row in response.context["payload_rows"]] == ["zeta", "alpha", "middle", "new"]


def test_a_refused_claim_in_the_htmx_flow_says_why_in_place_of_the_unit() -> None:
    batch = make_batch(units=7, gold=dict.fromkeys(range(1, 6), "yes"), min_accuracy=Decimal("80"))
    worker = make_worker()
    for answer in ["no", "no", "yes", "yes", "yes"]:  # 60 %
        unit = task_unit_claim_next(batch_id=batch.pk, worker=worker)
        task_unit_submit(unit_id=unit.pk, worker=worker, result=answer)

    response = _client(worker).post(reverse("marketplace:task_unit_claim", kwargs={"batch_id": batch.pk}), **HTMX)

    assert response.status_code == 403
    page = response.content.decode()
    assert "No more units for you here" in page and "60.0%, below the 80%" in page
    assert "HX-Retarget" not in response
    assert statuses(batch) == {"accepted": 3, "rejected": 2, "open": 2}
