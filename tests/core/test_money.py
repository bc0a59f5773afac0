from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ApplicationError
from core.money import (
    CURRENCIES,
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    Money,
    currency_exponent,
    from_minor_units,
    quantize,
    to_minor_units,
)

ALL_CODES = sorted(set(CURRENCIES) | ZERO_DECIMAL_CURRENCIES | THREE_DECIMAL_CURRENCIES)
currencies = st.sampled_from(ALL_CODES)
minor_units = st.integers(min_value=-(10**12), max_value=10**12)


@given(units=minor_units, currency=currencies)
def test_minor_units_round_trip_exactly(units: int, currency: str) -> None:
    amount = from_minor_units(units, currency)

    assert to_minor_units(amount, currency) == units
    assert -amount.as_tuple().exponent == currency_exponent(currency)  # type: ignore[operator]


@given(units=minor_units, currency=st.sampled_from(sorted(ZERO_DECIMAL_CURRENCIES)))
def test_zero_decimal_currencies_have_no_minor_unit(units: int, currency: str) -> None:
    amount = from_minor_units(units, currency)

    assert amount == Decimal(units)
    assert to_minor_units(Decimal(units), currency) == units


def test_exponents_of_known_currencies() -> None:
    assert [currency_exponent(c) for c in ("USD", "JPY", "KWD", "eur", "krw", "BHD")] == [2, 0, 3, 2, 0, 3]


def test_conversion_examples() -> None:
    assert to_minor_units(Decimal("12.34"), "USD") == 1234
    assert to_minor_units(Decimal("1234"), "JPY") == 1234
    assert to_minor_units(Decimal("1.234"), "KWD") == 1234
    assert from_minor_units(1234, "USD") == Decimal("12.34")
    assert from_minor_units(1234, "JPY") == Decimal("1234")
    assert from_minor_units(1234, "KWD") == Decimal("1.234")


def test_amount_finer_than_the_minor_unit_is_refused() -> None:
    with pytest.raises(ApplicationError, match="more decimals than the currency allows"):
        to_minor_units(Decimal("12.345"), "USD")
    with pytest.raises(ApplicationError):
        to_minor_units(Decimal("10.5"), "JPY")


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        to_minor_units(12.34, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal("1.00"), "USD") * 1.5  # type: ignore[operator]


def test_bad_currency_codes_say_what_to_use() -> None:
    with pytest.raises(ApplicationError, match="three-letter ISO 4217 code"):
        currency_exponent("US")


def test_money_arithmetic_refuses_mixed_currencies() -> None:
    with pytest.raises(ApplicationError, match="Cannot combine USD with EUR"):
        Money(Decimal("1"), "USD") + Money(Decimal("1"), "EUR")


def test_quantize_rounds_half_up() -> None:
    assert quantize(Decimal("0.005"), "USD") == Decimal("0.01")
    assert quantize(Decimal("2.5"), "JPY") == Decimal("3")


@given(
    units=st.integers(min_value=0, max_value=10**10),
    currency=currencies,
    ratios=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=6).filter(lambda r: sum(r) > 0),
)
def test_allocate_splits_add_up_to_the_cent(units: int, currency: str, ratios: list[int]) -> None:
    total = Money(from_minor_units(units, currency), currency)

    parts = total.allocate(ratios)

    assert sum(p.to_minor_units() for p in parts) == units
    assert all(p.currency == currency for p in parts)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Decimal(units) * ratio / sum(ratios)
        assert abs(Decimal(part.to_minor_units()) - exact) < 1  # each part within one minor unit of its share


def test_percent_of_money() -> None:
    assert Money(Decimal("199.99"), "USD").percent(Decimal("10")) == Money(Decimal("20.00"), "USD")
    assert Money(Decimal("1999"), "JPY").percent(Decimal("12.5")) == Money(Decimal("250"), "JPY")
