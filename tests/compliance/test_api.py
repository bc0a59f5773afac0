"""The compliance partner API (read only): a freelancer's or vendor firm's checklist (each requirement, why, its
state, what it blocks), the requirement catalogue, and what keeps one contract from starting, with the keys that
may read each."""

from __future__ import annotations

import pytest

from accounts.models import Organization
from compliance.models import ComplianceDocument, Requirement
from compliance.selectors import contract_activation_blockers
from engagements.models import Contract
from tests.api_support import api_client, freelancer_api_key, org_api_key
from tests.compliance_support import approve_all
from tests.factories import MembershipFactory, OrganizationFactory, TalentProfileFactory

STATUS = "/api/v1/compliance/status/"
REQUIREMENTS = "/api/v1/compliance/requirements/"

IDENTITY = "Identity verification: missing — upload it on your compliance checklist."
NDA = "Non-disclosure agreement: missing — upload it on your compliance checklist."
W8BEN = "W-8BEN tax form: missing — upload it on your compliance checklist."


@pytest.fixture
def marta(db):
    """A freelancer in Great Britain: identity, NDA and W-8BEN apply to her in general."""
    return TalentProfileFactory(user__full_name="Marta Kowalska", user__country="GB").user


def _document(requirement_code: str, *, status: str, **owner) -> ComplianceDocument:
    return ComplianceDocument.objects.create(
        requirement=Requirement.objects.get(code=requirement_code),
        original_name=f"{requirement_code}.pdf",
        file=f"compliance/{requirement_code}.pdf",
        content_type="application/pdf",
        size=100,
        sha256="0" * 64,
        status=status,
        **owner,
    )


# --- status -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_freelancer_reads_their_checklist_with_what_blocks_what(marta) -> None:
    _document("nda", status="submitted", user=marta)
    _document(
        "tax-form-w8ben",
        status="rejected",
        user=marta,
        rejection_reason="The form is unsigned.",
        tax_id_encrypted="gAAAAA-secret",
        tax_id_last4="9876",
    )

    response = api_client(freelancer_api_key(marta, scopes=["compliance:read"])).get(STATUS)

    assert response.status_code == 200
    body = response.json()
    assert body["party"] == {"kind": "freelancer", "id": marta.pk, "name": "Marta Kowalska"}
    assert [(item["requirement"]["code"], item["state"], item["is_met"]) for item in body["items"]] == [
        ("identity", "missing", False),
        ("nda", "submitted", False),
        ("tax-form-w8ben", "rejected", False),
    ]
    identity, nda, w8ben = body["items"]
    assert identity["message"] == IDENTITY
    assert identity["document"] is None
    assert identity["requirement"]["description"].startswith("A passport, national identity card")
    assert (identity["requirement"]["blocks_activation"], identity["requirement"]["blocks_payout"]) == (True, True)
    assert nda["message"] == "Non-disclosure agreement: uploaded, waiting for review by our compliance team."
    assert nda["document"]["status"] == "submitted"
    assert w8ben["document"]["rejection_reason"] == "The form is unsigned."
    assert w8ben["message"] == (
        "W-8BEN tax form: rejected — The form is unsigned. Please upload a corrected one or appeal."
    )
    assert body["activation_blocked_by"] == [IDENTITY, nda["message"]]
    assert body["payout_blockers"] == [IDENTITY, w8ben["message"]]
    assert "9876" not in response.content.decode() and "secret" not in response.content.decode()
    assert set(w8ben["document"]) == {
        "id",
        "status",
        "uploaded_at",
        "reviewed_at",
        "expires_at",
        "rejection_reason",
        "appealed_at",
    }


@pytest.mark.django_db
def test_once_everything_is_approved_nothing_blocks(marta, private_root) -> None:
    approve_all(user=marta)

    body = api_client(freelancer_api_key(marta, scopes=["compliance:read"])).get(STATUS).json()

    assert [(item["requirement"]["code"], item["state"]) for item in body["items"]] == [
        ("identity", "met"),
        ("nda", "met"),
        ("tax-form-w8ben", "met"),
    ]
    assert (body["activation_blocked_by"], body["payout_blockers"]) == ([], [])


@pytest.mark.django_db
def test_a_vendor_firms_key_reads_the_firms_checklist() -> None:
    firm = OrganizationFactory(name="Indus Ridge", kind=Organization.Kind.VENDOR, country="IN")

    response = api_client(org_api_key(firm, scopes=["compliance:read"])).get(STATUS)

    assert response.status_code == 200
    body = response.json()
    assert body["party"] == {"kind": "vendor", "id": firm.pk, "name": "Indus Ridge"}
    assert [item["requirement"]["code"] for item in body["items"]] == ["nda", "insurance", "tax-form-w8bene"]
    assert body["payout_blockers"] == ["W-8BEN-E tax form: missing — upload it on your compliance checklist."]


