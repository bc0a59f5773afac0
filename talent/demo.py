"""Demo data for talent: vendor firm profiles, freelancer portfolios and languages, and client talent pools.

`seed_talent_demo` builds on what `seed_demo` already loaded (organisations, skills, freelancer profiles). It is
idempotent whatever the random generator's state: rows are matched by natural keys (organisation, skill, name,
role + seniority + unit), and a firm's capabilities, certifications, rate card or team, a freelancer's portfolio
or languages, and a pool's members are only generated while there are none.
"""

from __future__ import annotations

import json
import random
import zlib
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from faker import Faker

from accounts.models import Membership, Organization
from core.countries import COUNTRIES, TIMEZONES_BY_COUNTRY
from talent.models import (
    PortfolioItem,
    ProfileSkill,
    RateCardEntry,
    Skill,
    TalentPool,
    TalentPoolMember,
    TalentProfile,
    VendorCapability,
    VendorCertification,
    VendorProfile,
    VendorTeamMember,
)

DEMO_DIR = Path(__file__).resolve().parents[1] / "core" / "demo"
POOL_CLIENT_COUNT = 10
ACRONYMS = {"bpo": "BPO", "qa": "QA", "seo": "SEO", "ui/ux": "UI/UX", "devops": "DevOps"}
COUNTRIES_WITH_THE = frozenset({"PH", "US", "NL", "AE", "CZ", "DO"})
EUR_COUNTRIES = frozenset({"PL", "RO", "PT", "BG", "DE", "FR", "ES"})

