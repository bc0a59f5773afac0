import pytest

from core.errors import ApplicationError
from core.models import AuditEvent
from engagements.models import Contract
from engagements.services import (
    contract_activate,
    contract_complete,
    contract_dispute,
    contract_dispute_resolve,
    contract_pause,
    contract_resume,
    contract_terminate,
)
from tests.factories import MembershipFactory, UserFactory
from tests.oncommit import task_callbacks


def _status(contract: Contract) -> str:
    contract.refresh_from_db()
    return contract.status


@pytest.mark.django_db
def test_activation_passes_the_compliance_gate_and_records_the_start(hire) -> None:
    contract, member, _ = hire(activate=False)
    assert contract.status == "pending_compliance"

    contract_activate(contract_id=contract.pk, by=member.user)

    contract.refresh_from_db()
    assert contract.status == "active" and contract.start_date is not None and contract.activated_at is not None
    assert AuditEvent.objects.filter(action="contract.activated", target_id=str(contract.pk)).exists()


@pytest.mark.django_db
def test_activation_blocked_by_compliance_lists_what_is_missing(hire, monkeypatch) -> None:
    import compliance.selectors

    contract, member, _ = hire(activate=False)
    monkeypatch.setattr(
        compliance.selectors, "contract_activation_blockers", lambda *, contract: ["W-8BEN tax form", "NDA"]
    )

    with pytest.raises(ApplicationError, match="can't start yet: W-8BEN tax form; NDA"):
        contract_activate(contract_id=contract.pk, by=member.user)

    assert _status(contract) == "pending_compliance"


@pytest.mark.django_db
def test_pause_resume_and_complete_by_the_client(hire) -> None:
    contract, member, freelancer = hire()

    contract_pause(contract_id=contract.pk, by=member.user, reason="Waiting on design")
    assert _status(contract) == "paused"
    contract_resume(contract_id=contract.pk, by=member.user)
    assert _status(contract) == "active"
    contract_complete(contract_id=contract.pk, by=member.user)

    assert _status(contract) == "completed"
    freelancer.talent_profile.refresh_from_db()
    assert freelancer.talent_profile.completed_contracts == 1


@pytest.mark.django_db
def test_the_worker_cannot_pause_or_end_and_outsiders_get_not_found(hire) -> None:
    contract, member, freelancer = hire()
    finance = MembershipFactory(organization=member.organization, role="finance").user

    with pytest.raises(ApplicationError, match="Only the client can pause"):
        contract_pause(contract_id=contract.pk, by=freelancer)
    with pytest.raises(ApplicationError, match="Finance members can't end"):
        contract_terminate(contract_id=contract.pk, by=finance, reason="x")
    with pytest.raises(Contract.DoesNotExist):
        contract_pause(contract_id=contract.pk, by=MembershipFactory().user)
    assert _status(contract) == "active"


@pytest.mark.django_db
def test_terminate_needs_a_reason(hire) -> None:
    contract, member, _ = hire()

    with pytest.raises(ApplicationError, match="Say why"):
        contract_terminate(contract_id=contract.pk, by=member.user, reason=" ")
    contract_terminate(contract_id=contract.pk, by=member.user, reason="Project cancelled")

    contract.refresh_from_db()
    assert (contract.status, contract.end_reason) == ("terminated", "Project cancelled")
    with pytest.raises(ApplicationError, match="Only a paused contract can be resumed"):
        contract_resume(contract_id=contract.pk, by=member.user)


@pytest.mark.django_db
def test_either_side_disputes_and_only_dispute_resolvers_decide(hire) -> None:
    from django.contrib.auth.models import Group

    contract, _member, freelancer = hire()
    with pytest.raises(ApplicationError, match="Describe the problem"):
        contract_dispute(contract_id=contract.pk, by=freelancer, reason="")
    contract_dispute(contract_id=contract.pk, by=freelancer, reason="Client changed the scope twice")
    plain_staff = UserFactory(is_staff=True)
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))

    with pytest.raises(ApplicationError, match="Only ops staff who resolve disputes"):
        contract_dispute_resolve(contract_id=contract.pk, by=plain_staff, outcome="active", resolution="x")
    assert _status(contract) == "disputed"
    contract_dispute_resolve(
        contract_id=contract.pk, by=support, outcome="active", resolution="Scope agreed in writing; carry on."
    )

    contract.refresh_from_db()
    assert (contract.status, contract.dispute_resolution) == ("active", "Scope agreed in writing; carry on.")


@pytest.mark.django_db
def test_ops_resolve_disputes_in_the_admin_with_a_written_resolution(hire, client) -> None:
    from django.contrib.auth.models import Group

    contract, _member, freelancer = hire()
    contract_dispute(contract_id=contract.pk, by=freelancer, reason="Late payment")
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)
    url = "/admin/engagements/contract/"

    form_page = client.post(url, {"action": "resolve_disputes", "_selected_action": [contract.pk]})
    assert form_page.status_code == 200 and "Late payment" in form_page.content.decode()
    missing = client.post(
        url,
        {
            "action": "resolve_disputes",
            "_selected_action": [contract.pk],
            "apply": "1",
            "outcome": "active",
            "resolution": "",
        },
    )
    assert missing.status_code == 200 and _status(contract) == "disputed"  # the form shows what is missing
    client.post(
        url,
        {
            "action": "resolve_disputes",
            "_selected_action": [contract.pk],
            "apply": "1",
            "outcome": "active",
            "resolution": "Paid today; carry on.",
        },
    )

    assert _status(contract) == "active"
    event = AuditEvent.objects.get(action="contract.dispute_resolved")
    assert (event.actor, event.from_state, event.to_state) == (support, "disputed", "active")


@pytest.mark.django_db
def test_hiring_activates_the_contract_after_commit_when_nothing_blocks_it(hire, django_capture_on_commit_callbacks):
    from engagements.services import contract_activate_if_ready

    with django_capture_on_commit_callbacks() as callbacks:
        contract, _member, _freelancer = hire(activate=False)
    assert contract.status == "pending_compliance"
    assert len(task_callbacks(callbacks)) >= 2  # matching of the gig and the activation are both sent after the commit

    assert contract_activate_if_ready(contract_id=contract.pk) is True
    assert contract_activate_if_ready(contract_id=contract.pk) is False  # idempotent
    assert _status(contract) == "active"
