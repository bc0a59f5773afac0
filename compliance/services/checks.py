"""Automated compliance checks: sanctions screening against the bundled (or loaded) list, and the
worker-classification risk of an engagement.

Screening never decides anything by itself: a possible match becomes a pending ScreeningHit, which blocks the
party at the gate until ops clear or confirm it (`screening_hit_decide`). Classification scores the contract's
actual terms; a high risk waits for ops sign-off (`classification_decide`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from compliance.data.sanctions_file import NORMALIZED_NAME_SQL, sanctions_file_parse
from compliance.models import ClassificationAssessment, SanctionsEntry, ScreeningHit
from core.errors import ApplicationError
from core.models import AuditEvent
from core.services import audit_record

if TYPE_CHECKING:
    from accounts.models import User
    from engagements.models import Contract

REVIEW_PERMISSION = "compliance.review_compliance"


def _require_reviewer(user: User) -> None:
    if not (user.is_active and user.has_perm(REVIEW_PERMISSION)):
        raise PermissionDenied("Only compliance reviewers can decide this.")


# --- Sanctions list ---------------------------------------------------------------------------------------------


@transaction.atomic
def sanctions_list_load(
    *, path: Path | str, alt_path: Path | str | None = None, source: str = "", list_date: date | None = None
) -> int:
    """Replace the whole list with the file's names (a list is a snapshot: names delisted since the last load go).

    `source` and `list_date` default to the file's "# Source:" / "# Date:" header; one of the two must give them,
    because every hit records where its listed name came from. Existing hits keep their copy of the listed name.
    Returns how many names were loaded."""
    parsed = sanctions_file_parse(path, alt_path=alt_path)
    source = source or parsed.source
    list_date = list_date or parsed.list_date
    if not source or list_date is None:
        raise ApplicationError("Say where the list comes from and its date (--source and --date).", code="no_source")
    if not parsed.names:
        raise ApplicationError("The file has no listed names; is it an SDN.CSV?", code="empty_list")
    SanctionsEntry.objects.all().delete()
    SanctionsEntry.objects.bulk_create(
        [
            SanctionsEntry(
                list_entry_id=listed.list_entry_id[:40],
                name=listed.name[:350],
                primary_name=listed.primary_name[:350],
                is_alias=listed.is_alias,
                kind=listed.kind,
                programs=listed.programs[:300],
                remarks=listed.remarks,
                list_source=source[:200],
                list_date=list_date,
            )
            for listed in parsed.names
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE compliance_sanctionsentry SET normalized_name = {NORMALIZED_NAME_SQL.format('name')}"  # noqa: S608
        )
    audit_record(
        actor=None,
        action="sanctions_list.loaded",
        data={"source": source, "list_date": list_date.isoformat(), "names": len(parsed.names)},
    )
    return len(parsed.names)


# --- Screening --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameMatch:
    list_entry_id: str
    listed_name: str
    list_source: str
    score: Decimal


def _threshold() -> float:
    return float(getattr(settings, "SANCTIONS_MATCH_THRESHOLD", 0.6))


def sanctions_matches(*, name: str, kinds: tuple[str, ...]) -> list[NameMatch]:
    """The listed entries with a name (primary or alias) at least SANCTIONS_MATCH_THRESHOLD similar to `name`, best
    first, one per entry (its best-scoring name).

    Both sides are normalised by the same SQL (unaccent, lower case, punctuation to spaces), so "Josué" matches
    "JOSUE" and "Vasquez-Ortega" matches "Vasquez Ortega". pg_trgm compares sets of trigrams of words, so word order
    does not matter ("Ortega, Josue" = "Josue Ortega"). The score is the greater of
    - similarity(): the whole names against each other, and
    - for names of two words or more, strict_word_similarity(): the name against the best run of whole words of the
      listed name, so "Dmitri Kovalenko" matches "KOVALENKO, Dmitriy Sergeyevich" although the listed name has a
      patronymic the person did not give. (One word alone would match every listed name containing it.)
    The `%` and `%>>` operators let the GIN trigram index find the candidates; the functions score them.
    """
    threshold = _threshold()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT {NORMALIZED_NAME_SQL.format('%s')}", [name])
        normalized = cursor.fetchone()[0]
        if len(normalized.replace(" ", "")) < 3:  # nothing meaningful to compare
            return []
        partial = " " in normalized
        # Scoped to this transaction: the operators (and so the index) use our threshold instead of pg_trgm's.
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true),"
            " set_config('pg_trgm.strict_word_similarity_threshold', %s, true)",
            [str(threshold), str(threshold)],
        )
        cursor.execute(
            """
            SELECT DISTINCT ON (list_entry_id) list_entry_id, primary_name, list_source, score
            FROM (
                SELECT list_entry_id, primary_name, list_source,
                       GREATEST(
                           similarity(normalized_name, %(name)s),
                           CASE WHEN %(partial)s THEN strict_word_similarity(%(name)s, normalized_name) ELSE 0 END
                       ) AS score
                FROM compliance_sanctionsentry
                WHERE (normalized_name %% %(name)s OR (%(partial)s AND normalized_name %%>> %(name)s))
                  AND kind = ANY(%(kinds)s)
            ) AS candidates
            WHERE score >= %(threshold)s
            ORDER BY list_entry_id, score DESC
            """,
            {"name": normalized, "partial": partial, "kinds": list(kinds), "threshold": threshold},
        )
        rows = cursor.fetchall()
    matches = [
        NameMatch(entry_id, listed_name, source, Decimal(str(score)).quantize(Decimal("0.001")))
        for entry_id, listed_name, source, score in rows
    ]
    return sorted(matches, key=lambda m: (-m.score, m.list_entry_id))


_PERSON_KINDS = (SanctionsEntry.Kind.INDIVIDUAL.value,)
_ORGANIZATION_KINDS = (
    SanctionsEntry.Kind.ENTITY.value,
    SanctionsEntry.Kind.VESSEL.value,
    SanctionsEntry.Kind.AIRCRAFT.value,
)


@transaction.atomic
def screening_run(*, user_id: int | None = None, organization_id: int | None = None) -> list[ScreeningHit]:
    """Screen one person's full name (against listed individuals) or one organisation's name (against listed
    entities, vessels and aircraft). Each possible match becomes a pending hit for ops, once per subject, listed
    entry and screened name: running it again adds nothing, and a hit ops already decided stays decided.
    Returns the hits this run created. Never rejects anything: the gate blocks the party while a hit is open."""
    from accounts.models import Organization, User

    if (user_id is None) == (organization_id is None):
        raise ValueError("Screen either a user or an organisation.")
    user: User | None = None
    organization: Organization | None = None
    kinds: tuple[str, ...]
    if user_id is not None:
        user = User.objects.filter(pk=user_id).first()
        name, kinds = (user.full_name if user else ""), _PERSON_KINDS
    else:
        organization = Organization.objects.filter(pk=organization_id or 0).first()
        name, kinds = (organization.name if organization else ""), _ORGANIZATION_KINDS
    name = " ".join(name.split())[:200]
    if not name:
        return []
    created: list[ScreeningHit] = []
    for match in sanctions_matches(name=name, kinds=kinds):
        try:
            with transaction.atomic():
                hit, is_new = ScreeningHit.objects.get_or_create(
                    user=user,
                    organization=organization,
                    list_entry_id=match.list_entry_id,
                    screened_name=name,
                    defaults={
                        "listed_name": match.listed_name[:200],
                        "list_source": match.list_source,
                        "score": match.score,
                    },
                )
        except IntegrityError:  # a concurrent run created it first
            continue
        if is_new:
            created.append(hit)
    for hit in created:
        audit_record(
            actor=None,
            action="screening_hit.created",
            target=hit,
            organization=organization,
            to_state=hit.status,
            data={"list_entry_id": hit.list_entry_id, "score": str(hit.score)},
        )
    return created


RESCREEN_ACTION = "screening.rescreen_started"


def screening_rescreen_subjects(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Who the daily re-screen covers, and the start of its run: people and organisations whose record changed
    since the last run (a name change, a new organisation) — or everyone, after the list itself was reloaded or on
    the first run. The last run is the latest `screening.rescreen_started` audit event (durable, and audited).
    Returns (user ids, organisation ids); screening each is idempotent, so overlapping runs only repeat work."""
    from accounts.models import Organization, User

    now = now or timezone.now()
    last_run = (
        AuditEvent.objects.filter(action=RESCREEN_ACTION).order_by("-id").values_list("created_at", flat=True).first()
    )
    list_loaded = SanctionsEntry.objects.order_by("-loaded_at").values_list("loaded_at", flat=True).first()
    since = last_run if last_run is not None and (list_loaded is None or list_loaded < last_run) else None
    users = User.objects.filter(is_active=True, is_staff=False).exclude(full_name="")
    organizations = Organization.objects.all()
    if since is not None:
        # A minute of overlap: a change committed while the last run was reading is picked up now.
        users = users.filter(updated_at__gte=since - timedelta(minutes=1))
        organizations = organizations.filter(updated_at__gte=since - timedelta(minutes=1))
    user_ids = list(users.order_by("pk").values_list("pk", flat=True))
    organization_ids = list(organizations.order_by("pk").values_list("pk", flat=True))
    audit_record(
        actor=None,
        action=RESCREEN_ACTION,
        data={
            "since": since.isoformat() if since else None,
            "users": len(user_ids),
            "organizations": len(organization_ids),
        },
    )
    return user_ids, organization_ids