# What each service line of core/demo/vendors.json means in the skill taxonomy, and who delivers it.
SERVICE_LINES: dict[str, dict[str, list[str]]] = {
    "customer support": {
        "skills": [
            "Customer support",
            "Live chat support",
            "Email support",
            "Phone support",
            "Zendesk",
            "Ticket triage",
            "Complaint handling",
            "CSAT and NPS management",
            "Support quality assurance",
        ],
        "roles": ["Support agent", "Customer success specialist"],
    },
    "technical support": {
        "skills": [
            "Technical support",
            "IT help desk",
            "Tier 1 support",
            "Tier 2 support",
            "Jira Service Management",
            "ServiceNow ITSM",
            "SaaS product support",
        ],
        "roles": ["Technical support engineer"],
    },
    "multilingual customer support": {
        "skills": [
            "Multilingual customer support",
            "Spanish-language customer support",
            "German-language customer support",
            "French-language customer support",
        ],
        "roles": ["Multilingual support agent"],
    },
    "arabic customer support": {
        "skills": [
            "Multilingual customer support",
            "Arabic to English translation",
            "English to Arabic translation",
            "Live chat support",
        ],
        "roles": ["Arabic support agent"],
    },
    "software development": {
        "skills": [
            "Python",
            "Django",
            "JavaScript",
            "TypeScript",
            "React",
            "Node.js",
            "Java",
            "Spring Boot",
            "PostgreSQL",
            "REST API design",
            "Microservices architecture",
            "Code review",
        ],
        "roles": ["Software engineer", "Solutions architect"],
    },
    "qa testing": {
        "skills": ["QA automation", "Manual QA testing", "Selenium", "Cypress", "Playwright", "Performance testing"],
        "roles": ["QA engineer"],
    },
    "devops": {
        "skills": ["DevOps", "Docker", "Kubernetes", "Terraform", "CI/CD", "GitHub Actions", "Prometheus"],
        "roles": ["DevOps engineer"],
    },
    "cloud migration": {
        "skills": [
            "Amazon Web Services",
            "Microsoft Azure",
            "Google Cloud Platform",
            "Terraform",
            "Legacy code modernisation",
        ],
        "roles": ["Cloud engineer"],
    },
    "embedded systems": {
        "skills": ["Embedded systems", "C", "C++", "RTOS", "IoT development", "Rust"],
        "roles": ["Embedded engineer"],
    },
    "data engineering": {
        "skills": ["Data engineering", "ETL", "Apache Airflow", "dbt", "Snowflake", "Apache Spark", "SQL"],
        "roles": ["Data engineer"],
    },
    "machine learning": {
        "skills": [
            "Machine learning",
            "PyTorch",
            "scikit-learn",
            "MLOps",
            "Large language models",
            "Natural language processing",
        ],
        "roles": ["Machine learning engineer"],
    },
    "data analytics": {
        "skills": ["Data analysis", "SQL", "Power BI", "Tableau", "Data visualisation", "Looker"],
        "roles": ["Data analyst"],
    },
    "ui/ux design": {
        "skills": ["UI design", "UX design", "Figma", "Prototyping", "User research", "Design systems"],
        "roles": ["Product designer"],
    },
    "web design": {
        "skills": ["Web design", "Landing page design", "Webflow", "Figma", "Web accessibility"],
        "roles": ["Web designer"],
    },
    "game art": {
        "skills": ["Game UI design", "Character design", "Illustration", "3D modelling", "Blender"],
        "roles": ["Game artist"],
    },
    "digital marketing": {
        "skills": [
            "Google Ads",
            "Meta Ads",
            "Social media marketing",
            "Email marketing",
            "Marketing analytics",
            "Content marketing",
        ],
        "roles": ["Digital marketing specialist"],
    },
    "seo": {
        "skills": ["Search engine optimisation", "Technical SEO", "Link building", "SEO writing", "Semrush"],
        "roles": ["SEO specialist"],
    },
    "sales development": {
        "skills": ["Lead generation", "Cold email outreach", "Appointment setting", "Outbound calling"],
        "roles": ["Sales development representative"],
    },
    "translation": {
        "skills": [
            "English to Spanish translation",
            "English to French translation",
            "English to German translation",
            "Technical translation",
            "Machine translation post-editing",
            "Linguistic quality assurance",
        ],
        "roles": ["Translator", "Reviewer"],
    },
    "localisation": {
        "skills": ["Website localisation", "Mobile app localisation", "Transcreation", "Terminology management"],
        "roles": ["Localisation specialist"],
    },
    "software localisation": {
        "skills": ["Software localisation", "Internationalisation", "Crowdin", "Lokalise", "Phrase TMS"],
        "roles": ["Localisation engineer"],
    },
    "subtitling": {
        "skills": ["Subtitling", "Closed captioning", "Dubbing script adaptation"],
        "roles": ["Subtitler"],
    },
    "data labelling": {
        "skills": [
            "Image annotation",
            "Bounding box annotation",
            "Semantic segmentation",
            "Text classification",
            "Named entity annotation",
            "Annotation quality review",
            "RLHF preference ranking",
            "CVAT",
        ],
        "roles": ["Annotator", "Annotation QA reviewer"],
    },
    "content moderation": {
        "skills": ["Content moderation", "Search relevance rating", "LLM response evaluation", "AI red teaming"],
        "roles": ["Content moderator"],
    },
    "transcription": {
        "skills": [
            "Audio transcription",
            "Verbatim transcription",
            "Medical transcription",
            "Speaker diarisation labelling",
        ],
        "roles": ["Transcriptionist"],
    },
    "bpo": {
        "skills": [
            "Back-office operations",
            "Data entry",
            "Document processing",
            "Order management",
            "CRM data management",
        ],
        "roles": ["Back-office associate"],
    },
    "back-office processing": {
        "skills": ["Back-office operations", "Document processing", "Invoice processing", "KYC checks"],
        "roles": ["Back-office associate"],
    },
    "data entry": {
        "skills": ["Data entry", "Document processing", "Product catalogue management", "CRM data management"],
        "roles": ["Data entry operator"],
    },
    "bookkeeping": {
        "skills": ["Bookkeeping", "Bank reconciliation", "QuickBooks", "Xero", "Accounts payable"],
        "roles": ["Bookkeeper"],
    },
    "finance and accounting": {
        "skills": ["Accounts payable", "Accounts receivable", "Month-end close", "Oracle NetSuite", "SAP FICO"],
        "roles": ["Accountant"],
    },
    "payroll administration": {
        "skills": ["Payroll administration", "HR administration", "Employee onboarding administration"],
        "roles": ["Payroll specialist"],
    },
    "claims processing": {
        "skills": ["Claims processing", "Insurance eligibility verification", "Medical billing", "Prior authorisation"],
        "roles": ["Claims processor"],
    },
    "collections": {
        "skills": ["Credit control", "Chargeback management", "Outbound calling", "Accounts receivable"],
        "roles": ["Collections agent"],
    },
    "virtual assistance": {
        "skills": [
            "Virtual assistance",
            "Executive assistance",
            "Calendar management",
            "Inbox management",
            "Travel coordination",
        ],
        "roles": ["Virtual assistant"],
    },
}
MONTHLY_ROLES = frozenset(
    {
        "Support agent",
        "Multilingual support agent",
        "Arabic support agent",
        "Back-office associate",
        "Annotator",
        "Content moderator",
        "Data entry operator",
        "Virtual assistant",
        "Collections agent",
    }
)
SENIORITY_FACTORS = {
    RateCardEntry.Seniority.JUNIOR: Decimal("0.7"),
    RateCardEntry.Seniority.MID: Decimal("1.0"),
    RateCardEntry.Seniority.SENIOR: Decimal("1.4"),
    RateCardEntry.Seniority.LEAD: Decimal("1.8"),
}
GENERAL_CERTIFICATIONS = [
    ("ISO 27001", "BSI"),
    ("SOC 2 Type II", "A-LIGN"),
    ("ISO 9001", "TÜV SÜD"),
    ("GDPR training", "IAPP"),
]
LINE_CERTIFICATIONS = {
    "customer support": [("COPC CX Standard", "COPC Inc."), ("PCI DSS", "PCI Security Standards Council")],
    "claims processing": [("HIPAA training", "HHS-approved provider")],
    "translation": [("ISO 17100", "Bureau Veritas")],
    "localisation": [("ISO 17100", "Bureau Veritas")],
    "software development": [("AWS Partner", "Amazon Web Services")],
    "cloud migration": [("AWS Partner", "Amazon Web Services"), ("Microsoft Solutions Partner", "Microsoft")],
    "finance and accounting": [("ISAE 3402 Type II", "KPMG")],
}
MAJOR_MARKETS = ["US", "GB", "DE", "CA", "AU", "FR", "NL", "ES", "IE", "SE", "AE", "SG"]

