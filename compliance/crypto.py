"""Tax ids encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256), keys from settings.COMPLIANCE_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts (MultiFernet), so keys rotate without downtime: deploy with a new key
in front, run `manage.py compliance_rotate_keys` (re-encrypts each stored tax id with the new key), then remove
the old key. Plain tax ids exist only in memory, never in logs, audit events or pages (they show the last 4).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "tax_id_decrypt", "tax_id_encrypt", "tax_id_is_current", "tax_id_rotate"]


@lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ValueError("COMPLIANCE_ENCRYPTION_KEYS is empty.")
    fernets = [Fernet(key.encode()) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _keys() -> tuple[MultiFernet, Fernet]:
    # Keyed by the settings' value, so a test (or a reload) that changes the keys gets new Fernets.
    return _fernets(tuple(settings.COMPLIANCE_ENCRYPTION_KEYS))


def tax_id_encrypt(value: str) -> str:
    """The Fernet token (ASCII) of `value`, under the current key."""
    multi, _ = _keys()
    return multi.encrypt(value.encode()).decode()


def tax_id_decrypt(token: str) -> str:
    """The plain tax id; raises InvalidToken if no configured key opens it (or it was tampered with)."""
    multi, _ = _keys()
    return multi.decrypt(token.encode()).decode()


def tax_id_is_current(token: str) -> bool:
    """Was `token` encrypted with the current (first) key?"""
    _, current = _keys()
    try:
        current.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def tax_id_rotate(token: str) -> str:
    """`token` re-encrypted under the current key (its original timestamp kept); InvalidToken if no key opens it."""
    multi, _ = _keys()
    return multi.rotate(token.encode()).decode()
