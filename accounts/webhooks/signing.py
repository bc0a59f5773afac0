"""Signing secrets (kept encrypted under the same keys as tax ids) and the Tandem-Signature header: what is
signed, how, and how a receiver checks it with `webhook_signature_verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from accounts.models import WebhookDelivery, WebhookSubscription


def _secret_encrypt(secret: str) -> str:
    # The same Fernet keys as tax ids (one key ring to configure and rotate; see webhook_secrets_rotate).
    from compliance.crypto import tax_id_encrypt

    return tax_id_encrypt(secret)


def webhook_secret(*, subscription: WebhookSubscription) -> str:
    """The subscription's signing secret, decrypted (for signing only; never shown after creation)."""
    from compliance.crypto import tax_id_decrypt

    return tax_id_decrypt(subscription.secret_encrypted)


def webhook_secrets_rotate() -> int:
    """Re-encrypt every signing secret not under the current key (run with compliance_rotate_keys, before the
    old key is dropped); returns how many changed."""
    from compliance.crypto import tax_id_is_current, tax_id_rotate

    changed = 0
    for subscription in WebhookSubscription.objects.only("pk", "secret_encrypted").iterator():
        if not tax_id_is_current(subscription.secret_encrypted):
            WebhookSubscription.objects.filter(pk=subscription.pk).update(
                secret_encrypted=tax_id_rotate(subscription.secret_encrypted)
            )
            changed += 1
    return changed


def webhook_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The Tandem-Signature header value for `payload` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(*, payload: bytes, header: str, secret: str, tolerance_seconds: int = 300) -> bool:
    """Did Tandem send this body? `payload` is the raw request body, `header` the Tandem-Signature header.

    True when one of the header's v1 signatures is the HMAC-SHA256 of "<t>.<body>" under the secret and t is
    within `tolerance_seconds` of now (an old, replayed request fails).
    """
    timestamp, signatures = "", []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if not timestamp.isdigit() or not signatures:
        return False
    if abs(time.time() - int(timestamp)) > tolerance_seconds:
        return False
    expected = webhook_signature(payload=payload, secret=secret, timestamp=int(timestamp)).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def webhook_body(*, delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed) for a delivery: compact JSON with sorted keys."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
