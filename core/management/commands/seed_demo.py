"""Load realistic demo data once: `manage.py seed_demo` is idempotent (a second run changes nothing).

Everything is derived from a fixed random seed and the data files under core/demo/ and talent/data/, and every
row is matched by a natural key (email, slug), so re-running finds what exists instead of duplicating it.
Later issues extend this command with their own models.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils.text import slugify
from faker import Faker

from accounts.models import Membership, Organization, User
from accounts.staff_groups import COMPLIANCE_REVIEWERS, FINANCE, SUPPORT
from billing.demo import demo_payments, seed_billing_demo
from compliance.demo import seed_compliance_demo
from core.services import audit_seal
from engagements.demo import seed_engagements_demo
from engagements.demo_sows import seed_sows_demo
from marketplace.demo import seed_marketplace_demo
from marketplace.demo_microtasks import seed_microtask_demo
from talent.demo import seed_talent_demo
from talent.models import ProfileSkill, Skill, TalentProfile
from talent.services import skill_taxonomy_load, talent_profile_search_vector_refresh

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105 - published demo login, never a real account
FREELANCER_COUNT = 300
SEED = 2026


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    description: str


DEMO_LOGINS = [
    DemoLogin("client@tandem.test", "client", "owner of the client Ledgerline Payments"),
    DemoLogin("finance@tandem.test", "client", "finance member of Ledgerline Payments"),
    DemoLogin("vendor@tandem.test", "vendor", "owner of the vendor firm Indus Ridge Solutions"),
    DemoLogin("freelancer@tandem.test", "freelancer", "a freelance Django engineer"),
    DemoLogin("ops@tandem.test", "staff", "ops staff: compliance reviewer and support (admin)"),
    DemoLogin("finance-ops@tandem.test", "staff", "ops staff: finance (admin)"),
    DemoLogin("admin@tandem.test", "superuser", "superuser (admin)"),
]


def _load(name: str) -> Any:
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


class Command(BaseCommand):
    help = "Load the demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.rng = random.Random(SEED)
        self.password_hash = make_password(DEMO_PASSWORD)
        with transaction.atomic(), demo_payments() as fund:
            skills = skill_taxonomy_load()
            staff = self._staff()
            clients = self._organizations(_load("clients.json"), Organization.Kind.CLIENT)
            vendors = self._organizations(_load("vendors.json"), Organization.Kind.VENDOR)
            freelancers = self._freelancers()
            self._demo_memberships()
            talent = seed_talent_demo(rng=self.rng)
            talent_profile_search_vector_refresh()
            marketplace = seed_marketplace_demo(rng=self.rng)
            compliance = seed_compliance_demo(rng=self.rng)  # before anything that needs the gate open
            engagements = seed_engagements_demo(rng=self.rng, fund=fund)
            microtasks = seed_microtask_demo(
                client_organization=Organization.objects.get(slug="ledgerline-payments"),
                workers=list(
                    User.objects.filter(talent_profile__profile_skills__skill__category="data_labelling")
                    .distinct()
                    .order_by("pk")
                ),
                rng=self.rng,
            )
            sows = seed_sows_demo(rng=self.rng)  # after the others, so the random draws above stay as they were
            billing = seed_billing_demo(rng=self.rng, fund=fund)  # bills the work seeded above
        audit_seal()  # chain what the seeding recorded now, rather than leave it to the worker's first run
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {skills} skills, {clients} client organisations, {vendors} vendor firms, "
                f"{freelancers} freelancers, {staff} ops staff."
            )
        )
        self.stdout.write(
            f"Talent: {talent['vendor_profiles']} vendor profiles with {talent['rate_card_entries']} rate-card lines "
            f"and {talent['vendor_team_members']} team members, {talent['talent_pools']} talent pools."
        )
        self.stdout.write(
            f"Marketplace: {marketplace['gigs']} gigs, {marketplace['bids']} bids, "
            f"{marketplace['contracts']} contracts, {marketplace['matches']} matches; micro-task batch of "
            f"{microtasks['units']} units ({microtasks['accepted']} accepted, {microtasks['submitted']} to review)."
        )
        self.stdout.write(
            f"Engagements: {engagements['contracts']} contracts, {engagements['milestones']} milestones, "
            f"{engagements['timesheets']} weekly timesheets."
        )
        self.stdout.write(
            f"Compliance: {compliance['documents']} documents ({compliance['approved']} approved, "
            f"{compliance['waiting']} waiting for review, {compliance['rejected']} rejected, {compliance['expired']} "
            f"expired), {compliance['screening_hits']} screening hits, {compliance['assessments_pending']} "
            "classification assessments waiting for sign-off."
        )
        self.stdout.write(
            f"Statements of work: {sows['statements_of_work']} with {sows['service_levels']} service levels, "
            f"{sows['measurements']} SLA measurements, {sows['evaluations']} evaluated months, "
            f"{sows['breaches']} breaches, {sows['usage']} usage lines."
        )
        self.stdout.write(
            f"Billing: {billing['invoices']} invoices ({billing['paid']} paid, {billing['open']} open, "
            f"{billing['overdue']} overdue, {billing['credited']} credited), {billing['invoice_payments']} invoice "
            f"payments; payouts {billing['payouts_paid']} paid, {billing['payouts_pending']} queued, "
            f"{billing['payouts_failed']} failed."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.email:<26} {login.description}")

    # --- helpers ------------------------------------------------------------------------------------------------
    def _users(self, rows: list[dict[str, Any]]) -> dict[str, User]:
        """Create the users that don't exist yet (matched by email), verified; return all of them by email."""
        emails = [row["email"] for row in rows]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        User.objects.bulk_create(
            [User(password=self.password_hash, **row) for row in rows if row["email"] not in existing]
        )
        users = {user.email: user for user in User.objects.filter(email__in=emails)}
        verified = set(EmailAddress.objects.filter(email__in=emails).values_list("email", flat=True))
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=users[email], email=email, verified=True, primary=True)
                for email in emails
                if email not in verified
            ]
        )
        return users

    def _staff(self) -> int:
        rows = [
            {"email": "ops@tandem.test", "full_name": "Olivia Park", "country": "GB", "is_staff": True},
            {"email": "finance-ops@tandem.test", "full_name": "Farid Haddad", "country": "GB", "is_staff": True},
            {
                "email": "admin@tandem.test",
                "full_name": "Ada Admin",
                "country": "GB",
                "is_staff": True,
                "is_superuser": True,
            },
        ]
        users = self._users(rows)
        groups = {
            group.name: group for group in Group.objects.filter(name__in=[COMPLIANCE_REVIEWERS, FINANCE, SUPPORT])
        }
        users["ops@tandem.test"].groups.add(groups[COMPLIANCE_REVIEWERS], groups[SUPPORT])
        users["finance-ops@tandem.test"].groups.add(groups[FINANCE])
        return len(users)

    def _organizations(self, entries: list[dict[str, Any]], kind: str) -> int:
        """Each organisation with an owner and one to three colleagues in other roles."""
        countries = {c["code"]: c for c in _load("countries.json")}
        user_rows: list[dict[str, Any]] = []
        plan: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
        for entry in entries:
            locale = countries.get(entry["country"], {}).get("faker_locale", "en_US")
            fake = Faker(locale)
            fake.seed_instance(f"{SEED}-{entry['name']}")
            domain = entry["website_domain"]
            staff: list[tuple[str, str]] = []
            roles = [
                Membership.Role.OWNER,
                *self.rng.sample(
                    [Membership.Role.ADMIN, Membership.Role.MEMBER, Membership.Role.FINANCE], k=self.rng.randint(1, 3)
                ),
            ]
            for index, role in enumerate(roles):
                name = f"{fake.first_name()} {fake.last_name()}"
                email = f"{slugify(name).replace('-', '.') or 'member'}.{index}@{domain}"
                user_rows.append({"email": email, "full_name": name, "country": entry["country"]})
                staff.append((email, role))
            plan.append((entry, staff))
        users = self._users(user_rows)

        slugs = [slugify(entry["name"]) for entry in entries]
        existing = set(Organization.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        Organization.objects.bulk_create(
            [
                Organization(
                    name=entry["name"],
                    slug=slugify(entry["name"]),
                    kind=kind,
                    country=entry["country"],
                    website=f"https://{entry['website_domain']}",
                )
                for entry in entries
                if slugify(entry["name"]) not in existing
            ]
        )
        organizations = {o.slug: o for o in Organization.objects.filter(slug__in=slugs)}
        Membership.objects.bulk_create(
            [
                Membership(user=users[email], organization=organizations[slugify(entry["name"])], role=role)
                for entry, staff in plan
                for email, role in staff
            ],
            ignore_conflicts=True,
        )
        return len(organizations)

    def _freelancers(self) -> int:
        countries = _load("countries.json")
        templates: dict[str, list[dict[str, Any]]] = _load("freelancer_profiles.json")
        # Demand-weighted mix of work: software and support dominate, as they do on real marketplaces.
        category_weights = {
            "software": 28,
            "data": 14,
            "design": 10,
            "marketing": 9,
            "customer_support": 14,
            "bpo": 11,
            "translation": 7,
            "data_labelling": 7,
        }
        skills = {skill.name: skill for skill in Skill.objects.all()}
        fakers: dict[str, Faker] = {}

        rows: list[dict[str, Any]] = []
        profiles: list[dict[str, Any]] = []
        for index in range(FREELANCER_COUNT):
            if index == 0:
                country = next(c for c in countries if c["code"] == "PL")
                category, template = "software", templates["software"][0]
                name, email = "Marta Kowalska", "freelancer@tandem.test"
            else:
                country = self.rng.choices(countries, weights=[c["weight"] for c in countries])[0]
                category = self.rng.choices(list(category_weights), weights=list(category_weights.values()))[0]
                template = self.rng.choice(templates[category])
                fake = fakers.setdefault(country["faker_locale"], Faker(country["faker_locale"]))
                fake.seed_instance(f"{SEED}-{index}")
                name = f"{fake.first_name()} {fake.last_name()}"
                handle = slugify(name).replace("-", ".") or "freelancer"
                email = f"{handle}.{index:03d}@freelancers.tandem.test"
            low, high = country["hourly_rate_range"]
            rows.append({"email": email, "full_name": name, "country": country["code"]})
            profiles.append(
                {
                    "email": email,
                    "headline": template["headline"],
                    "bio": template["bio"],
                    "country": country["code"],
                    "timezone": self.rng.choice(country["timezones"]),
                    "hourly_rate": Decimal(self.rng.randint(low, high)),
                    "currency": "USD",
                    "weekly_hours": self.rng.choice([10, 20, 20, 30, 40, 40]),
                    "skills": [
                        (skills[skill_name], self.rng.randint(2, 5), self.rng.randint(1, 12))
                        for skill_name in template["skills"]
                        if skill_name in skills
                    ],
                    "category": category,
                }
            )
        users = self._users(rows)

        have_profile = set(TalentProfile.objects.filter(user__in=users.values()).values_list("user__email", flat=True))
        TalentProfile.objects.bulk_create(
            [
                TalentProfile(
                    user=users[p["email"]],
                    headline=p["headline"],
                    bio=p["bio"],
                    country=p["country"],
                    timezone=p["timezone"],
                    hourly_rate=p["hourly_rate"],
                    currency=p["currency"],
                    weekly_hours=p["weekly_hours"],
                )
                for p in profiles
                if p["email"] not in have_profile
            ]
        )
        by_email = {
            profile.user.email: profile
            for profile in TalentProfile.objects.filter(user__in=users.values()).select_related("user")
        }
        ProfileSkill.objects.bulk_create(
            [
                ProfileSkill(profile=by_email[p["email"]], skill=skill, level=level, years=years)
                for p in profiles
                for skill, level, years in p["skills"]
            ],
            ignore_conflicts=True,
        )
        # The skill-id array matching searches, derived from the rows above in one statement.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE talent_talentprofile p SET skill_ids = agg.ids FROM ("
                "  SELECT profile_id, array_agg(skill_id ORDER BY skill_id) AS ids FROM talent_profileskill"
                "  GROUP BY profile_id) agg WHERE agg.profile_id = p.id AND p.skill_ids <> agg.ids"
            )
        return len(by_email)

    def _demo_memberships(self) -> None:
        """The named demo logins join the first client and vendor organisations."""
        client = Organization.objects.get(slug="ledgerline-payments")
        vendor = Organization.objects.get(slug="indus-ridge-solutions")
        users = self._users(
            [
                {"email": "client@tandem.test", "full_name": "Claire Mendes", "country": "US"},
                {"email": "finance@tandem.test", "full_name": "Frank Osei", "country": "US"},
                {"email": "vendor@tandem.test", "full_name": "Vikram Nair", "country": "IN"},
            ]
        )
        for email, organization, role in [
            ("client@tandem.test", client, Membership.Role.OWNER),
            ("finance@tandem.test", client, Membership.Role.FINANCE),
            ("vendor@tandem.test", vendor, Membership.Role.OWNER),
        ]:
            Membership.objects.get_or_create(user=users[email], organization=organization, defaults={"role": role})
