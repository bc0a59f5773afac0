"""The micro-task demo data: realistic, consistent with the rules, and loaded only once."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count, Q

from marketplace.demo_microtasks import DEMO_GIG_TITLE, seed_microtask_demo
from marketplace.models import Gig, TaskBatch, TaskUnit
from tests.marketplace.test_microtasks_support import labelling_skill, make_client_member, make_worker

pytestmark = pytest.mark.django_db


def test_seed_microtask_demo_creates_a_worked_batch_once() -> None:
    classification, sentiment = labelling_skill("Text classification"), labelling_skill("Sentiment labelling")
    member = make_client_member()
    workers = [make_worker((classification, 3), (sentiment, 2)) for _ in range(4)] + [make_worker()]

    counts = seed_microtask_demo(client_organization=member.organization, workers=workers, rng=random.Random(7))
    again = seed_microtask_demo(client_organization=member.organization, workers=workers, rng=random.Random(99))

    assert counts == again
    assert (counts["units"], counts["gold_units"], counts["leased"], counts["submitted"]) == (500, 25, 3, 45)
    assert counts["accepted"] + counts["rejected"] == 257 - counts["submitted"]
    assert counts["open"] == 240
    assert Gig.objects.count() == TaskBatch.objects.count() == 1 and TaskUnit.objects.count() == 500
    gig = Gig.objects.get()
    assert (gig.title, gig.kind, gig.status) == (DEMO_GIG_TITLE, "micro_task", "open")
    assert {(gs.skill.name, gs.min_level) for gs in gig.gig_skills.all()} == {
        ("Text classification", 2),
        ("Sentiment labelling", 2),
    }
    worked_by = set(TaskUnit.objects.exclude(claimed_by=None).values_list("claimed_by", flat=True))
    assert worked_by <= {w.pk for w in workers[:4]}  # only qualified workers did the work
    unpaid = TaskUnit.objects.filter(Q(is_gold=True) | ~Q(status="accepted"), earned_amount__isnull=False)
    assert not unpaid.exists()
    one_lease_each = TaskUnit.objects.filter(status="leased").values("claimed_by").annotate(n=Count("id"))
    assert {row["n"] for row in one_lease_each} == {1}