LANGUAGES_BY_COUNTRY = {
    "US": ["Spanish"],
    "GB": ["French"],
    "DE": ["German"],
    "FR": ["French"],
    "ES": ["Spanish"],
    "PL": ["Polish"],
    "UA": ["Ukrainian"],
    "RO": ["Romanian"],
    "IN": ["Hindi"],
    "PK": ["Urdu"],
    "BD": ["Bengali"],
    "PH": ["Filipino"],
    "VN": ["Vietnamese"],
    "ID": ["Indonesian"],
    "NG": ["Yoruba"],
    "KE": ["Swahili"],
    "EG": ["Arabic"],
    "ZA": ["Afrikaans"],
    "BR": ["Portuguese"],
    "AR": ["Spanish"],
    "MX": ["Spanish"],
    "CO": ["Spanish"],
    "CA": ["French"],
    "AU": [],
}
EXTRA_LANGUAGES = ["German", "French", "Spanish", "Portuguese", "Italian", "Dutch", "Japanese"]

PORTFOLIO: dict[str, list[tuple[str, str]]] = {
    "software": [
        (
            "Payments API for a fintech start-up",
            "Designed and built the REST API and webhooks that settle 40k card payments a day.",
        ),
        ("Legacy monolith to services", "Split a ten-year-old PHP monolith into four services without downtime."),
        (
            "Booking platform rebuild",
            "Rebuilt a clinic booking app in React and Django; page loads went from 4 s to 0.8 s.",
        ),
    ],
    "data": [
        (
            "Revenue dashboard for a marketplace",
            "Modelled orders in dbt and built the Looker dashboards the board uses weekly.",
        ),
        ("Churn prediction model", "Gradient-boosted model that flags at-risk subscribers two months ahead; 0.81 AUC."),
        ("Warehouse migration to Snowflake", "Moved 3 TB of reporting data and 120 jobs with a parallel-run sign-off."),
    ],
    "design": [
        ("Mobile banking redesign", "Research, flows and a Figma design system for a neobank’s iOS and Android apps."),
        ("SaaS onboarding flow", "Redesigned sign-up and first-run; activation rose from 31% to 46%."),
        ("Brand identity for a coffee roaster", "Logo, packaging and a small brand book."),
    ],
    "marketing": [
        ("B2B SaaS SEO programme", "Technical fixes and 40 articles; organic sign-ups tripled in nine months."),
        ("Paid social relaunch", "Restructured Meta and TikTok campaigns; cost per lead down 38%."),
        ("Lifecycle email series", "Klaviyo flows for an e-commerce brand, 22% of monthly revenue."),
    ],
    "customer_support": [
        ("Help centre rebuild", "Rewrote 180 Zendesk articles; ticket volume fell 25% in a quarter."),
        ("24/7 chat coverage", "Set up follow-the-sun live chat with two partners; first response under 60 s."),
        ("Support QA scorecard", "Introduced a QA rubric and weekly calibration; CSAT up from 86% to 93%."),
    ],
    "bpo": [
        ("Accounts payable clean-up", "Reconciled 14 months of supplier invoices in Xero before an audit."),
        ("KYC back-office for a lender", "Ran document checks for 2,000 applications a month at 99.2% accuracy."),
        ("Order operations for a D2C brand", "Order management and returns across Shopify and three warehouses."),
    ],
    "translation": [
        ("Game localisation, EN → ES", "Localised 120k words of dialogue and UI for a PC strategy game."),
        ("Medical device IFU translation", "Regulatory instructions for use in five languages, ISO 17100 workflow."),
        ("SaaS app localisation", "Set up Lokalise and translated the web and mobile apps into German and French."),
    ],
    "data_labelling": [
        ("Autonomous driving annotation", "Bounding boxes and tracking on 60k frames with a 98% QA pass rate."),
        ("LLM preference data", "Ranked and rewrote model answers for an assistant’s RLHF round."),
        ("Retail shelf image labelling", "Polygon annotation of 25k product photos in CVAT."),
    ],
}

