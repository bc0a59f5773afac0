"""Demo gigs, bids, hires, reviews and matches for `seed_demo` (idempotent: gigs are matched by organisation
and title, so a second run finds them and adds nothing)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Organization, User
from engagements.models import Contract
from marketplace.models import Bid, Gig, Match
from marketplace.services.bids import BidInput, bid_accept, bid_create, bid_shortlist
from marketplace.services.gigs import GigInput, gig_cancel, gig_create, gig_publish
from marketplace.services.matching import match_gig
from marketplace.services.reviews import review_submit
from talent.models import Skill, TalentProfile

# (title, description, skills it needs) per category; every skill name is in talent/data/skills.json.
GIG_TEMPLATES: dict[str, list[tuple[str, str, list[str]]]] = {
    "software": [
        (
            "Payments API for a subscription product",
            "Build REST endpoints for plans, invoices and payouts.",
            ["Django", "Django REST Framework", "PostgreSQL", "Stripe integration"],
        ),
        (
            "Migrate a Django monolith to Django 6",
            "Upgrade, remove deprecated APIs, keep the test suite green.",
            ["Python", "Django", "PostgreSQL"],
        ),
        (
            "React dashboard for logistics KPIs",
            "Charts and filters over an existing GraphQL API.",
            ["React", "TypeScript", "GraphQL"],
        ),
        (
            "Mobile app bug-fix sprint (Flutter)",
            "Triage and fix the top crash reports from the store.",
            ["Flutter", "Dart"],
        ),
        (
            "Harden our Kubernetes deployment",
            "Resource limits, probes, network policies and a runbook.",
            ["Kubernetes", "Terraform", "Docker"],
        ),
        (
            "Build a Stripe Connect onboarding flow",
            "Express accounts, onboarding links and status webhooks.",
            ["Stripe integration", "Python", "Django"],
        ),
    ],
    "data": [
        (
            "Churn model for a B2B SaaS",
            "Feature engineering and a calibrated model with a short report.",
            ["Machine learning", "scikit-learn", "SQL"],
        ),
        ("dbt models for finance reporting", "Clean staging models and monthly revenue marts.", ["dbt", "SQL"]),
        (
            "Looker dashboards for operations",
            "Five dashboards with definitions agreed with the ops lead.",
            ["Looker", "SQL", "Data visualisation"],
        ),
    ],
    "design": [
        (
            "Design system refresh in Figma",
            "Tokens, components and documentation for the web app.",
            ["Figma", "Design systems", "UI design"],
        ),
        (
            "Landing page redesign",
            "Two concepts, one round of revisions, responsive specs.",
            ["Figma", "Web design", "UI design"],
        ),
    ],
    "marketing": [
        (
            "SEO audit and content plan",
            "Technical audit plus a 3-month editorial calendar.",
            ["Technical SEO", "SEO writing", "Content marketing"],
        ),
        (
            "Paid social campaign for a launch",
            "Set up, run and report on a 6-week campaign.",
            ["Meta Ads", "LinkedIn Ads", "Google Analytics"],
        ),
    ],
    "customer_support": [
        (
            "Tier-1 email support, EU hours",
            "Answer tickets in Zendesk within our macros and SLAs.",
            ["Zendesk", "Email support"],
        ),
        (
            "Live chat cover for the holiday peak",
            "Weekend and evening chat cover for six weeks.",
            ["Live chat support", "Zendesk"],
        ),
    ],
    "bpo": [
        (
            "Invoice data entry and reconciliation",
            "Key supplier invoices and reconcile against POs.",
            ["Invoice processing", "Data entry", "Bank reconciliation"],
        ),
        ("KYC document checks", "Check identity documents against our onboarding policy.", ["KYC checks"]),
    ],
    "translation": [
        (
            "Translate help centre into German",
            "About 40 articles, with our glossary.",
            ["English to German translation", "German localisation"],
        ),
        (
            "Localise app strings into Japanese",
            "UI strings with context screenshots.",
            ["English to Japanese translation", "Japanese localisation"],
        ),
    ],
}

STATE_PLAN = ["draft"] * 15 + ["open"] * 50 + ["in_progress"] * 20 + ["completed"] * 10 + ["cancelled"] * 5


def _skills_for(names: list[str], rng: random.Random, skills_by_name: dict[str, Skill]) -> list[tuple[int, int]]:
    return [(skills_by_name[name].pk, rng.randint(2, 4)) for name in names if name in skills_by_name]


def seed_marketplace_demo(*, rng: random.Random, gig_count: int = 220) -> dict[str, int]:
    clients = list(
        Membership.objects.filter(organization__kind=Organization.Kind.CLIENT, role__in=["owner", "admin"])
        .select_related("organization", "user")
        .order_by("organization__name", "created_at")
        .distinct("organization__name")
    )
    skills_by_name = {skill.name: skill for skill in Skill.objects.all()}
    existing = set(Gig.objects.values_list("organization_id", "title"))
    categories = list(GIG_TEMPLATES)
    created = 0
    demo_freelancer = User.objects.filter(email="freelancer@tandem.test").first()
    demo_hires = {"completed": 0, "in_progress": 0}
    for index in range(gig_count):
        owner = clients[index % len(clients)]
        category = categories[index % len(categories)]
        title, description, skill_names = GIG_TEMPLATES[category][index % len(GIG_TEMPLATES[category])]
        title = f"{title} · {owner.organization.name.split()[0]} #{index + 1}"
        if (owner.organization_id, title) in existing:
            continue
        kind = "fixed" if index % 2 else "hourly"
        low = Decimal(rng.choice([20, 25, 30, 40, 50]))
        data = GigInput(
            title=title,
            description=description,
            deliverables="Delivered in our repository or workspace, reviewed by our team lead.",
            kind=kind,
            budget_amount=Decimal(rng.choice([800, 1500, 2500, 4000, 7500])) if kind == "fixed" else None,
            hourly_rate_min=low if kind == "hourly" else None,
            hourly_rate_max=low + Decimal(rng.choice([20, 30, 50])) if kind == "hourly" else None,
            estimated_hours=rng.choice([20, 40, 80, 160]),
            guardrail_max=Decimal(150) if index % 5 == 0 else None,
            timezone=rng.choice(["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Singapore"]),
            handles_personal_data=category in ("customer_support", "bpo"),
            is_finance=category == "bpo" and index % 2 == 0,
            screening_questions=["What similar work have you done?"] if index % 3 == 0 else [],
            skills=_skills_for(skill_names, rng, skills_by_name),
        )
        gig = gig_create(organization_id=owner.organization_id, data=data, by=owner.user)
        created += 1
        state = STATE_PLAN[index % len(STATE_PLAN)]
        if state == "draft":
            continue
        gig_publish(gig_id=gig.pk, by=owner.user)
        if state == "cancelled":
            gig_cancel(gig_id=gig.pk, by=owner.user, reason="Priorities changed")
            continue
        match_gig(gig_id=gig.pk, limit=25)
        # The demo freelancer's history: three finished contracts (reviewed) and an hourly one under way.
        wanted = (state == "completed" and demo_hires["completed"] < 3) or (
            state == "in_progress" and kind == "hourly" and demo_hires["in_progress"] < 1
        )
        bids = _demo_bids(gig, data, rng, prefer=demo_freelancer if wanted else None)
        if state in ("in_progress", "completed") and bids:
            chosen = next(
                (bid for bid in bids if wanted and demo_freelancer and bid.freelancer_id == demo_freelancer.pk),
                bids[0],
            )
            if wanted and demo_freelancer and chosen.freelancer_id == demo_freelancer.pk:
                demo_hires[state] += 1
            bid_shortlist(bid_id=chosen.pk, by=owner.user)
            contract = bid_accept(bid_id=chosen.pk, by=owner.user)
            Contract.objects.filter(pk=contract.pk).update(
                status=Contract.Status.ACTIVE, start_date=timezone.localdate()
            )
            if state == "completed":
                Contract.objects.filter(pk=contract.pk).update(
                    status=Contract.Status.COMPLETED, ended_at=timezone.now()
                )
                Gig.objects.filter(pk=gig.pk).update(status=Gig.Status.COMPLETED)
                review_submit(
                    contract_id=contract.pk,
                    by=owner.user,
                    rating=rng.choice([4, 5, 5, 3]),
                    comment=rng.choice(
                        [
                            "Great communication and solid delivery.",
                            "Delivered on time.",
                            "Good work, needed a couple of revisions.",
                        ]
                    ),
                )
                worker = (
                    contract.freelancer
                    or Membership.objects.get(organization_id=int(contract.vendor_id or 0), role="owner").user
                )
                review_submit(
                    contract_id=contract.pk,
                    by=worker,
                    rating=rng.choice([4, 5]),
                    comment="Clear brief and quick feedback.",
                )
    return {
        "gigs": Gig.objects.count(),
        "gigs_created": created,
        "bids": Bid.objects.count(),
        "contracts": Contract.objects.count(),
        "matches": Match.objects.count(),
    }


def _demo_bids(gig: Gig, data: GigInput, rng: random.Random, *, prefer: User | None = None) -> list[Bid]:
    """Three to six bids from matched freelancers (and sometimes a vendor firm); `prefer` bids first when the
    gig matched them."""
    candidates = list(
        Match.objects.filter(gig=gig)
        .filter(Q(freelancer__isnull=False) | Q(vendor__isnull=False))
        .order_by("rank")[:12]
    )
    rng.shuffle(candidates)
    if prefer is not None:
        preferred = Match.objects.filter(gig=gig, freelancer=prefer).first()  # ranked anywhere in the 25
        if preferred is not None:
            candidates = [preferred, *(match for match in candidates if match.pk != preferred.pk)]
    bids: list[Bid] = []
    for match in candidates[: rng.randint(3, 6)]:
        if match.freelancer_id:
            by: User | None = match.freelancer
            vendor_id = None
            profile = TalentProfile.objects.filter(user_id=match.freelancer_id).first()
            rate = profile.hourly_rate if profile and profile.hourly_rate else Decimal(40)
        else:
            membership = (
                Membership.objects.filter(organization_id=int(match.vendor_id or 0)).exclude(role="finance").first()
            )
            if membership is None:
                continue
            by, vendor_id, rate = membership.user, match.vendor_id, Decimal(35)
        bid_input: dict[str, Any] = {
            "cover_letter": rng.choice(
                [
                    "I've delivered this kind of work several times; happy to share examples.",
                    "This fits my recent projects well. I can start next week.",
                    "Our team has done this for two clients this year; we can staff it quickly.",
                ]
            ),
            "estimated_hours": data.estimated_hours,
            "screening_answers": ["A similar project for a fintech client last year."] * len(data.screening_questions),
            "vendor_organization_id": vendor_id,
        }
        if gig.kind == "fixed":
            bid_input["amount"] = (data.budget_amount or Decimal(1000)) * Decimal(
                rng.choice(["0.8", "0.9", "1", "1.1"])
            )
        else:
            bid_input["hourly_rate"] = rate
        bids.append(bid_create(gig_id=gig.pk, data=BidInput(**bid_input), by=by))  # type: ignore[arg-type]
    return bids
