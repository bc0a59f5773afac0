"""Idempotency-Key for the API's POST requests (the semantics of the IETF draft and of Stripe's API).

The first request with a key claims it (an INSERT on a unique constraint, committed before the view runs) and
stores the response it got. A retry with the same key and the same method, path and body gets that response again,
marked `Idempotent-Replayed: true`; with anything different, 422; while the first is still running, 409 with
Retry-After. A server error, a refused credential or a rate-limit answer is not stored, so the retry runs the
request. Keys are scoped to the caller (the API key, or the signed-in user) and kept for 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
# A claim still "processing" this long after it was made belongs to a request that died: it may be taken over.
ABANDONED_AFTER = timedelta(minutes=5)
NOT_STORED = frozenset({401, 403, 429})  # the request never reached its operation
API_PREFIX = "/api/v1/"


def _problem(status: int, code: str, title: str, detail: str, retry_after: int | None = None) -> HttpResponse:
    body = {"type": f"https://tandem.example/problems/{code}", "title": title, "status": status, "detail": detail}
    response = HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _caller(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return hashlib.sha256(authorization.split(None, 1)[1].strip().encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body), status=record.response_status, content_type=record.response_content_type
    )
    if record.response_location:
        response["Location"] = record.response_location
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_records_purge() -> int:
    """Delete the records past their 24 hours (beat, daily)."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        caller = _caller(request)
        if caller is None:
            return self.get_response(request)  # answered 401 by the view; nothing to remember
        if not key.strip() or len(key) > 255:
            return _problem(
                400, "invalid-idempotency-key", "Invalid request", "Idempotency-Key must be 1 to 255 characters."
            )
        request_hash = hashlib.sha256(
            b"\n".join([request.method.encode(), request.get_full_path().encode(), request.body])
        ).hexdigest()
        now = timezone.now()
        claim = IdempotencyRecord(
            caller=caller,
            key=key,
            method=request.method,
            path=request.path[:500],
            request_hash=request_hash,
            expires_at=now + KEEP_FOR,
        )
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    claim.save(force_insert=True)
                break
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
                if existing is None:
                    continue  # it was deleted (expired or failed) in between: claim it now
                stale = existing.expires_at <= now or (
                    existing.status == IdempotencyRecord.Status.PROCESSING
                    and existing.created_at <= now - ABANDONED_AFTER
                )
                if stale:
                    IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                    continue
                if existing.request_hash != request_hash:
                    return _problem(
                        422,
                        "idempotency-key-reused",
                        "Idempotency-Key reused",
                        "This Idempotency-Key was already used for a different request; "
                        "use a new key for a new request.",
                    )
                if existing.status == IdempotencyRecord.Status.PROCESSING:
                    return _problem(
                        409,
                        "idempotency-key-in-use",
                        "Request in progress",
                        "A request with this Idempotency-Key is still being processed; retry in a moment.",
                        retry_after=1,
                    )
                return _replay(existing)
        else:
            return _problem(409, "idempotency-key-in-use", "Request in progress", "Retry in a moment.", retry_after=1)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=claim.pk).delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            IdempotencyRecord.objects.filter(pk=claim.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=claim.pk).update(
            status=IdempotencyRecord.Status.COMPLETED,
            response_status=response.status_code,
            response_content_type=response.get("Content-Type", ""),
            response_location=response.get("Location", "")[:500],
            response_body=response.content,
        )
        return response
