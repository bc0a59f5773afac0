"""How pages write dates and amounts: one style on every page ("22 Nov 2026", "22 Nov 2026, 14:30"), negative
amounts with a typographic minus like the credit columns, and date inputs still taking ISO dates."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.template import Context, Template

from billing.templatetags.billing import amount, money


def _render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_dates_read_day_month_year_on_every_page() -> None:
    day = datetime.date(2026, 11, 2)
    moment = datetime.datetime(2026, 11, 2, 14, 30, tzinfo=datetime.UTC)
    assert _render("{{ day }}|{{ day|date }}|{{ day|date:'SHORT_DATE_FORMAT' }}", day=day) == (
        "2 Nov 2026|2 Nov 2026|2 Nov 2026"
    )
    assert _render("{% load tz %}{{ moment|utc }}", moment=moment) == "2 Nov 2026, 14:30"


def test_date_fields_still_take_iso_dates_from_date_inputs() -> None:
    field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    assert field.clean("2026-11-02") == datetime.date(2026, 11, 2)
    assert 'value="2026-11-02"' in field.widget.render("day", datetime.date(2026, 11, 2))


def test_negative_amounts_use_a_minus_sign_and_positive_ones_are_grouped() -> None:
    assert money(Decimal("-500"), "USD") == "\u2212500.00 USD"
    assert money(Decimal("1234.5"), "USD") == "1,234.50 USD"
    assert money(Decimal("-1234567"), "JPY") == "\u22121,234,567 JPY"
    assert amount(Decimal("-12.3"), "EUR") == "\u221212.30"