POOLS: list[tuple[str, str, list[str]]] = [
    (
        "Backend bench",
        "Engineers we have hired before and would hire again for API and platform work.",
        ["software", "data"],
    ),
    (
        "Peak-season support",
        "Agents and contact-centre vendors we scale up with for launches and the holidays.",
        ["customer_support", "bpo"],
    ),
    ("Design partners", "Designers and studios for product, brand and campaign work.", ["design", "marketing"]),
    ("AI data operations", "Annotators and labelling vendors for training-data projects.", ["data_labelling", "data"]),
    ("Localisation roster", "Translators and language vendors, by language pair.", ["translation"]),
    ("Finance back office", "Bookkeeping, payables and KYC help for month-end and audits.", ["bpo"]),
    ("Growth marketing", "SEO, paid social and lifecycle specialists.", ["marketing"]),
]
FREELANCER_NOTES = [
    "Delivered ahead of schedule last time; would rehire.",
    "Strong communicator, overlaps with our mornings.",
    "Rate is firm but worth it for complex work.",
    "Met on the Q2 migration project. Prefers async updates.",
    "Good for short, well-scoped tasks.",
    "Referred by our engineering lead.",
    "",
]
VENDOR_NOTES = [
    "Procurement approved; security questionnaire on file.",
    "Used for weekend and holiday coverage.",
    "Good SLA record on our last engagement.",
    "Ask for their team lead before staffing a new project.",
]


def _load(name: str) -> Any:
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


def seed_talent_demo(*, rng: random.Random) -> dict[str, int]:
    """Create the talent demo data that doesn't exist yet; returns how many rows of each kind there are."""
    with transaction.atomic():
        _profile_skill_ids()
        _languages(rng)
        _portfolios(rng)
        _vendors(rng)
        _pools(rng)
    return talent_demo_counts()


