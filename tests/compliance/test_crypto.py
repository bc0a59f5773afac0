"""Tax ids: the formats each tax form accepts (with the messages that say what is expected), encryption at rest,
key rotation (`manage.py compliance_rotate_keys`), and the system checks on the keys."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command

from accounts.webhooks import webhook_subscription_create
from compliance.checks import encryption_keys_check, encryption_keys_deploy_check
from compliance.crypto import tax_id_decrypt, tax_id_encrypt, tax_id_is_current, tax_id_rotate
from compliance.models import ComplianceDocument
from compliance.tax_ids import FIRM_FORMAT, FOREIGN_FORMAT, US_FORMAT, tax_id_validate
from core.errors import ApplicationError
from core.models import AuditEvent
from tests.compliance.document_helpers import freelancer, private_root, upload  # noqa: F401  (fixture)

BASE_DIR = Path(__file__).resolve().parents[2]
W9, W8BEN, W8BENE = "tax-form-w9", "tax-form-w8ben", "tax-form-w8bene"


# --- formats -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "value", "normalized", "kind", "last4"),
    [
        (W9, "123-45-6789", "123-45-6789", "ssn", "6789"),
        (W9, " 665-01-0001 ", "665-01-0001", "ssn", "0001"),
        (W9, "899-99-9999", "899-99-9999", "ssn", "9999"),
        (W9, "12-3456789", "12-3456789", "ein", "6789"),
        (W9, "01-0000001", "01-0000001", "ein", "0001"),
        (W9, "99-1234567", "99-1234567", "ein", "4567"),
        (W8BEN, "AB123456C", "AB123456C", "foreign_tin", "456C"),
        (W8BEN, "ab 12 34 56 c", "AB123456C", "foreign_tin", "456C"),
        (W8BEN, "DE-123-456-789-01", "DE12345678901", "foreign_tin", "8901"),
        (W8BEN, "12345", "12345", "foreign_tin", "2345"),
        (W8BEN, "A" * 20, "A" * 20, "foreign_tin", "AAAA"),
        (W8BENE, "GB 123 4567 89", "GB123456789", "foreign_tin", "6789"),
        (W8BENE, "98q96b.00000.le.250", "98Q96B.00000.LE.250", "giin", "E250"),
        ("a-new-form", "X1234", "X1234", "foreign_tin", "1234"),  # requirements added later take a foreign TIN
    ],
)
def test_valid_tax_ids_are_normalised(code, value, normalized, kind, last4) -> None:
    tax_id = tax_id_validate(requirement_code=code, value=value)

    assert (tax_id.value, tax_id.kind, tax_id.last4) == (normalized, kind, last4)


def _invalid_ssn(why: str) -> str:
    return f"This is not a valid SSN: {why}. {US_FORMAT}"


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        (W9, "000-12-3456", _invalid_ssn("none starts with 000, 666 or 900–999")),
        (W9, "666-12-3456", _invalid_ssn("none starts with 000, 666 or 900–999")),
        (W9, "900-12-3456", _invalid_ssn("none starts with 000, 666 or 900–999")),
        (W9, "999-12-3456", _invalid_ssn("none starts with 000, 666 or 900–999")),
        (W9, "123-00-4567", _invalid_ssn("its middle two digits are never 00")),
        (W9, "123-45-0000", _invalid_ssn("its last four digits are never 0000")),
        (W9, "07-1234567", f"This is not a valid EIN: the IRS issues none starting with 07. {US_FORMAT}"),
        (W9, "00-1234567", f"This is not a valid EIN: the IRS issues none starting with 00. {US_FORMAT}"),
        (W9, "89-1234567", f"This is not a valid EIN: the IRS issues none starting with 89. {US_FORMAT}"),
        (W9, "123456789", US_FORMAT),  # without dashes it could be either
        (W9, "12-345678", US_FORMAT),
        (W9, "1234-56-789", US_FORMAT),
        (W9, "AB-CD-EFGH", US_FORMAT),
        (W9, "AB123456C", US_FORMAT),
        (W8BEN, "1234", FOREIGN_FORMAT),
        (W8BEN, "A" * 21, FOREIGN_FORMAT),
        (W8BEN, "AB/123456", FOREIGN_FORMAT),
        (W8BEN, "ÄB123456", FOREIGN_FORMAT),
        (W8BEN, "98Q96B.00000.LE.250", FOREIGN_FORMAT),  # a GIIN is for firms
        (W8BENE, "98Q96B.00000.L1.250", FIRM_FORMAT),
        (W8BENE, "98Q96B.0000.LE.250", FIRM_FORMAT),
        (W8BENE, "98Q96B.00000.LE.25", FIRM_FORMAT),
        (W8BENE, "12", FIRM_FORMAT),
        (W9, "", f"This form needs your taxpayer identification number. {US_FORMAT}"),
        (W8BEN, "   ", f"This form needs your taxpayer identification number. {FOREIGN_FORMAT}"),
        (W8BENE, "", f"This form needs your taxpayer identification number. {FIRM_FORMAT}"),
    ],
)
def test_invalid_tax_ids_are_refused_with_the_expected_format(code, value, message) -> None:
    with pytest.raises(ApplicationError) as refusal:
        tax_id_validate(requirement_code=code, value=value)

    assert refusal.value.message == message
    assert refusal.value.field_errors == {"tax_id": [message]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "expected"),
    [("tax-form-w9", US_FORMAT), ("tax-form-w8ben", FOREIGN_FORMAT), ("tax-form-w8bene", FIRM_FORMAT)],
)
def test_the_upload_form_explains_the_format_its_requirement_takes(code: str, expected: str) -> None:
    from compliance.forms import DocumentUploadForm
    from compliance.models import Requirement

    form = DocumentUploadForm(requirement=Requirement.objects.get(code=code))

    assert form.fields["tax_id"].help_text.startswith(expected)


@pytest.mark.django_db
def test_the_upload_form_asks_no_tax_id_where_the_requirement_needs_none() -> None:
    from compliance.forms import DocumentUploadForm
    from compliance.models import Requirement

    form = DocumentUploadForm(requirement=Requirement.objects.get(code="identity"))

    assert "tax_id" not in form.fields


# --- encryption ----------------------------------------------------------------------------------------------------
def test_a_tax_id_round_trips_and_the_token_does_not_contain_it() -> None:
    token = tax_id_encrypt("123-45-6789")

    assert "123-45-6789" not in token and "6789" not in token
    assert tax_id_decrypt(token) == "123-45-6789"
    assert tax_id_encrypt("123-45-6789") != token  # a fresh IV each time


def test_without_the_variable_the_key_is_derived_from_the_secret_key(settings) -> None:
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(f"tandem.compliance.tax-ids:{settings.SECRET_KEY}".encode()).digest()
    ).decode()

    assert settings.COMPLIANCE_ENCRYPTION_KEYS_FROM_ENV is False
    assert [expected] == settings.COMPLIANCE_ENCRYPTION_KEYS
    assert Fernet(expected.encode()).decrypt(tax_id_encrypt("AB12345").encode()) == b"AB12345"


def test_any_configured_key_decrypts_and_rotation_moves_to_the_first(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.COMPLIANCE_ENCRYPTION_KEYS = [old]
    token = tax_id_encrypt("AB12345")

    settings.COMPLIANCE_ENCRYPTION_KEYS = [new, old]

    assert tax_id_decrypt(token) == "AB12345"
    assert not tax_id_is_current(token)
    rotated = tax_id_rotate(token)
    assert tax_id_is_current(rotated)
    settings.COMPLIANCE_ENCRYPTION_KEYS = [new]
    assert tax_id_decrypt(rotated) == "AB12345"
    with pytest.raises(InvalidToken):
        tax_id_decrypt(token)


@pytest.mark.django_db
@pytest.mark.usefixtures("private_root")
def test_compliance_rotate_keys_reencrypts_every_stored_tax_id_once_in_batches(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.COMPLIANCE_ENCRYPTION_KEYS = [old]
    documents = [upload(by=freelancer(), code="tax-form-w8ben", tax_id=f"AB1234567{index}") for index in range(3)]
    upload(by=freelancer())  # no tax id: not touched
    subscription, secret = webhook_subscription_create(
        by=freelancer(), url="https://hooks.example.com/tandem", events=["payout.paid"]
    )
    settings.COMPLIANCE_ENCRYPTION_KEYS = [new, old]
    first, second = StringIO(), StringIO()

    call_command("compliance_rotate_keys", "--batch-size", "2", stdout=first)
    tokens = dict(ComplianceDocument.objects.exclude(tax_id_encrypted="").values_list("pk", "tax_id_encrypted"))
    call_command("compliance_rotate_keys", stdout=second)

    assert first.getvalue().splitlines() == [
        "Re-encrypted 1 webhook signing secret(s) with the current key.",
        "Checked 3 tax id(s): 3 re-encrypted with the current key, 0 already current.",
    ]
    assert second.getvalue().splitlines() == [
        "Re-encrypted 0 webhook signing secret(s) with the current key.",
        "Checked 3 tax id(s): 0 re-encrypted with the current key, 3 already current.",
    ]
    assert dict(ComplianceDocument.objects.exclude(tax_id_encrypted="").values_list("pk", "tax_id_encrypted")) == tokens
    settings.COMPLIANCE_ENCRYPTION_KEYS = [new]  # the old key can go
    assert sorted(tax_id_decrypt(tokens[d.pk]) for d in documents) == ["AB12345670", "AB12345671", "AB12345672"]
    subscription.refresh_from_db()
    assert tax_id_decrypt(subscription.secret_encrypted) == secret
    assert AuditEvent.objects.filter(action="compliance.tax_ids_rotated").count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("private_root")
def test_compliance_rotate_keys_reports_tax_ids_no_key_opens(settings) -> None:
    document = upload(by=freelancer(), code="tax-form-w8ben", tax_id="AB12345")
    settings.COMPLIANCE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError) as failure:
        call_command("compliance_rotate_keys", stdout=StringIO())

    assert str(failure.value) == (
        f"1 tax id(s) could not be decrypted with any configured key (documents {document.pk}). Keep the old key "
        "until they are fixed."
    )


# --- system checks -------------------------------------------------------------------------------------------------
def test_the_key_check_refuses_empty_or_malformed_keys(settings) -> None:
    settings.COMPLIANCE_ENCRYPTION_KEYS = []
    assert [m.id for m in encryption_keys_check()] == ["compliance.E001"]

    settings.COMPLIANCE_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key"]
    [message] = encryption_keys_check()
    assert (message.id, message.msg) == (
        "compliance.E002",
        "COMPLIANCE_ENCRYPTION_KEYS: key 2 is not a Fernet key (32 url-safe base64 bytes).",
    )

    settings.COMPLIANCE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert encryption_keys_check() == []


def test_the_deploy_check_warns_while_the_key_is_derived(settings) -> None:
    settings.COMPLIANCE_ENCRYPTION_KEYS_FROM_ENV = False
    assert [m.id for m in encryption_keys_deploy_check()] == ["compliance.W001"]

    settings.COMPLIANCE_ENCRYPTION_KEYS_FROM_ENV = True
    assert encryption_keys_deploy_check() == []


def _check_deploy(**extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_READ_DOT_ENV": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "tandem.example.com",
        "DATABASE_URL": "postgres://tandem:secret@db.internal:5432/tandem",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_warns_when_production_has_no_explicit_key() -> None:
    without = _check_deploy()
    with_keys = _check_deploy(
        COMPLIANCE_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    )

    assert without.returncode != 0
    assert "(compliance.W001) COMPLIANCE_ENCRYPTION_KEYS is not set" in without.stderr + without.stdout
    assert with_keys.returncode == 0, with_keys.stdout + with_keys.stderr
    assert "System check identified no issues (0 silenced)." in with_keys.stdout
