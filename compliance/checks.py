"""System checks: the tax-id encryption keys are valid Fernet keys, and production sets them explicitly."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    keys = list(getattr(settings, "COMPLIANCE_ENCRYPTION_KEYS", []) or [])
    if not keys:
        messages.append(
            Error(
                "COMPLIANCE_ENCRYPTION_KEYS is empty: tax ids cannot be encrypted.",
                hint="Set COMPLIANCE_ENCRYPTION_KEYS to one or more Fernet keys, current first.",
                id="compliance.E001",
            )
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            messages.append(
                Error(
                    f"COMPLIANCE_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64 bytes).",
                    hint='Generate one: python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"',
                    id="compliance.E002",
                )
            )
    return messages


@register(Tags.security, deploy=True)
def encryption_keys_deploy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "COMPLIANCE_ENCRYPTION_KEYS_FROM_ENV", False):
        return []
    return [
        Warning(
            "COMPLIANCE_ENCRYPTION_KEYS is not set: tax ids are encrypted with a key derived from SECRET_KEY, so "
            "changing SECRET_KEY would make every stored tax id unreadable.",
            hint="Set COMPLIANCE_ENCRYPTION_KEYS to a Fernet key of its own (keep it apart from SECRET_KEY); "
            "`manage.py compliance_rotate_keys` then moves the stored tax ids to it.",
            id="compliance.W001",
        )
    ]
