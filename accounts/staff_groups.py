"""Ops staff duties as Django groups. Migrations call `sync_staff_groups` so every database has the groups;
later apps add their permissions to this map and a migration of theirs calls it again."""

from __future__ import annotations

from typing import Any

COMPLIANCE_REVIEWERS = "Compliance reviewers"
FINANCE = "Finance"
SUPPORT = "Support"

STAFF_GROUP_PERMISSIONS: dict[str, list[str]] = {
    # Review people and organisations and their compliance documents; read the audit trail.
    COMPLIANCE_REVIEWERS: [
        "accounts.view_user",
        "accounts.view_organization",
        "accounts.view_membership",
        "core.view_auditevent",
    ],
    # Money: invoices, payments, payouts (billing adds its permissions); read organisations and the audit trail.
    FINANCE: [
        "accounts.view_organization",
        "accounts.view_membership",
        "core.view_auditevent",
        # Vendor SOWs: the terms, what was measured and used, and each month's credits and bonuses; Finance
        # evaluates a month from the admin (there is no add form: the action calls the service).
        "engagements.view_statementofwork",
        "engagements.view_servicelevel",
        "engagements.view_slameasurement",
        "engagements.view_sowusage",
        "engagements.view_slaevaluation",
        "engagements.add_slaevaluation",
        "engagements.view_slabreach",
    ],
    # Help users: see and correct accounts and memberships, deactivate abusive users; no money, no compliance.
    SUPPORT: [
        "accounts.view_user",
        "accounts.change_user",
        "accounts.view_organization",
        "accounts.change_organization",
        "accounts.view_membership",
        "accounts.add_membership",
        "accounts.change_membership",
        "core.view_auditevent",
        "engagements.view_contract",
        "engagements.resolve_dispute",
        # Vendor SOWs: answer "what did we agree, what was reported, which service levels were missed".
        "engagements.view_statementofwork",
        "engagements.view_servicelevel",
        "engagements.view_slameasurement",
        "engagements.view_slabreach",
    ],
}


def sync_staff_groups(apps: Any, schema_editor: Any = None) -> None:
    """Create the groups and grant the permissions that exist so far (usable as a RunPython migration)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, permission_names in STAFF_GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for name in permission_names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)
