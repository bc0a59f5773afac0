from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_changed
from django.test import RequestFactory
from django.utils import timezone

from billing.models import PayoutAccount
from billing.services import payout_blockers
from tests.compliance_support import approve_all
from tests.factories import MembershipFactory, UserFactory


@pytest.mark.django_db
def test_changing_the_sign_in_email_holds_payouts_of_the_person_and_their_firms() -> None:
    person = UserFactory()
    firm = MembershipFactory(user=person, organization__kind="vendor", role="finance").organization
    own = PayoutAccount.objects.create(
        user=person, stripe_account_id="acct_own", country="GB", details_submitted=True, payouts_enabled=True
    )
    firms = PayoutAccount.objects.create(
        organization=firm, stripe_account_id="acct_firm", country="GB", details_submitted=True, payouts_enabled=True
    )
    bystander = PayoutAccount.objects.create(
        user=UserFactory(), stripe_account_id="acct_other", country="GB", details_submitted=True, payouts_enabled=True
    )
    for payee in ({"user": person}, {"organization": firm}, {"user": bystander.user}):
        approve_all(**payee)  # compliance is met: only the hold decides
    old = EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=True)
    new = EmailAddress.objects.create(user=person, email="new@example.com", primary=False, verified=True)

    email_changed.send(
        sender=type(person),
        request=RequestFactory().get("/"),
        user=person,
        from_email_address=old,
        to_email_address=new,
    )

    for account in (own, firms):
        account.refresh_from_db()
        assert timezone.now() + timedelta(hours=71) < account.hold_until <= timezone.now() + timedelta(hours=72)
        assert payout_blockers(account=account)[0].startswith("Payouts are on hold until ")
    bystander.refresh_from_db()
    assert bystander.hold_until is None and payout_blockers(account=bystander) == []