def talent_demo_counts() -> dict[str, int]:
    return {
        "vendor_profiles": VendorProfile.objects.count(),
        "vendor_capabilities": VendorCapability.objects.count(),
        "vendor_certifications": VendorCertification.objects.count(),
        "rate_card_entries": RateCardEntry.objects.count(),
        "vendor_team_members": VendorTeamMember.objects.count(),
        "portfolio_items": PortfolioItem.objects.count(),
        "profiles_with_languages": TalentProfile.objects.exclude(languages=[]).count(),
        "profiles_with_skill_ids": TalentProfile.objects.exclude(skill_ids=[]).count(),
        "talent_pools": TalentPool.objects.count(),
        "talent_pool_members": TalentPoolMember.objects.count(),
    }


# --- freelancers -----------------------------------------------------------------------------------------------
def _profile_skill_ids() -> None:
    """Matching reads `skill_ids`; bring every profile's array in step with its skills."""
    skill_ids: dict[int, list[int]] = defaultdict(list)
    for profile_id, skill_id in ProfileSkill.objects.values_list("profile_id", "skill_id"):
        skill_ids[profile_id].append(skill_id)
    stale = []
    for profile in TalentProfile.objects.only("id", "skill_ids"):
        wanted = sorted(skill_ids.get(profile.pk, []))
        if profile.skill_ids != wanted:
            profile.skill_ids = wanted
            stale.append(profile)
    TalentProfile.objects.bulk_update(stale, ["skill_ids"], batch_size=500)


def _languages(rng: random.Random) -> None:
    profiles = list(TalentProfile.objects.filter(languages=[]).only("id", "country", "languages").order_by("pk"))
    for profile in profiles:
        languages = ["English", *LANGUAGES_BY_COUNTRY.get(profile.country, [])]
        if rng.random() < 0.25:
            extra = rng.choice(EXTRA_LANGUAGES)
            if extra not in languages:
                languages.append(extra)
        profile.languages = languages
    TalentProfile.objects.bulk_update(profiles, ["languages"], batch_size=500)


def _profile_categories() -> dict[int, str]:
    """Each profile's main category: that of its strongest skill."""
    best: dict[int, tuple[int, str]] = {}
    rows = ProfileSkill.objects.values_list("profile_id", "level", "skill__category").order_by("profile_id", "skill_id")
    for profile_id, level, category in rows:
        if profile_id not in best or level > best[profile_id][0]:
            best[profile_id] = (level, category)
    return {profile_id: category for profile_id, (_, category) in best.items()}


def _portfolios(rng: random.Random) -> None:
    """Portfolio items for about a third of the freelancers (chosen by a hash of the email, so stable)."""
    categories = _profile_categories()
    with_items = set(PortfolioItem.objects.values_list("profile_id", flat=True))
    items = []
    profiles = TalentProfile.objects.select_related("user").only("id", "user__email", "user__full_name").order_by("pk")
    for profile in profiles:
        if profile.pk in with_items or zlib.crc32(profile.user.email.encode()) % 3 != 0:
            continue
        templates = PORTFOLIO.get(categories.get(profile.pk, "software"), PORTFOLIO["software"])
        handle = slugify(profile.user.full_name) or f"freelancer-{profile.pk}"
        for title, description in rng.sample(templates, k=rng.randint(1, len(templates))):
            items.append(
                PortfolioItem(
                    profile=profile,
                    title=title,
                    description=description,
                    url=f"https://portfolio.example/{handle}/{slugify(title)}",
                )
            )
    PortfolioItem.objects.bulk_create(items, batch_size=500)


