import pytest
from django.contrib.auth.models import Group

from accounts.staff_groups import COMPLIANCE_REVIEWERS, FINANCE, SUPPORT


@pytest.mark.django_db
def test_migrations_create_the_ops_groups_with_their_permissions() -> None:
    permissions = {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.all()
    }

    assert set(permissions) == {COMPLIANCE_REVIEWERS, FINANCE, SUPPORT}
    assert "core.view_auditevent" in permissions[COMPLIANCE_REVIEWERS]
    assert "accounts.change_user" in permissions[SUPPORT]
    assert "accounts.change_user" not in permissions[FINANCE]
    assert not any(
        p.startswith("core.change_") or p.startswith("core.delete_") for ps in permissions.values() for p in ps
    )


@pytest.mark.django_db
def test_support_creates_and_revokes_an_organisations_api_key_in_the_admin() -> None:
    from accounts.models import ApiKey
    from accounts.services import api_key_create, api_key_revoke
    from tests.factories import MembershipFactory, UserFactory

    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    organization = MembershipFactory().organization

    key, raw = api_key_create(
        by=support, name="Ticketing sync", scopes=["marketplace:read"], organization_id=organization.pk
    )
    api_key_revoke(key_id=key.pk, by=support)

    assert raw.startswith("tnd_")
    assert ApiKey.objects.get(pk=key.pk).revoked_by == support
