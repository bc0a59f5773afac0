"""Tax id formats, per requirement: a W-9 asks for a US SSN or EIN; a W-8BEN for a foreign TIN; a W-8BEN-E for a
foreign TIN or a GIIN. Only the format is checked (no registry look-up); the message says what is expected.

The normalised id is what gets encrypted (compliance/crypto.py); pages and the admin show only its last 4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import ApplicationError

W9, W8BEN, W8BENE = "tax-form-w9", "tax-form-w8ben", "tax-form-w8bene"

SSN_RE = re.compile(r"^(\d{3})-(\d{2})-(\d{4})$")
EIN_RE = re.compile(r"^(\d{2})-(\d{7})$")
FOREIGN_TIN_RE = re.compile(r"^[A-Z0-9]{5,20}$")
# GIIN: FATCA id (6) . financial institution type (5) . ISO country (2 letters) . sequence (3 digits)
GIIN_RE = re.compile(r"^[A-Z0-9]{6}\.[A-Z0-9]{5}\.[A-Z]{2}\.\d{3}$")

# The prefixes the IRS assigns EINs from (its campuses and online); the rest (00, 07–09, 17–19, 28, 29, 49, 69,
# 70, 78, 79, 89, 96, 97) are never issued.
EIN_PREFIXES = frozenset(
    f"{n:02d}"
    for n in [
        *range(1, 7),
        *range(10, 17),
        *range(20, 28),
        *range(30, 40),
        *range(40, 49),
        *range(50, 69),
        *range(71, 78),
        *range(80, 89),
        *range(90, 96),
        98,
        99,
    ]
)

US_FORMAT = "Enter a US SSN as AAA-GG-SSSS (for example 123-45-6789) or an EIN as NN-NNNNNNN (for example 12-3456789)."
FOREIGN_FORMAT = (
    "Enter the taxpayer identification number of your country of residence: 5 to 20 letters and digits "
    "(spaces and dashes are ignored)."
)
FIRM_FORMAT = (
    "Enter the firm's foreign taxpayer identification number (5 to 20 letters and digits; spaces and dashes are "
    "ignored) or its GIIN as XXXXXX.XXXXX.XX.XXX (for example 98Q96B.00000.LE.250)."
)


@dataclass(frozen=True)
class TaxId:
    value: str  # normalised: what is encrypted
    kind: str  # ssn | ein | foreign_tin | giin

    @property
    def last4(self) -> str:
        return re.sub(r"[^A-Z0-9]", "", self.value.upper())[-4:]


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, field_errors={"tax_id": [message]})


def _us(value: str) -> TaxId:
    compact = re.sub(r"\s+", "", value)
    ssn = SSN_RE.match(compact)
    if ssn:
        area, group, serial = ssn.groups()
        if area == "000" or area == "666" or area.startswith("9"):
            raise _refuse("This is not a valid SSN: none starts with 000, 666 or 900–999. " + US_FORMAT)
        if group == "00":
            raise _refuse("This is not a valid SSN: its middle two digits are never 00. " + US_FORMAT)
        if serial == "0000":
            raise _refuse("This is not a valid SSN: its last four digits are never 0000. " + US_FORMAT)
        return TaxId(compact, "ssn")
    ein = EIN_RE.match(compact)
    if ein:
        if ein.group(1) not in EIN_PREFIXES:
            raise _refuse(f"This is not a valid EIN: the IRS issues none starting with {ein.group(1)}. " + US_FORMAT)
        return TaxId(compact, "ein")
    raise _refuse(US_FORMAT)


def _foreign_tin(value: str) -> TaxId | None:
    compact = re.sub(r"[\s-]+", "", value).upper()
    return TaxId(compact, "foreign_tin") if FOREIGN_TIN_RE.match(compact) else None


def _giin(value: str) -> TaxId | None:
    compact = re.sub(r"\s+", "", value).upper()
    return TaxId(compact, "giin") if GIIN_RE.match(compact) else None


def tax_id_format(*, requirement_code: str) -> str:
    """What a tax id for this requirement looks like, in words (shown as help and in every refusal)."""
    return {W9: US_FORMAT, W8BENE: FIRM_FORMAT}.get(requirement_code, FOREIGN_FORMAT)


def tax_id_validate(*, requirement_code: str, value: str) -> TaxId:
    """The normalised tax id for a requirement that asks for one; ApplicationError (field `tax_id`) if it is
    missing or not in the expected format. Requirements added to the catalogue later take a foreign TIN."""
    value = (value or "").strip()
    expected = tax_id_format(requirement_code=requirement_code)
    if not value:
        raise _refuse(f"This form needs your taxpayer identification number. {expected}")
    if requirement_code == W9:
        return _us(value)
    if requirement_code == W8BENE:
        found = _giin(value) if "." in value else _foreign_tin(value)
    else:
        found = _foreign_tin(value)
    if found is None:
        raise _refuse(expected)
    return found
