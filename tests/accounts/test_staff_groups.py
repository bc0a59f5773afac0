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
