"""Matching: rank freelancers and vendor firms for a gig inside PostgreSQL, in one query per gig.

Each candidate gets a score in [0, 1] from weighted factors, each in [0, 1], and the factors are stored with the
match so the client sees why someone ranks where they do:

    skills        coverage of the gig's required skills, weighted by the required level (level ≥ required = 1)
    rate          fit of the hourly rate to the gig's range (or implied rate of a fixed budget); 0.5 if unknown
    availability  weekly hours available, for freelancers minus current load; headcount for vendors
    timezone      overlap of an 8-hour working day between the candidate's and the gig's time zones
    rating        Bayesian-smoothed rating (prior 4.0 with the weight of 5 reviews), so one 5★ review isn't "best"
    relevance     full-text relevance of the candidate's headline to the gig's title and description
    compliance    readiness placeholder (neutral 0.5) until the compliance gate lands

plus a bounded newcomer boost (+0.05 for profiles younger than 90 days without completed contracts) and an
exposure penalty (up to -0.10 for candidates already in the top 10 of many other gigs in the last 7 days), so
the same people don't top every list. Protected attributes (age, gender, nationality, photo) are not inputs;
country is used only as a hard filter when a gig requires a jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from marketplace.models import Gig, GigSkill, Match

WEIGHTS: dict[str, Decimal] = {
    "skills": Decimal("0.40"),
    "rate": Decimal("0.15"),
    "availability": Decimal("0.10"),
    "timezone": Decimal("0.10"),
    "rating": Decimal("0.10"),
    "relevance": Decimal("0.10"),
    "compliance": Decimal("0.05"),
}
NEWCOMER_BOOST = Decimal("0.05")
EXPOSURE_PENALTY_MAX = Decimal("0.10")
DEFAULT_LIMIT = 50

# One statement: freelancer candidates (GIN-indexed skill overlap) UNION ALL vendor candidates, scored and ranked.
# Parameters are named so the query reads top to bottom; psycopg binds them.
MATCH_SQL = """
WITH req AS (
    SELECT skill_id, min_level FROM marketplace_gigskill WHERE gig_id = %(gig_id)s
),
req_total AS (SELECT COALESCE(SUM(min_level), 0)::numeric AS weight FROM req),
gig AS (
    SELECT g.id, g.timezone, g.required_country, g.kind, g.currency,
           COALESCE(g.hourly_rate_min, CASE WHEN g.estimated_hours > 0 THEN g.budget_amount / g.estimated_hours END)
               AS rate_low,
           COALESCE(g.hourly_rate_max, CASE WHEN g.estimated_hours > 0 THEN g.budget_amount / g.estimated_hours END)
               AS rate_high,
           websearch_to_tsquery('english', g.title || ' ' || left(g.description, 400)) AS query,
           EXTRACT(EPOCH FROM (now() AT TIME ZONE g.timezone)) AS local_epoch
    FROM marketplace_gig g WHERE g.id = %(gig_id)s
),
-- Skill coverage of every profile holding any required skill, in one pass over the skill_id index.
coverage AS (
    SELECT ps.profile_id, SUM(r.min_level * LEAST(ps.level::numeric / r.min_level, 1)) AS covered
    FROM talent_profileskill ps JOIN req r ON r.skill_id = ps.skill_id
    WHERE ps.skill_id = ANY(%(skill_ids)s::bigint[])
    GROUP BY ps.profile_id
),
exposure AS (
    SELECT m.freelancer_id, m.vendor_id, COUNT(*) AS top_lists
    FROM marketplace_match m
    WHERE m.rank <= 10 AND m.gig_id <> %(gig_id)s AND m.computed_at > now() - interval '7 days'
    GROUP BY m.freelancer_id, m.vendor_id
),
freelancers AS (
    SELECT p.user_id AS freelancer_id, NULL::bigint AS vendor_id,
           cov.covered / NULLIF((SELECT weight FROM req_total), 0) AS skills,
           CASE
             WHEN p.hourly_rate IS NULL OR gig.rate_high IS NULL OR p.currency <> gig.currency THEN 0.5
             WHEN p.hourly_rate <= gig.rate_high THEN 1.0
             ELSE GREATEST(0, 1 - (p.hourly_rate - gig.rate_high) / gig.rate_high)
           END AS rate,
           LEAST(GREATEST(p.weekly_hours - 10 * p.active_contracts, 0)::numeric / 30, 1) AS availability,
           p.timezone AS tz,
           ((p.rating_sum + 4.0 * 5) / (p.rating_count + 5) - 1) / 4 AS rating,
           ts_rank(COALESCE(p.search_vector, ''::tsvector), gig.query) AS text_rank,
           CASE WHEN p.completed_contracts = 0 AND p.created_at > now() - interval '90 days' THEN 1 ELSE 0 END
             AS newcomer
    FROM talent_talentprofile p
    JOIN coverage cov ON cov.profile_id = p.id
    CROSS JOIN gig
    WHERE p.skill_ids && %(skill_ids)s::bigint[]
      -- inactive users are few: probe a partial index of them instead of joining every user
      AND NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = p.user_id AND NOT u.is_active)
      AND p.visibility <> 'private'
      AND (gig.required_country = '' OR p.country = gig.required_country)
      AND NOT EXISTS (SELECT 1 FROM accounts_membership am
                      JOIN marketplace_gig og ON og.organization_id = am.organization_id
                      WHERE og.id = %(gig_id)s AND am.user_id = p.user_id)
),
vendors AS (
    SELECT NULL::bigint AS freelancer_id, v.organization_id AS vendor_id,
           (SELECT COALESCE(SUM(r.min_level * LEAST(c.level::numeric / r.min_level, 1)), 0)
              FROM req r JOIN talent_vendorcapability c ON c.skill_id = r.skill_id AND c.vendor_id = v.id)
             / NULLIF((SELECT weight FROM req_total), 0) AS skills,
           COALESCE((
             SELECT CASE WHEN MIN(rc.rate) <= gig.rate_high THEN 1.0
                         ELSE GREATEST(0, 1 - (MIN(rc.rate) - gig.rate_high) / gig.rate_high) END
             FROM talent_ratecardentry rc
             WHERE rc.vendor_id = v.id AND rc.unit = 'hour' AND rc.currency = gig.currency
           ), 0.5) AS rate,
           LEAST(v.headcount::numeric / 20, 1) AS availability,
           v.timezone AS tz,
           0.75 AS rating,
           ts_rank(to_tsvector('english', v.headline), gig.query) AS text_rank,
           0 AS newcomer
    FROM talent_vendorprofile v
    CROSS JOIN gig
    WHERE EXISTS (SELECT 1 FROM talent_vendorcapability c JOIN req r ON r.skill_id = c.skill_id
                  WHERE c.vendor_id = v.id)
      AND (gig.required_country = '' OR gig.required_country = ANY(v.countries_served))
),
candidates AS MATERIALIZED (SELECT * FROM freelancers UNION ALL SELECT * FROM vendors),
-- Time-zone arithmetic once per distinct zone, not once per candidate.
zones AS (
    SELECT z.tz,
           MOD(ABS(ROUND((EXTRACT(EPOCH FROM (now() AT TIME ZONE z.tz)) - gig.local_epoch) / 3600)), 24)::numeric
             AS diff
    FROM (SELECT DISTINCT tz FROM candidates) z CROSS JOIN gig
),
scored AS (
    SELECT c.freelancer_id, c.vendor_id,
           ROUND(COALESCE(c.skills, 0), 4) AS skills,
           ROUND(c.rate::numeric, 4) AS rate,
           ROUND(c.availability, 4) AS availability,
           ROUND(GREATEST(0, 8 - LEAST(d.diff, 24 - d.diff)) / 8, 4) AS timezone,
           ROUND(c.rating::numeric, 4) AS rating,
           ROUND(LEAST(c.text_rank * 10, 1)::numeric, 4) AS relevance,
           0.5 AS compliance,
           c.newcomer,
           LEAST(COALESCE(e.top_lists, 0)::numeric / 10, 1) AS exposure
    FROM candidates c
    JOIN zones d ON d.tz = c.tz
    LEFT JOIN exposure e ON e.freelancer_id IS NOT DISTINCT FROM c.freelancer_id
                        AND e.vendor_id IS NOT DISTINCT FROM c.vendor_id
)
SELECT freelancer_id, vendor_id, skills, rate, availability, timezone, rating, relevance, compliance,
       newcomer, exposure,
       ROUND(%(w_skills)s * skills + %(w_rate)s * rate + %(w_availability)s * availability
             + %(w_timezone)s * timezone + %(w_rating)s * rating + %(w_relevance)s * relevance
             + %(w_compliance)s * compliance + %(newcomer_boost)s * newcomer
             - %(exposure_max)s * exposure, 4) AS score
