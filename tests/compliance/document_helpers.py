"""Shared arrangements of the compliance document tests: parties, reviewers, files, and a private storage root of
the test's own (so nothing lands in .local/private and each test starts empty)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.functional import empty

from accounts.models import Membership, Organization
from accounts.staff_groups import COMPLIANCE_REVIEWERS
from compliance.models import ComplianceDocument, Requirement, private_storage
from compliance.services import documents as services
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory, UserFactory

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def private_root(settings: Any, tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "private"
    settings.PRIVATE_STORAGE_ROOT = root
    private_storage._wrapped = empty  # type: ignore[assignment]  # the lazy storage reads the setting again
    yield root
    private_storage._wrapped = empty  # type: ignore[assignment]


def stored_files() -> list[Path]:
    """The files in the private storage root (the test's own, with the private_root fixture)."""
    root = Path(settings.PRIVATE_STORAGE_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def requirement(code: str) -> Requirement:
    return Requirement.objects.get(code=code)


def freelancer(**kwargs: Any) -> Any:
    return TalentProfileFactory(user=UserFactory(**kwargs)).user


def vendor_member(role: str = Membership.Role.OWNER, **org: Any) -> Membership:
    return MembershipFactory(role=role, organization=OrganizationFactory(kind=Organization.Kind.VENDOR, **org))


def client_member() -> Membership:
    return MembershipFactory(
        role=Membership.Role.OWNER, organization=OrganizationFactory(kind=Organization.Kind.CLIENT)
    )


def reviewer(**kwargs: Any) -> Any:
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=COMPLIANCE_REVIEWERS))
    return user


def staff_without_review(**kwargs: Any) -> Any:
    """Staff who may read documents in the admin but not decide them."""
    user = UserFactory(is_staff=True, **kwargs)
    user.user_permissions.add(Permission.objects.get(codename="view_compliancedocument"))
    return user


def upload_file(content: bytes = PDF, name: str = "scan.pdf", content_type: str = "application/pdf") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def upload(
    *, by: Any, code: str = "identity", content: bytes = PDF, name: str = "scan.pdf", **kwargs: Any
) -> ComplianceDocument:
    return services.document_upload(
        requirement_id=requirement(code).pk, file=upload_file(content, name), by=by, **kwargs
    )
