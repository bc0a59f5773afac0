"""Test support: make a freelancer or vendor firm meet every compliance requirement that applies to them, the
way ops would (an approved document per requirement), so tests about other things can pass the gate."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def approve_all(*, user: Any = None, organization: Any = None, contract: Any = None, sow: Any = None) -> int:
    """Approved documents for every document requirement that applies to the party in general and to the given
    contract or SOW; high-risk classification assessments of the contract signed off. Returns how many were
    added."""
    from compliance.gate import (
        Party,
        engagement_of_contract,
        engagement_of_sow,
        requirement_states,
        requirements_applying,
    )
    from compliance.models import ClassificationAssessment, ComplianceDocument, Requirement

    party = Party(user=user if organization is None else None, organization=organization)
    engagement = None
    if contract is not None:
        engagement = engagement_of_contract(contract)
    elif sow is not None:
        engagement = engagement_of_sow(sow)
    requirements = requirements_applying(party=party, engagement=None)
    if engagement is not None:
        requirements += [r for r in requirements_applying(party=party, engagement=engagement) if r not in requirements]
    added = 0
    for state in requirement_states(party=party, requirements=requirements, contract=contract):
        if state.is_met:
            continue
        requirement = state.requirement
        if requirement.evidence == Requirement.Evidence.ASSESSMENT:
            ClassificationAssessment.objects.filter(contract=contract).update(
                status=ClassificationAssessment.Status.SIGNED_OFF, reviewed_at=timezone.now()
            )
            continue
        document = ComplianceDocument(
            requirement=requirement,
            user=party.user,
            organization=party.organization,
            original_name=f"{requirement.code}.pdf",
            content_type="application/pdf",
            size=len(PDF),
            sha256=hashlib.sha256(PDF).hexdigest(),
            status=ComplianceDocument.Status.APPROVED,
            reviewed_at=timezone.now(),
        )
        document.file.save(f"{requirement.code}.pdf", ContentFile(PDF), save=False)
        document.save()
        added += 1
    return added
