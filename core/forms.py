"""Glue between services and page forms."""

from __future__ import annotations

from django import forms

from core.errors import ApplicationError


def form_add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form: field errors next to their fields, the rest at the top."""
    placed = False
    for name, messages in error.field_errors.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
    if not placed or not error.field_errors:
        form.add_error(None, error.message)