FROM scored
ORDER BY score DESC, freelancer_id NULLS LAST, vendor_id
LIMIT %(limit)s
"""

FACTOR_NAMES = ("skills", "rate", "availability", "timezone", "rating", "relevance", "compliance")


@dataclass(frozen=True)
class RankedCandidate:
    freelancer_id: int | None
    vendor_id: int | None
    score: Decimal
    factors: dict[str, Any]


def match_rank(*, gig_id: int, limit: int = DEFAULT_LIMIT) -> list[RankedCandidate]:
    """Rank candidates for the gig (read-only): one SQL statement."""
    skill_ids = list(GigSkill.objects.filter(gig_id=gig_id).values_list("skill_id", flat=True))
    if not skill_ids:
        return []
    params: dict[str, Any] = {
        "gig_id": gig_id,
        "skill_ids": skill_ids,
        "limit": limit,
        "newcomer_boost": NEWCOMER_BOOST,
        "exposure_max": EXPOSURE_PENALTY_MAX,
        **{f"w_{name}": weight for name, weight in WEIGHTS.items()},
    }
    with connection.cursor() as cursor:
        cursor.execute(MATCH_SQL, params)
        rows = cursor.fetchall()
    ranked = []
    for freelancer_id, vendor_id, *values, newcomer, exposure, score in rows:
        factors: dict[str, Any] = {
            name: {"value": str(value), "weight": str(WEIGHTS[name])}
            for name, value in zip(FACTOR_NAMES, values, strict=True)
        }
        factors["newcomer_boost"] = str(NEWCOMER_BOOST if newcomer else Decimal("0"))
        factors["exposure_penalty"] = str((EXPOSURE_PENALTY_MAX * Decimal(exposure)).quantize(Decimal("0.0001")))
        ranked.append(RankedCandidate(freelancer_id, vendor_id, Decimal(score), factors))
    return ranked


@transaction.atomic
def match_gig(*, gig_id: int, limit: int = DEFAULT_LIMIT) -> list[Match]:
    """Recompute and store the gig's matches (idempotent: replaces the previous ranking, keeps invite times)."""
    gig = Gig.objects.select_for_update().filter(pk=gig_id).first()
    if gig is None or gig.status not in (Gig.Status.DRAFT, Gig.Status.OPEN):
        return []
    invited = {
        (m.freelancer_id, m.vendor_id): m.invited_at for m in Match.objects.filter(gig=gig, invited_at__isnull=False)
    }
    ranked = match_rank(gig_id=gig_id, limit=limit)
    Match.objects.filter(gig=gig).delete()
    matches = Match.objects.bulk_create(
        [
            Match(
                gig=gig,
                freelancer_id=c.freelancer_id,
                vendor_id=c.vendor_id,
                rank=position,
                score=c.score,
                factors=c.factors,
                invited_at=invited.get((c.freelancer_id, c.vendor_id)),
            )
            for position, c in enumerate(ranked, start=1)
        ]
    )
    return matches


def match_top_to_invite(*, gig_id: int, count: int) -> list[Match]:
    """Mark the top `count` matches not yet invited as invited now (once each) and return them."""
    from django.utils import timezone as django_timezone

    top = list(Match.objects.select_for_update().filter(gig_id=gig_id, invited_at__isnull=True, rank__lte=count))
    now = django_timezone.now()
    Match.objects.filter(pk__in=[m.pk for m in top]).update(invited_at=now)
    return top


@transaction.atomic
def match_refresh_request(*, gig_id: int, by: Any) -> None:
    """A client asks to re-rank their open gig now; the ranking runs in the worker after this commits."""
    from core.errors import ApplicationError
    from marketplace.selectors.gigs import gig_get_for_update
    from marketplace.tasks.matching import match_gig as match_gig_task

    gig = gig_get_for_update(gig_id=gig_id, user=by)  # 404 unless it is the user's gig
    if gig.status != Gig.Status.OPEN or gig.kind == Gig.Kind.MICRO_TASK:
        raise ApplicationError("Only open gigs that take bids are ranked.", status=409)
    match_gig_task.delay_on_commit(gig_id=gig.pk)  # type: ignore[attr-defined]