# --- vendors ---------------------------------------------------------------------------------------------------
def _vendors(rng: random.Random) -> None:
    entries = {slugify(entry["name"]): entry for entry in _load("vendors.json")}
    countries = {country["code"]: country for country in _load("countries.json")}
    skills = {skill.name: skill for skill in Skill.objects.all()}
    organizations = list(Organization.objects.filter(kind=Organization.Kind.VENDOR).order_by("pk"))
    have_profile = set(VendorProfile.objects.values_list("organization_id", flat=True))

    new_profiles = []
    for organization in organizations:
        if organization.pk in have_profile:
            continue
        entry = entries.get(organization.slug, {})
        lines = [_line_label(line) for line in entry.get("service_lines") or rng.sample(sorted(SERVICE_LINES), k=2)]
        country = countries.get(organization.country, {})
        zones = country.get("timezones") or TIMEZONES_BY_COUNTRY.get(organization.country) or ["UTC"]
        served = [organization.country] if organization.country else []
        served += [code for code in rng.sample(MAJOR_MARKETS, k=rng.randint(2, 5)) if code not in served]
        headcount = entry.get("headcount") or rng.randint(10, 400)
        where = COUNTRIES.get(organization.country, "")
        where = f"the {where}" if organization.country in COUNTRIES_WITH_THE else where
        new_profiles.append(
            VendorProfile(
                organization=organization,
                headline=f"{_sentence_list(lines, first_capital=True)}{f' from {where}' if where else ''}",
                description=(
                    f"{organization.name} is a {headcount:,}-person firm{f' in {where}' if where else ''} "
                    f"delivering {_sentence_list(lines)}. Dedicated teams with named leads, weekly reporting "
                    "and service levels agreed up front; we start with a two-week pilot."
                ),
                service_lines=lines,
                headcount=headcount,
                countries_served=served,
                timezone=zones[0],
            )
        )
    VendorProfile.objects.bulk_create(new_profiles)

    profiles = list(VendorProfile.objects.select_related("organization").order_by("organization_id"))
    _capabilities(rng, profiles, skills)
    _certifications(rng, profiles)
    _rate_cards(rng, profiles, countries)
    _teams(rng, profiles, countries)


def _lower_first(text: str) -> str:
    """ "Support agent" → "support agent", but "QA engineer" stays (acronyms keep their case)."""
    first, _, rest = text.partition(" ")
    return text if any(char.isupper() for char in first[1:]) else f"{first.lower()} {rest}".strip()