@transaction.atomic
def screening_hit_decide(*, hit_id: int, by: User, decision: str, note: str) -> ScreeningHit:
    """Ops decide a pending hit: "cleared" (not the listed party; the gate lets them through) or "confirmed" (the
    listed party; the marketplace cannot work with them). Either way the reason is recorded."""
    _require_reviewer(by)
    if decision not in (ScreeningHit.Status.CLEARED, ScreeningHit.Status.CONFIRMED):
        raise ApplicationError("Decide a screening hit as cleared or confirmed.", code="invalid_decision")
    note = note.strip()
    if not note:
        raise ApplicationError("Say why (for example, which identifiers differ or match).", code="note_required")
    hit = ScreeningHit.objects.select_for_update().filter(pk=hit_id).first()
    if hit is None:
        raise ScreeningHit.DoesNotExist
    if hit.status != ScreeningHit.Status.PENDING:
        raise ApplicationError(
            f"This hit was already decided ({hit.get_status_display().lower()}).", code="already_decided", status=409
        )
    previous = hit.status
    hit.status, hit.decision_note, hit.reviewed_by, hit.reviewed_at = decision, note, by, timezone.now()
    hit.save(update_fields=["status", "decision_note", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(
        actor=by,
        action=f"screening_hit.{decision}",
        target=hit,
        organization=hit.organization,
        from_state=previous,
        to_state=hit.status,
    )
    if decision == ScreeningHit.Status.CLEARED:
        from compliance.gate import Party
        from compliance.services.documents import on_compliance_changed

        on_compliance_changed(Party(user=hit.user, organization=hit.organization))
    return hit


# --- Worker classification --------------------------------------------------------------------------------------

HIGH_RISK_SCORE = 60
MEDIUM_RISK_SCORE = 35


def _weekly_hours_factor(contract: Contract) -> dict[str, Any]:
    cap = contract.weekly_hour_cap
    if cap is None:
        if contract.kind == "hourly":
            return _factor(
                "weekly_hours", "Weekly hours", None, 35, "No weekly hour cap: nothing limits this to part time."
            )
        return _factor("weekly_hours", "Weekly hours", None, 0, "Not paid by the hour; no weekly hours are set.")
    for minimum, points in ((35, 35), (30, 25), (20, 10)):
        if cap >= minimum:
            return _factor("weekly_hours", "Weekly hours", cap, points, f"Up to {cap} h a week (≥ {minimum} h).")
    return _factor("weekly_hours", "Weekly hours", cap, 0, f"Up to {cap} h a week: part time.")


def _duration_factor(contract: Contract) -> dict[str, Any]:
    value = {
        "start_date": contract.start_date.isoformat() if contract.start_date else None,
        "end_date": contract.end_date.isoformat() if contract.end_date else None,
    }
    if contract.end_date is None:
        return _factor("duration", "Duration", value, 25, "Open-ended: no end date is set.")
    start = contract.start_date or timezone.localdate()
    weeks = max(0, (contract.end_date - start).days) // 7
    if weeks >= 52:
        return _factor("duration", "Duration", value, 25, f"Planned for {weeks} weeks (a year or more).")
    if weeks >= 26:
        return _factor("duration", "Duration", value, 15, f"Planned for {weeks} weeks (six months or more).")
    return _factor("duration", "Duration", value, 0, f"Planned for {weeks} weeks.")


def _exclusivity_factor(contract: Contract) -> dict[str, Any]:
    from engagements.models import Contract as ContractModel

    others = 0
    if contract.freelancer_id is not None:
        others = (
            ContractModel.objects.filter(
                freelancer_id=contract.freelancer_id,
                status__in=[ContractModel.Status.ACTIVE, ContractModel.Status.PAUSED],
            )
            .exclude(pk=contract.pk)
            .count()
        )
    value = {"is_exclusive": contract.is_exclusive, "other_active_contracts": others}
    if contract.is_exclusive:
        return _factor("exclusivity", "Exclusivity", value, 15, "The contract forbids working for others meanwhile.")
    if contract.freelancer_id is not None and others == 0:
        return _factor(
            "exclusivity", "Exclusivity", value, 10, "No other active contract: this is the only client now."
        )
    return _factor("exclusivity", "Exclusivity", value, 0, f"Works for others too ({others} other active contracts).")


def _schedule_factor(contract: Contract) -> dict[str, Any]:
    if contract.schedule_set_by_client:
        return _factor("schedule", "Schedule", True, 25, "The client sets the working hours.")
    return _factor("schedule", "Schedule", False, 0, "The worker sets their own hours.")


def _factor(code: str, label: str, value: Any, points: int, explanation: str) -> dict[str, Any]:
    return {"code": code, "label": label, "value": value, "points": points, "explanation": explanation}


def classification_factors(*, contract: Contract) -> list[dict[str, Any]]:
    """Every factor considered, with its points and why (0 points when it does not apply), for display."""
    return [
        _weekly_hours_factor(contract),
        _duration_factor(contract),
        _exclusivity_factor(contract),
        _schedule_factor(contract),
    ]


def _terms(factors: list[dict[str, Any]]) -> dict[str, Any]:
    """The contract's terms behind the factors. Whether the worker has other clients is a circumstance, not a term:
    it changes without anyone changing the contract and so does not reopen a decided assessment."""
    terms = {factor["code"]: factor["value"] for factor in factors}
    exclusivity = terms.get("exclusivity")
    if isinstance(exclusivity, dict):
        terms["exclusivity"] = exclusivity.get("is_exclusive")
    return terms


def classification_risk(score: int) -> str:
    if score >= HIGH_RISK_SCORE:
        return ClassificationAssessment.Risk.HIGH
    if score >= MEDIUM_RISK_SCORE:
        return ClassificationAssessment.Risk.MEDIUM
    return ClassificationAssessment.Risk.LOW


_DECIDED = (ClassificationAssessment.Status.SIGNED_OFF, ClassificationAssessment.Status.REJECTED)


@transaction.atomic
def classification_assess(*, contract: Contract) -> ClassificationAssessment:
    """Score how much the engagement looks like employment, from its actual terms, and store it (one per contract).

    Points: weekly hour cap ≥ 35 h +35, ≥ 30 h +25, ≥ 20 h +10 (an hourly contract with no cap counts as full
    time); open-ended or ≥ 52 weeks +25, ≥ 26 weeks +15; exclusive +15, else no other active contract +10; the
    client sets the schedule +25. Capped at 100. High risk (≥ 60) waits for ops sign-off (status pending); medium
    (≥ 35) and low need none.

    Call it again whenever the terms may have changed: an undecided assessment is re-scored; a decided one (signed
    off or rejected) is kept as it is unless the terms changed, in which case it is re-scored and the decision
    starts over. Audited when created or changed.
    """
    factors = classification_factors(contract=contract)
    score = min(100, sum(factor["points"] for factor in factors))
    risk = classification_risk(score)
    status = (
        ClassificationAssessment.Status.PENDING
        if risk == ClassificationAssessment.Risk.HIGH
        else (ClassificationAssessment.Status.NOT_NEEDED)
    )
    assessment = ClassificationAssessment.objects.select_for_update().filter(contract=contract).first()
    if assessment is None:
        try:
            with transaction.atomic():
                assessment = ClassificationAssessment.objects.create(
                    contract=contract, score=score, risk=risk, factors=factors, status=status
                )
        except IntegrityError:  # created concurrently: take that one, locked, and carry on as an update
            assessment = ClassificationAssessment.objects.select_for_update().get(contract=contract)
        else:
            audit_record(
                actor=None,
                action="classification.assessed",
                target=assessment,
                organization=contract.organization,
                to_state=status,
                data={"score": score, "risk": risk},
            )
            return assessment
    if assessment.status in _DECIDED and _terms(assessment.factors) == _terms(factors):
        return assessment
    if (assessment.score, assessment.risk, assessment.factors, assessment.status) == (score, risk, factors, status):
        return assessment
    previous = assessment.status
    assessment.score, assessment.risk, assessment.factors, assessment.status = score, risk, factors, status
    if previous in _DECIDED:  # the terms changed: the decision was about other terms
        assessment.reviewed_by, assessment.reviewed_at, assessment.decision_note = None, None, ""
    assessment.save()
    audit_record(
        actor=None,
        action="classification.reassessed",
        target=assessment,
        organization=contract.organization,
        from_state=previous,
        to_state=status,
        data={"score": score, "risk": risk},
    )
    return assessment


@transaction.atomic
def classification_decide(*, assessment_id: int, by: User, decision: str, note: str) -> ClassificationAssessment:
    """Ops decide a high-risk assessment: "signed_off" (the engagement may go ahead as it is) or "rejected" (its
    terms must change first). A rejection needs a note saying what to change."""
    _require_reviewer(by)
    if decision not in (ClassificationAssessment.Status.SIGNED_OFF, ClassificationAssessment.Status.REJECTED):
        raise ApplicationError("Decide an assessment as signed off or rejected.", code="invalid_decision")
    note = note.strip()
    if decision == ClassificationAssessment.Status.REJECTED and not note:
        raise ApplicationError("Say what must change in the engagement's terms.", code="note_required")
    assessment = (
        ClassificationAssessment.objects.select_for_update(of=("self",))
        .select_related("contract__organization")
        .filter(pk=assessment_id)
        .first()
    )
    if assessment is None:
        raise ClassificationAssessment.DoesNotExist
    if assessment.status != ClassificationAssessment.Status.PENDING:
        raise ApplicationError(
            f"This assessment is not waiting for a decision ({assessment.get_status_display().lower()}).",
            code="not_pending",
            status=409,
        )
    previous = assessment.status
    assessment.status, assessment.decision_note = decision, note
    assessment.reviewed_by, assessment.reviewed_at = by, timezone.now()
    assessment.save(update_fields=["status", "decision_note", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(
        actor=by,
        action=f"classification.{decision}",
        target=assessment,
        organization=assessment.contract.organization,
        from_state=previous,
        to_state=decision,
        data={"score": assessment.score, "risk": assessment.risk},
    )
    if decision == ClassificationAssessment.Status.SIGNED_OFF:
        from engagements.tasks import contract_activate_if_ready

        contract_activate_if_ready.delay_on_commit(contract_id=assessment.contract_id)  # type: ignore[attr-defined]
    return assessment
