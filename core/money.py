"""Money: Decimal amounts with an ISO 4217 currency. Never float.

Amounts are stored as `DecimalField(max_digits=14, decimal_places=2)` beside a `currency` column. Stripe takes
integer minor units; `to_minor_units` / `from_minor_units` are the only place that conversion happens, and they
know the currencies whose minor unit is not a hundredth.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

from core.errors import ApplicationError

# Currencies Stripe charges without a minor unit (its "zero-decimal" list).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
# Currencies with three decimals (Stripe expects the last minor digit to be 0 for these).
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# Currencies the marketplace transacts in. Three-decimal currencies are deliberately absent: amounts are stored
# with two decimals, which would lose their third.
CURRENCIES: dict[str, str] = {
    "USD": "US dollar",
    "EUR": "Euro",
    "GBP": "Pound sterling",
    "CAD": "Canadian dollar",
    "AUD": "Australian dollar",
    "NZD": "New Zealand dollar",
    "CHF": "Swiss franc",
    "SEK": "Swedish krona",
    "NOK": "Norwegian krone",
    "DKK": "Danish krone",
    "PLN": "Polish zloty",
    "CZK": "Czech koruna",
    "RON": "Romanian leu",
    "HUF": "Hungarian forint",
    "INR": "Indian rupee",
    "PKR": "Pakistani rupee",
    "BDT": "Bangladeshi taka",
    "PHP": "Philippine peso",
    "IDR": "Indonesian rupiah",
    "SGD": "Singapore dollar",
    "MYR": "Malaysian ringgit",
    "JPY": "Japanese yen",
    "KRW": "South Korean won",
    "VND": "Vietnamese dong",
    "BRL": "Brazilian real",
    "MXN": "Mexican peso",
    "ARS": "Argentine peso",
    "COP": "Colombian peso",
    "CLP": "Chilean peso",
    "ZAR": "South African rand",
    "NGN": "Nigerian naira",
    "KES": "Kenyan shilling",
    "EGP": "Egyptian pound",
    "UAH": "Ukrainian hryvnia",
}
CURRENCY_CHOICES = [(code, f"{code} · {name}") for code, name in CURRENCIES.items()]

AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 2


def currency_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (JPY 0, USD 2, KWD 3)."""
    code = validate_currency_code(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def validate_currency_code(currency: str) -> str:
    code = (currency or "").strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ApplicationError(
            f"“{currency}” is not a currency code. Use a three-letter ISO 4217 code such as USD or EUR.",
            code="invalid_currency",
        )
    return code


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    exponent = currency_exponent(currency)
    return _as_decimal(amount).quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Decimal → integer minor units for Stripe. Refuses amounts finer than the currency's minor unit."""
    value = _as_decimal(amount)
    exponent = currency_exponent(currency)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ApplicationError(
            f"{value} {currency.upper()} has more decimals than the currency allows ({exponent}).",
            code="invalid_amount",
        )
    return int(scaled)


def from_minor_units(units: int, currency: str) -> Decimal:
    """Integer minor units from Stripe → Decimal with the currency's number of decimals."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError("minor units must be an int")
    exponent = currency_exponent(currency)
    return Decimal(units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def _as_decimal(amount: Decimal | int | str) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money is never a float; pass a Decimal or a string")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
    except (InvalidOperation, ValueError) as error:
        raise ApplicationError(f"“{amount}” is not an amount of money.", code="invalid_amount") from error
    if not value.is_finite():
        raise ApplicationError("An amount of money must be a finite number.", code="invalid_amount")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Arithmetic between different currencies is refused, never converted."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _as_decimal(self.amount))
        object.__setattr__(self, "currency", validate_currency_code(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0"), currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("Money can only be combined with Money")
        if other.currency != self.currency:
            raise ApplicationError(f"Cannot combine {self.currency} with {other.currency}.", code="currency_mismatch")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply money by a Decimal, never a float")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def quantized(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def percent(self, rate: Decimal) -> Money:
        """`rate` percent of this amount, rounded to the minor unit."""
        return Money(quantize(self.amount * _as_decimal(rate) / 100, self.currency), self.currency)

    def allocate(self, ratios: Sequence[Decimal | int]) -> list[Money]:
        """Split into parts proportional to `ratios` that add up exactly to this amount (largest remainder)."""
        if not ratios or any(_as_decimal(r) < 0 for r in ratios) or sum(_as_decimal(r) for r in ratios) == 0:
            raise ValueError("ratios must be non-negative and not all zero")
        exponent = currency_exponent(self.currency)
        total_units = to_minor_units(quantize(self.amount, self.currency), self.currency)
        weights = [_as_decimal(r) for r in ratios]
        weight_sum = sum(weights)
        exact = [Decimal(total_units) * w / weight_sum for w in weights]
        parts = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
        remainder = total_units - sum(parts)
        order = sorted(range(len(parts)), key=lambda i: exact[i] - parts[i], reverse=True)
        for i in order[: abs(remainder)]:
            parts[i] += 1 if remainder > 0 else -1
        return [Money(Decimal(p).scaleb(-exponent), self.currency).quantized() for p in parts]

    def to_minor_units(self) -> int:
        return to_minor_units(self.amount, self.currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency):,} {self.currency}"


def money_sum(values: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for value in values:
        total = total + value
    return total


def AmountField(**kwargs: object) -> models.DecimalField:  # noqa: N802 - reads like a field class
    """The one shape for stored amounts: Decimal(14, 2)."""
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs)  # type: ignore[arg-type]


def CurrencyField(**kwargs: object) -> models.CharField:  # noqa: N802
    kwargs.setdefault("max_length", 3)
    kwargs.setdefault("choices", CURRENCY_CHOICES)
    kwargs.setdefault("default", "USD")
    return models.CharField(**kwargs)  # type: ignore[arg-type]
