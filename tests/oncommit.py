"""On-commit callbacks a test cares about: the tasks a service queued, without the audit trail's own sealing
trigger (core.services queues one with every transaction that records an audit event)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.services import _audit_seal_soon


def task_callbacks(callbacks: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    return [callback for callback in callbacks if callback is not _audit_seal_soon]