@pytest.mark.django_db
def test_a_client_organisation_has_no_checklist(marta) -> None:
    response = api_client(org_api_key(OrganizationFactory(kind="client"))).get(STATUS)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "Compliance checklists are for freelancers and vendor firms; this organisation is a client."
    )


@pytest.mark.django_db
def test_a_signed_in_person_without_a_freelancer_profile_is_told_what_to_do(client) -> None:
    client.force_login(MembershipFactory(organization=OrganizationFactory(kind="client")).user)

    response = client.get(STATUS)

    assert response.status_code == 403
    assert "freelancers and vendor firms" in response.json()["detail"]


@pytest.mark.django_db
def test_compliance_reads_need_a_key_with_the_compliance_scope(marta) -> None:
    wrong_scope = api_client(freelancer_api_key(marta, scopes=["billing:read"]))

    assert api_client().get(STATUS).status_code == 401
    assert api_client().get(REQUIREMENTS).status_code == 401
    assert wrong_scope.get(STATUS).status_code == 403
    assert wrong_scope.get(REQUIREMENTS).status_code == 403
    assert api_client(freelancer_api_key(marta)).post(STATUS, {}, format="json").status_code == 403  # read only


# --- requirements -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_catalogue_lists_active_requirements_and_filters_them(marta) -> None:
    Requirement.objects.filter(code="soc-2").update(is_active=False)
    api = api_client(freelancer_api_key(marta, scopes=["compliance:read"]))

    everything = api.get(REQUIREMENTS, {"page_size": 50})
    vendors = api.get(REQUIREMENTS, {"party": "vendor"})

    assert everything.status_code == 200
    codes = [row["code"] for row in everything.json()["results"]]
    assert sorted(codes) == sorted(Requirement.objects.filter(is_active=True).values_list("code", flat=True))
    assert "soc-2" not in codes and len(codes) == 10
    assert sorted(row["code"] for row in vendors.json()["results"]) == ["insurance", "iso-27001", "tax-form-w8bene"]
    dpa = next(row for row in everything.json()["results"] if row["code"] == "dpa")
    assert dpa == {
        "id": Requirement.objects.get(code="dpa").pk,
        "code": "dpa",
        "name": "Data processing agreement",
        "description": "Work that touches personal data needs a signed data processing agreement (GDPR article 28).",
        "evidence": "document",
        "party": "any",
        "countries": [],
        "excluded_countries": [],
        "engagement_kinds": [],
        "engagement_flags": ["handles_personal_data"],
        "min_weekly_hours": None,
        "min_duration_weeks": None,
        "blocks_activation": True,
        "blocks_payout": False,
        "validity_days": None,
    }


@pytest.mark.django_db
def test_an_unknown_catalogue_filter_is_a_400(marta) -> None:
    response = api_client(freelancer_api_key(marta)).get(REQUIREMENTS, {"party": "robot", "evidence": "vibes"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"party", "evidence"}


# --- one contract -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_both_sides_see_what_keeps_a_contract_from_starting(hire) -> None:
    contract, member, freelancer = hire(compliant=False, activate=False)
    assert contract.status == Contract.Status.PENDING_COMPLIANCE
    expected = contract_activation_blockers(contract=contract)

    as_client = api_client(org_api_key(member.organization, scopes=["compliance:read"])).get(
        f"/api/v1/contracts/{contract.pk}/compliance/"
    )
    as_freelancer = api_client(freelancer_api_key(freelancer, scopes=["compliance:read"])).get(
        f"/api/v1/contracts/{contract.pk}/compliance/"
    )

    assert as_client.status_code == 200
    assert as_client.json() == {
        "contract_id": contract.pk,
        "status": "pending_compliance",
        "is_waiting_for_compliance": True,
        "blockers": expected,
    }
    assert NDA in expected and IDENTITY in expected
    assert as_freelancer.json() == as_client.json()


@pytest.mark.django_db
def test_an_active_contract_has_no_blockers_and_others_get_404(hire) -> None:
    contract, member, _freelancer = hire()
    url = f"/api/v1/contracts/{contract.pk}/compliance/"

    response = api_client(org_api_key(member.organization, scopes=["compliance:read"])).get(url)

    assert response.json() == {
        "contract_id": contract.pk,
        "status": "active",
        "is_waiting_for_compliance": False,
        "blockers": [],
    }
    assert api_client(org_api_key(OrganizationFactory(kind="client"))).get(url).status_code == 404
    assert api_client(org_api_key(OrganizationFactory(kind="vendor"))).get(url).status_code == 404
    assert api_client(org_api_key(member.organization, scopes=["engagements:read"])).get(url).status_code == 403
    assert api_client().get(url).status_code == 401
    assert api_client(org_api_key(member.organization)).get("/api/v1/contracts/999999/compliance/").status_code == 404
    assert Contract.objects.get(pk=contract.pk).status == "active"