def _line_label(line: str) -> str:
    """Display label of a service line: “bpo” → “BPO”, “qa testing” → “QA testing”."""
    words = [ACRONYMS.get(word, word) for word in line.split(" ")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def _sentence_list(items: list[str], *, first_capital: bool = False) -> str:
    items = [_lower_first(item) for item in items if item]
    text = items[0] if len(items) <= 1 else f"{', '.join(items[:-1])} and {items[-1]}"
    return text[:1].upper() + text[1:] if first_capital else text


def _capabilities(rng: random.Random, profiles: list[VendorProfile], skills: dict[str, Skill]) -> None:
    have = set(VendorCapability.objects.values_list("vendor_id", flat=True))
    by_category: dict[str, list[Skill]] = defaultdict(list)
    for skill in sorted(skills.values(), key=lambda s: s.name):
        by_category[skill.category].append(skill)
    rows = []
    for vendor in profiles:
        if vendor.pk in have:
            continue
        # Interleave the service lines' skills so that every line the firm offers is among its capabilities.
        per_line = []
        for line in vendor.service_lines:
            names = [name for name in SERVICE_LINES.get(line.lower(), {}).get("skills", []) if name in skills]
            per_line.append(rng.sample(names, k=len(names)))
        candidates: list[Skill] = []
        for group in zip_longest(*per_line):
            candidates += [skills[name] for name in group if name is not None and skills[name] not in candidates]
        if len(candidates) < 4:
            pool = by_category["customer_support"] + by_category["bpo"]
            candidates += [skill for skill in pool if skill not in candidates][: 4 - len(candidates)]
        chosen = candidates[: rng.randint(4, 10)]
        rows += [VendorCapability(vendor=vendor, skill=skill, level=rng.randint(3, 5)) for skill in chosen]
    VendorCapability.objects.bulk_create(rows, ignore_conflicts=True)


def _certifications(rng: random.Random, profiles: list[VendorProfile]) -> None:
    have = set(VendorCertification.objects.values_list("vendor_id", flat=True))
    today = timezone.localdate()
    rows = []
    for index, vendor in enumerate(profiles):
        if vendor.pk in have:
            continue
        options = list(GENERAL_CERTIFICATIONS)
        for line in vendor.service_lines:
            options += [option for option in LINE_CERTIFICATIONS.get(line.lower(), []) if option not in options]
        for position, (name, issuer) in enumerate(rng.sample(options, k=rng.randint(1, min(3, len(options))))):
            # Every fourth firm has an expired certificate and every fourth one about to expire, so the badges show.
            if position == 0 and index % 4 == 0:
                expires = today - timedelta(days=rng.randint(10, 200))
            elif position == 0 and index % 4 == 1:
                expires = today + timedelta(days=rng.randint(5, 55))
            elif name == "GDPR training":
                expires = None
            else:
                expires = today + timedelta(days=rng.randint(120, 900))
            issued = (expires - timedelta(days=3 * 365)) if expires else today - timedelta(days=rng.randint(60, 900))
            rows.append(
                VendorCertification(vendor=vendor, name=name, issuer=issuer, issued_date=issued, expires_date=expires)
            )
    VendorCertification.objects.bulk_create(rows)


def _rate_cards(rng: random.Random, profiles: list[VendorProfile], countries: dict[str, dict]) -> None:
    have = set(RateCardEntry.objects.values_list("vendor_id", flat=True))
    rows = []
    for vendor in profiles:
        if vendor.pk in have:
            continue
        low, high = countries.get(vendor.organization.country, {}).get("hourly_rate_range", [15, 45])
        currency = "EUR" if vendor.organization.country in EUR_COUNTRIES else "USD"
        roles = list(
            dict.fromkeys(
                role for line in vendor.service_lines for role in SERVICE_LINES.get(line.lower(), {}).get("roles", [])
            )
        )
        roles = roles or ["Specialist"]
        combos = [(role, seniority) for role in roles for seniority in SENIORITY_FACTORS]
        base = {role: Decimal(rng.randint(low, high)) for role in roles}  # mid-level rate; seniority scales it
        for role, seniority in rng.sample(combos, k=min(len(combos), rng.randint(4, 8))):
            hourly = (base[role] * SENIORITY_FACTORS[seniority]).quantize(Decimal("1"))
            monthly = role in MONTHLY_ROLES and rng.random() < 0.5
            rows.append(
                RateCardEntry(
                    vendor=vendor,
                    role=role,
                    seniority=seniority,
                    rate=max(hourly * 160 if monthly else hourly, Decimal("1")),
                    currency=currency,
                    unit=RateCardEntry.Unit.MONTH if monthly else RateCardEntry.Unit.HOUR,
                )
            )
    RateCardEntry.objects.bulk_create(rows, ignore_conflicts=True)


def _teams(rng: random.Random, profiles: list[VendorProfile], countries: dict[str, dict]) -> None:
    have = set(VendorTeamMember.objects.values_list("vendor_id", flat=True))
    entries: dict[int, list[RateCardEntry]] = defaultdict(list)
    for rate_line in RateCardEntry.objects.order_by("pk"):
        entries[rate_line.vendor_id].append(rate_line)
    capabilities: dict[int, list[int]] = defaultdict(list)
    for vendor_id, skill_id in VendorCapability.objects.values_list("vendor_id", "skill_id").order_by("pk"):
        capabilities[vendor_id].append(skill_id)

    # A team member's skills come from the firm's capabilities that belong to their role's service line.
    role_skill_names: dict[str, set[str]] = defaultdict(set)
    for line in SERVICE_LINES.values():
        for role in line["roles"]:
            role_skill_names[role].update(line["skills"])
    skill_names = dict(Skill.objects.filter(vendor_capabilities__isnull=False).values_list("pk", "name").distinct())

    members: list[VendorTeamMember] = []
    member_skills: list[list[int]] = []
    for vendor in profiles:
        if vendor.pk in have:
            continue
        locale = countries.get(vendor.organization.country, {}).get("faker_locale", "en_US")
        fake = Faker(locale)
        fake.seed_instance(f"talent-team-{vendor.organization.slug}")
        for _ in range(rng.randint(3, 8)):
            entry: RateCardEntry | None = rng.choice(entries[vendor.pk]) if entries[vendor.pk] else None
            members.append(
                VendorTeamMember(
                    vendor=vendor,
                    full_name=f"{fake.first_name()} {fake.last_name()}",
                    title=f"{entry.get_seniority_display()} {_lower_first(entry.role)}" if entry else "Specialist",
                    rate_card_entry=entry,
                    is_active=rng.random() > 0.1,
                )
            )
            fitting = [
                skill_id
                for skill_id in capabilities[vendor.pk]
                if entry is None or skill_names.get(skill_id) in role_skill_names[entry.role]
            ] or capabilities[vendor.pk]
            member_skills.append(rng.sample(fitting, k=min(len(fitting), rng.randint(2, 4))))
    VendorTeamMember.objects.bulk_create(members)
    through = VendorTeamMember.skills.through
    through.objects.bulk_create(
        [
            through(vendorteammember_id=member.pk, skill_id=skill_id)
            for member, skill_ids in zip(members, member_skills, strict=True)
            for skill_id in skill_ids
        ],
        ignore_conflicts=True,
    )


# --- talent pools ----------------------------------------------------------------------------------------------
def _pools(rng: random.Random) -> None:
    clients = list(Organization.objects.filter(kind=Organization.Kind.CLIENT).order_by("pk")[:POOL_CLIENT_COUNT])
    owners = {
        membership.organization_id: membership.user
        for membership in Membership.objects.filter(organization__in=clients, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("-created_at")
    }
    wanted = []
    for index, organization in enumerate(clients):
        for offset in (0, 1):
            name, description, categories = POOLS[(2 * index + offset) % len(POOLS)]
            wanted.append((organization, name, description, categories))
    existing = {(pool.organization_id, pool.name): pool for pool in TalentPool.objects.filter(organization__in=clients)}
    TalentPool.objects.bulk_create(
        [
            TalentPool(organization=organization, name=name, description=description)
            for organization, name, description, _ in wanted
            if (organization.pk, name) not in existing
        ]
    )
    pools = {(pool.organization_id, pool.name): pool for pool in TalentPool.objects.filter(organization__in=clients)}
    filled = set(TalentPoolMember.objects.filter(pool__in=pools.values()).values_list("pool_id", flat=True))

    categories_by_profile = _profile_categories()
    freelancers: dict[str, list[int]] = defaultdict(list)
    for profile_id, user_id in (
        TalentProfile.objects.exclude(visibility=TalentProfile.Visibility.PRIVATE)
        .order_by("pk")
        .values_list("pk", "user_id")
    ):
        freelancers[categories_by_profile.get(profile_id, "software")].append(user_id)
    vendors_by_category: dict[str, list[int]] = defaultdict(list)
    category_of_skill = dict(Skill.objects.values_list("pk", "category"))
    for vendor_id, skill_id in VendorCapability.objects.values_list("vendor__organization_id", "skill_id").order_by(
        "pk"
    ):
        category = category_of_skill[skill_id]
        if vendor_id not in vendors_by_category[category]:
            vendors_by_category[category].append(vendor_id)
    all_vendors = sorted({vendor_id for ids in vendors_by_category.values() for vendor_id in ids})

    rows = []
    for organization, name, _, categories in wanted:
        pool = pools[(organization.pk, name)]
        if pool.pk in filled:
            continue
        candidates = [user_id for category in categories for user_id in freelancers[category]]
        for user_id in rng.sample(candidates, k=min(len(candidates), rng.randint(5, 15))):
            rows.append(
                TalentPoolMember(
                    pool=pool,
                    freelancer_id=user_id,
                    notes=rng.choice(FREELANCER_NOTES),
                    added_by=owners.get(organization.pk),
                )
            )
        vendor_candidates = [v for category in categories for v in vendors_by_category[category]] or all_vendors
        vendor_candidates = list(dict.fromkeys(vendor_candidates))
        for vendor_id in rng.sample(vendor_candidates, k=min(len(vendor_candidates), rng.randint(1, 3))):
            rows.append(
                TalentPoolMember(
                    pool=pool, vendor_id=vendor_id, notes=rng.choice(VENDOR_NOTES), added_by=owners.get(organization.pk)
                )
            )
    TalentPoolMember.objects.bulk_create(rows, ignore_conflicts=True)
