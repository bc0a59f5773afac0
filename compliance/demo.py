"""Demo compliance for seed_demo, through the real services: the parties who are working (hired freelancers, the
demo logins, vendor firms) upload their documents and ops approve them; a few other freelancers have documents
waiting for review, rejected (one appealed) and expired; hourly contracts get their classification assessment
(high-risk ones left for ops to sign off); everyone is screened against the sanctions list."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Membership, Organization, User
from compliance.gate import Party, engagement_of_contract, engagement_of_sow, requirements_applying
from compliance.models import ClassificationAssessment, ComplianceDocument, Requirement, ScreeningHit

PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> "
    b"endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
# Sign-ups whose names resemble entries of the bundled SAMPLE sanctions list, so the review queue holds the hits
# ops meet in practice: a namesake of a listed individual (same name, another person, likely cleared) and a firm
# named almost like a listed company (to escalate). Everyone else is screened too; their names rarely match.
SCREENING_LOOKALIKE_PEOPLE = [("dmytro.kovalenko@example.test", "Dmytro Kovalenko", "UA")]
SCREENING_LOOKALIKE_FIRMS = [("obsidian-harbor-shipping", "Obsidian Harbor Shipping Ltd", "GB")]
TAX_IDS = {"tax-form-w9": "123-45-6789", "tax-form-w8ben": "GB123456789", "tax-form-w8bene": "DE987654321"}


def _upload(requirement: Requirement, *, by: User, organization: Organization | None) -> ComplianceDocument:
    from compliance.services.documents import document_upload

    return document_upload(
        requirement_id=requirement.pk,
        file=SimpleUploadedFile(f"{requirement.code}.pdf", PDF, content_type="application/pdf"),
        by=by,
        organization_id=organization.pk if organization else None,
        tax_id=TAX_IDS.get(requirement.code, "GB123456789") if requirement.asks_tax_id else "",
    )


def _requirements(party: Party, engagements: list[Any]) -> list[Requirement]:
    found = {r.pk: r for r in requirements_applying(party=party, engagement=None)}
    for engagement in engagements:
        for requirement in requirements_applying(party=party, engagement=engagement):
            found.setdefault(requirement.pk, requirement)
    return [r for r in found.values() if r.evidence == Requirement.Evidence.DOCUMENT]


def _approve_everything(party: Party, *, by: User, reviewer: User, engagements: list[Any]) -> int:
    from compliance.services.documents import document_approve

    done = 0
    have = set(party.documents().values_list("requirement_id", flat=True))
    for requirement in _requirements(party, engagements):
        if requirement.pk in have:
            continue
        document = _upload(requirement, by=by, organization=party.organization)
        document_approve(document_id=document.pk, by=reviewer)
        done += 1
    return done


def seed_compliance_demo(*, rng: random.Random) -> dict[str, int]:
    from compliance.services.checks import classification_assess, classification_decide, screening_run
    from compliance.services.documents import document_appeal, document_reject
    from engagements.models import Contract, StatementOfWork

    if ComplianceDocument.objects.exists():
        return _counts()
    reviewer = User.objects.get(email="ops@tandem.test")
    # Vendor firms: every firm that is working or may work (their owner uploads for the firm).
    for organization in Organization.objects.filter(kind=Organization.Kind.VENDOR).order_by("pk"):
        owner = Membership.objects.filter(organization=organization, role="owner").select_related("user").first()
        if owner is None:
            continue
        sows = [engagement_of_sow(s) for s in StatementOfWork.objects.filter(vendor=organization)]
        contracts = [
            engagement_of_contract(c) for c in Contract.objects.filter(vendor=organization).select_related("gig")
        ]
        _approve_everything(
            Party(organization=organization), by=owner.user, reviewer=reviewer, engagements=sows + contracts
        )
    # Freelancers who are hired, and the demo freelancer.
    hired = set(Contract.objects.exclude(freelancer=None).values_list("freelancer_id", flat=True))
    hired |= set(User.objects.filter(email="freelancer@tandem.test").values_list("pk", flat=True))
    for user in User.objects.filter(pk__in=hired).order_by("pk"):
        contracts = [engagement_of_contract(c) for c in Contract.objects.filter(freelancer=user).select_related("gig")]
        _approve_everything(Party(user=user), by=user, reviewer=reviewer, engagements=contracts)
    # A few freelancers still onboarding: waiting for review, rejected (one appealed), expired.
    onboarding = list(
        User.objects.filter(talent_profile__isnull=False, is_staff=False).exclude(pk__in=hired).order_by("pk")[:12]
    )
    identity = Requirement.objects.get(code="identity")
    nda = Requirement.objects.get(code="nda")
    for index, user in enumerate(onboarding):
        document = _upload(identity, by=user, organization=None)
        if index % 4 == 1:
            document_reject(
                document_id=document.pk, by=reviewer, reason="The photo page is cut off; upload the whole page."
            )
            if index == 1:
                document_appeal(document_id=document.pk, by=user, comment="The full page is on the second sheet.")
        elif index % 4 == 2:
            from compliance.services.documents import document_approve

            document_approve(document_id=document.pk, by=reviewer)
            expired = _upload(nda, by=user, organization=None)
            document_approve(document_id=expired.pk, by=reviewer)
            ComplianceDocument.objects.filter(pk=expired.pk).update(
                expires_at=timezone.now() - timedelta(days=3), status=ComplianceDocument.Status.EXPIRED
            )
    # Classification: every hourly contract is assessed; a couple of high-risk ones are signed off, the rest wait.
    hourly = Contract.objects.filter(kind=Contract.Kind.HOURLY, freelancer__isnull=False).order_by("pk")
    signed = 0
    for contract in hourly:
        assessment = classification_assess(contract=contract)
        if assessment.status == ClassificationAssessment.Status.PENDING and (
            signed < 2 or contract.status != Contract.Status.PENDING_COMPLIANCE
        ):
            classification_decide(
                assessment_id=assessment.pk,
                by=reviewer,
                decision=ClassificationAssessment.Status.SIGNED_OFF,
                note="Defined deliverables and the freelancer's own tools; reviewed with the client.",
            )
            signed += 1
    _hires_waiting_for_classification(reviewer_queue_size=2)
    # Screening: everyone with a profile or a firm, against the bundled list (hits go to the review queue).
    lookalikes = _screening_lookalikes()
    for user_id in User.objects.filter(talent_profile__isnull=False).values_list("pk", flat=True):
        screening_run(user_id=user_id)
    for user_id in lookalikes:
        screening_run(user_id=user_id)
    for organization_id in Organization.objects.values_list("pk", flat=True):
        screening_run(organization_id=organization_id)
    return _counts()


def _hires_waiting_for_classification(*, reviewer_queue_size: int) -> int:
    """Clients hire on a couple of open hourly gigs now: full time and open-ended, so each new contract waits in
    pending_compliance for ops to sign off its high-risk classification (the review queue's third kind of item)."""
    from compliance.services.checks import classification_assess
    from marketplace.models import Bid, Gig
    from marketplace.services.bids import bid_accept

    waiting = 0
    bids = (
        Bid.objects.filter(
            status=Bid.Status.SUBMITTED,
            gig__kind=Gig.Kind.HOURLY,
            gig__status=Gig.Status.OPEN,
            freelancer__isnull=False,
        )
        .select_related("gig")
        .order_by("gig_id", "pk")
    )
    hired_gigs: set[int] = set()
    for bid in bids:
        if waiting == reviewer_queue_size:
            break
        if bid.gig_id in hired_gigs:
            continue
        owner = Membership.objects.filter(organization_id=bid.gig.organization_id, role="owner").first()
        if owner is None:
            continue
        contract = bid_accept(bid_id=bid.pk, by=owner.user)
        hired_gigs.add(bid.gig_id)
        if classification_assess(contract=contract).status == ClassificationAssessment.Status.PENDING:
            waiting += 1
    return waiting


def _screening_lookalikes() -> list[int]:
    """Create the sign-ups above (a person who has not built a profile yet, a new client firm); their ids."""
    user_ids = []
    for email, name, country in SCREENING_LOOKALIKE_PEOPLE:
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": name, "country": country})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user_ids.append(user.pk)
    for slug, name, country in SCREENING_LOOKALIKE_FIRMS:
        Organization.objects.get_or_create(
            slug=slug, defaults={"name": name, "kind": Organization.Kind.CLIENT, "country": country}
        )
    return user_ids


def _counts() -> dict[str, int]:
    return {
        "documents": ComplianceDocument.objects.count(),
        "approved": ComplianceDocument.objects.filter(status=ComplianceDocument.Status.APPROVED).count(),
        "waiting": ComplianceDocument.objects.filter(status=ComplianceDocument.Status.SUBMITTED).count(),
        "rejected": ComplianceDocument.objects.filter(status=ComplianceDocument.Status.REJECTED).count(),
        "expired": ComplianceDocument.objects.filter(status=ComplianceDocument.Status.EXPIRED).count(),
        "screening_hits": ScreeningHit.objects.count(),
        "assessments_pending": ClassificationAssessment.objects.filter(
            status=ClassificationAssessment.Status.PENDING
        ).count(),
    }
