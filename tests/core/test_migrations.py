"""The migrations describe the models exactly, on any machine (nothing such as a local path frozen into them)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration() -> None:
    out = io.StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 (SystemExit) when one is missing

    assert "No changes detected" in out.getvalue()
