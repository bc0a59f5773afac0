"""Sanctions screening against the bundled sample list: fuzzy matching in PostgreSQL (pg_trgm on unaccented,
normalised names) with a threshold; hits wait for ops and never reject anyone by themselves; running it again adds
nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Organization
from accounts.staff_groups import COMPLIANCE_REVIEWERS
from compliance.data.sanctions_file import BUNDLED_SANCTIONS_FILE, sanctions_file_parse
from compliance.gate import payout_blockers
from compliance.models import SanctionsEntry, ScreeningHit
from compliance.services.checks import (
    RESCREEN_ACTION,
    screening_hit_decide,
    screening_rescreen_subjects,
    screening_run,
)
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

SAMPLE_SOURCE = (
    "Tandem sample list (fictional entries in the OFAC SDN.CSV layout; no entry is a real person, firm or vessel)"
)


def make_reviewer():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_REVIEWERS))
    return user


def person(full_name: str):
    return TalentProfileFactory(user__full_name=full_name).user


def hits_of(user=None, organization=None) -> list[tuple[str, str, Decimal, str]]:
    rows = ScreeningHit.objects.filter(user=user, organization=organization).order_by("list_entry_id")
    return [(hit.list_entry_id, hit.screened_name, hit.score, hit.status) for hit in rows]


def test_the_bundled_list_is_loaded_with_its_source_and_date():
    parsed = sanctions_file_parse(BUNDLED_SANCTIONS_FILE)

    assert SanctionsEntry.objects.count() == len(parsed.names) == 86
    assert SanctionsEntry.objects.filter(is_alias=False).count() == 61
    assert set(SanctionsEntry.objects.values_list("list_source", "list_date").distinct()) == {
        (SAMPLE_SOURCE, date(2026, 11, 1))
    }
    entry = SanctionsEntry.objects.get(name="MÜLLER-GRANDVAL, Friederike Annelie")
    assert (entry.normalized_name, entry.kind, entry.list_entry_id) == (
        "muller grandval friederike annelie",
        "individual",
        "990006",
    )
    alias = SanctionsEntry.objects.get(name="MUELLER GRANDVAL, Friederike")
    assert (alias.is_alias, alias.primary_name, alias.list_entry_id) == (
        True,
        "MÜLLER-GRANDVAL, Friederike Annelie",
        "990006",
    )


def test_the_name_index_is_a_gin_trigram_index():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'sanctions_name_trgm'")
        (definition,) = cursor.fetchone()

    assert "USING gin (normalized_name gin_trgm_ops)" in definition


# screened name → the listed entry it must hit, with its score (similarity on normalised names)
MATCHES = [
    # exactly as listed, and as people write their own name (given names first)
    ("VASQUEZ-ORTEGA, Josué Ramón", "990001", Decimal("1.000")),
    ("Josué Ramón Vasquez-Ortega", "990001", Decimal("1.000")),
    # accents and transliterations: é/e, ü/ue, ø/o, Mohammed/Mohamed, Farouk/Faruq
    ("Josue Ramon Vasquez Ortega", "990001", Decimal("1.000")),
    ("Friederike Mueller-Grandval", "990006", Decimal("1.000")),
    ("Friederike Müller Grandval", "990006", Decimal("1.000")),
    ("Magnus Ostergaard Vinther", "990011", Decimal("1.000")),
    ("Mohamed Farouk Qadiri", "990002", Decimal("0.875")),
    ("Muhammad Faruq al-Qadiri", "990002", Decimal("0.880")),
    # swapped word order
    ("Ortega Vasquez Josue Ramon", "990001", Decimal("1.000")),
    ("Sergeyevich Dmitriy Kovalenko", "990003", Decimal("1.000")),
    # the person's two names inside a longer listed name (no patronymic, no middle name)
    ("Dmitri Kovalenko", "990003", Decimal("0.842")),
    ("Cornelius Holt", "990005", Decimal("1.000")),
    ("Josue Vasquez", "990001", Decimal("0.667")),
]


@pytest.mark.parametrize(("name", "entry_id", "score"), MATCHES)
def test_possible_matches_become_pending_hits(name, entry_id, score):
    user = person(name)

    created = screening_run(user_id=user.pk)

    assert [(hit.list_entry_id, hit.score, hit.status) for hit in created] == [(entry_id, score, "pending")]
    hit = created[0]
    assert (hit.screened_name, hit.list_source) == (name, SAMPLE_SOURCE)
    assert hit.listed_name == SanctionsEntry.objects.filter(list_entry_id=entry_id, is_alias=False).get().name


# clearly different people, and people who share one name with a listed person: below the threshold
NO_MATCHES = [
    "John Smith",
    "Maria Gonzalez",
    "Ahmed Hassan",
    "Yuki Tanaka",
    "Kerem Smith",  # shares the given name of YILDIRIMOGLU, Kerem Baturalp (0.50)
    "Maria Ortega",  # shares a surname of VASQUEZ-ORTEGA, Josué Ramón (0.54)
    "Sarah Mueller",  # shares a surname of MUELLER GRANDVAL, Friederike (0.57)
    "Kovalenko",  # one word alone is not matched inside longer names
]


@pytest.mark.parametrize("name", NO_MATCHES)
def test_different_names_stay_below_the_threshold(name):
    user = person(name)

    assert screening_run(user_id=user.pk) == []
    assert not ScreeningHit.objects.exists()


def test_the_threshold_comes_from_settings(settings):
    user = person("Mohamed Farouk Qadiri")  # 0.875
    settings.SANCTIONS_MATCH_THRESHOLD = 0.9

    assert screening_run(user_id=user.pk) == []

    settings.SANCTIONS_MATCH_THRESHOLD = 0.85
    assert [hit.list_entry_id for hit in screening_run(user_id=user.pk)] == ["990002"]


def test_people_are_screened_against_individuals_and_organisations_against_entities():
    named_like_a_firm = person("Crimson Meridian Trading")
    firm = OrganizationFactory(name="Crimson Meridian Trading", kind=Organization.Kind.VENDOR)
    clean_firm = OrganizationFactory(name="Ledgerline Payments")

    assert screening_run(user_id=named_like_a_firm.pk) == []
    created = screening_run(organization_id=firm.pk)
    assert screening_run(organization_id=clean_firm.pk) == []

    assert hits_of(organization=firm) == [("990101", "Crimson Meridian Trading", Decimal("1.000"), "pending")]
    assert created[0].user is None


def test_screening_twice_adds_nothing():
    user = person("Josue Ramon Vasquez Ortega")
    screening_run(user_id=user.pk)
    before = hits_of(user=user)
    events = AuditEvent.objects.filter(action="screening_hit.created").count()

    again = screening_run(user_id=user.pk)

    assert again == []
    assert hits_of(user=user) == before
    assert AuditEvent.objects.filter(action="screening_hit.created").count() == events == 1


def test_a_decided_hit_stays_decided_and_a_new_name_is_screened_again():
    user = person("Josue Ramon Vasquez Ortega")
    [hit] = screening_run(user_id=user.pk)
    screening_hit_decide(hit_id=hit.pk, by=make_reviewer(), decision="cleared", note="Different date of birth.")

    assert screening_run(user_id=user.pk) == []
    user.full_name = "Josué Vasquez-Ortega Ramón"
    user.save()
    [renamed] = screening_run(user_id=user.pk)

    assert hits_of(user=user) == [
        ("990001", "Josue Ramon Vasquez Ortega", Decimal("1.000"), "cleared"),
        ("990001", "Josué Vasquez-Ortega Ramón", Decimal("1.000"), "pending"),
    ]
    assert renamed.status == "pending"


def test_a_hit_never_rejects_by_itself_it_blocks_at_the_gate_until_cleared():
    user = person("Dmitri Kovalenko")
    [hit] = screening_run(user_id=user.pk)

    user.refresh_from_db()
    assert user.is_active is True
    assert payout_blockers(user=user, organization=None)[0] == (
        "Sanctions screening: a possible name match is being checked by our compliance team."
    )

    screening_hit_decide(hit_id=hit.pk, by=make_reviewer(), decision="cleared", note="Other person (DOB differs).")

    assert not any("Sanctions" in blocker for blocker in payout_blockers(user=user, organization=None))


def test_a_confirmed_match_blocks_for_good():
    user = person("Dmitri Kovalenko")
    [hit] = screening_run(user_id=user.pk)

    decided = screening_hit_decide(hit_id=hit.pk, by=make_reviewer(), decision="confirmed", note="Passport matches.")

    assert decided.status == "confirmed"
    assert payout_blockers(user=user, organization=None)[0].startswith("Sanctions screening: a confirmed match")


def test_deciding_is_for_reviewers_only_and_nothing_changes_otherwise():
    user = person("Dmitri Kovalenko")
    [hit] = screening_run(user_id=user.pk)

    for outsider in (UserFactory(is_staff=True), user):
        with pytest.raises(PermissionDenied):
            screening_hit_decide(hit_id=hit.pk, by=outsider, decision="cleared", note="Not them.")

    hit.refresh_from_db()
    assert (hit.status, hit.reviewed_by, hit.decision_note) == ("pending", None, "")
    assert not AuditEvent.objects.filter(action__in=["screening_hit.cleared", "screening_hit.confirmed"]).exists()


def test_a_decision_is_audited_with_the_reviewer_and_the_states():
    reviewer = make_reviewer()
    [hit] = screening_run(user_id=person("Dmitri Kovalenko").pk)

    screening_hit_decide(hit_id=hit.pk, by=reviewer, decision="cleared", note="Different date of birth.")

    hit.refresh_from_db()
    assert (hit.status, hit.reviewed_by, hit.decision_note) == ("cleared", reviewer, "Different date of birth.")
    event = AuditEvent.objects.get(action="screening_hit.cleared")
    assert (event.actor_id, event.target_id, event.from_state, event.to_state) == (
        reviewer.pk,
        str(hit.pk),
        "pending",
        "cleared",
    )


@pytest.mark.parametrize(
    ("decision", "note", "message"),
    [("rejected", "Why not.", "cleared or confirmed"), ("cleared", "   ", "Say why")],
)
def test_a_decision_needs_a_known_outcome_and_a_reason(decision, note, message):
    [hit] = screening_run(user_id=person("Dmitri Kovalenko").pk)

    with pytest.raises(ApplicationError, match=message):
        screening_hit_decide(hit_id=hit.pk, by=make_reviewer(), decision=decision, note=note)

    hit.refresh_from_db()
    assert hit.status == "pending"


def test_a_hit_is_decided_once():
    reviewer = make_reviewer()
    [hit] = screening_run(user_id=person("Dmitri Kovalenko").pk)
    screening_hit_decide(hit_id=hit.pk, by=reviewer, decision="cleared", note="Other person.")

    with pytest.raises(ApplicationError) as error:
        screening_hit_decide(hit_id=hit.pk, by=reviewer, decision="confirmed", note="Changed my mind.")

    assert error.value.status == 409
    hit.refresh_from_db()
    assert hit.status == "cleared"


# --- the daily re-screen ------------------------------------------------------------------------------------------


def test_rescreen_covers_everyone_first_then_only_who_changed_then_everyone_after_a_new_list(tmp_path):
    start = timezone.now()

    def at(hours: int):
        return mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=hours))

    with at(0):
        alice, bob = person("Alice Example"), person("Bob Example")
        firm = OrganizationFactory(name="Example Firm")
        staff = UserFactory(is_staff=True, full_name="Ops Person")
    with at(1):
        first = screening_rescreen_subjects()
    with at(2):
        bob.full_name = "Robert Example"
        bob.save()
    with at(3):
        second = screening_rescreen_subjects()
    source = tmp_path / "sdn.csv"
    source.write_text('1,"EXAMPLE, Nobody",individual,"TEST",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\n')
    with at(4):
        call_command("sanctions_load", str(source), "--source", "Test list", "--date", "2026-11-20", stdout=StringIO())
    with at(5):
        after_reload = screening_rescreen_subjects()

    assert first == (sorted([alice.pk, bob.pk]), [firm.pk])
    assert staff.pk not in first[0]
    assert second == ([bob.pk], [])
    assert after_reload == (sorted([alice.pk, bob.pk]), [firm.pk])
    assert AuditEvent.objects.filter(action=RESCREEN_ACTION).count() == 3


def test_rescreen_task_enqueues_bounded_batches():
    from compliance import tasks_checks

    people = [person(f"Person Number{i} Example") for i in range(5)]
    with (
        mock.patch.object(tasks_checks, "RESCREEN_BATCH", 2),
        mock.patch.object(tasks_checks.screening_run_batch, "delay") as delay,
    ):
        count = tasks_checks.screening_rescreen()

    ids = [p.pk for p in people]
    assert count == 5
    assert delay.call_args_list == [
        mock.call(user_ids=ids[0:2]),
        mock.call(user_ids=ids[2:4]),
        mock.call(user_ids=ids[4:5]),
    ]


def test_batch_task_screens_each_subject():
    from compliance import tasks_checks

    listed = person("Dmitri Kovalenko")
    firm = OrganizationFactory(name="Obsidian Harbor Shipping")

    hits = tasks_checks.screening_run_batch(user_ids=[listed.pk, person("Jane Doe").pk], organization_ids=[firm.pk])

    assert hits == 2
    assert tasks_checks.screening_run_batch(user_ids=[listed.pk], organization_ids=[firm.pk]) == 0


def test_sign_up_screens_the_person_and_their_new_organisation_and_welcomes_them(django_capture_on_commit_callbacks):
    from allauth.account.signals import user_signed_up

    from compliance import tasks_checks

    tasks_checks.signals_connect()
    membership = MembershipFactory(user=UserFactory(full_name="Dmitri Kovalenko"))
    with (
        mock.patch.object(tasks_checks.screening_run, "delay") as screen,
        mock.patch.object(tasks_checks.welcome_email_send, "delay") as welcome,
        django_capture_on_commit_callbacks(execute=True),
    ):
        user_signed_up.send(sender=type(membership.user), request=None, user=membership.user)

    assert screen.call_args_list == [
        mock.call(user_id=membership.user_id),
        mock.call(organization_id=membership.organization_id),
    ]
    welcome.assert_called_once_with(user_id=membership.user_id)


# --- loading a list -----------------------------------------------------------------------------------------------

REAL_LAYOUT = (
    '36,"AEROCARIBBEAN TEST AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n'
    '173,"HAMDAN TEST, Ahmed Ali",individual,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"DOB 1970; a.k.a. 'AL-TESTI, Ahmad'.\"\n"
    "\x1a\n"
)
ALT_LAYOUT = '173,201,"aka","HAMDAN TESTOV, Akhmed",-0- \n'


def test_sanctions_load_reads_the_real_layout_without_header_with_aliases_from_remarks_and_alt(tmp_path: Path):
    sdn, alt = tmp_path / "SDN.CSV", tmp_path / "ALT.CSV"
    sdn.write_bytes(REAL_LAYOUT.encode("cp1252"))
    alt.write_text(ALT_LAYOUT)
    out = StringIO()

    call_command(
        "sanctions_load", str(sdn), "--alt", str(alt), "--source", "OFAC SDN list", "--date", "2026-11-20", stdout=out
    )

    assert "Loaded 4 listed names" in out.getvalue()
    assert sorted(SanctionsEntry.objects.values_list("list_entry_id", "name", "kind", "is_alias")) == [
        ("173", "AL-TESTI, Ahmad", "individual", True),
        ("173", "HAMDAN TEST, Ahmed Ali", "individual", False),
        ("173", "HAMDAN TESTOV, Akhmed", "individual", True),
        ("36", "AEROCARIBBEAN TEST AIRLINES", "entity", False),
    ]
    assert set(SanctionsEntry.objects.values_list("list_source", "list_date")) == {
        ("OFAC SDN list", date(2026, 11, 20))
    }
    assert SanctionsEntry.objects.get(name="HAMDAN TEST, Ahmed Ali").normalized_name == "hamdan test ahmed ali"
    assert AuditEvent.objects.filter(action="sanctions_list.loaded").count() == 1
    assert [h.list_entry_id for h in screening_run(user_id=person("Ahmad Al-Testi").pk)] == ["173"]


def test_sanctions_load_without_a_path_reloads_the_bundled_sample():
    SanctionsEntry.objects.all().delete()

    call_command("sanctions_load", stdout=StringIO())

    assert SanctionsEntry.objects.count() == 86


def test_sanctions_load_needs_a_source_and_a_date(tmp_path: Path):
    sdn = tmp_path / "SDN.CSV"
    sdn.write_text(REAL_LAYOUT)

    with pytest.raises(CommandError, match="--source and --date"):
        call_command("sanctions_load", str(sdn), stdout=StringIO())
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("sanctions_load", str(sdn), "--source", "OFAC", "--date", "20/11/2026", stdout=StringIO())

    assert SanctionsEntry.objects.count() == 86  # the list in use is untouched
