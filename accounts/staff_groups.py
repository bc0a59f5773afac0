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
        # Compliance: decide documents, screening hits and classification assessments (review_compliance; the
        # admin's actions, through the services), read them, and keep the requirement catalogue (add/change; a
        # requirement is retired with is_active, never deleted). Documents, hits and assessments have no change
        # permission on purpose: their rows change only by a decision.
        "compliance.review_compliance",
        "compliance.view_compliancedocument",
        "compliance.view_screeninghit",
        "compliance.view_classificationassessment",
        "compliance.view_requirement",
        "compliance.add_requirement",
        "compliance.change_requirement",
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
        # Billing: payouts (change = the admin's retry and cancel actions; the form itself stays closed),
        # invoices with their lines and credit notes, payments and refunds (refunding), the ledger (read only, for
        # everyone), Stripe webhook events (change = process a failed one again), payout accounts, and fee rates.
        "billing.view_payout",
        "billing.change_payout",
        "billing.view_invoice",
        "billing.view_invoiceline",
        "billing.view_creditnote",
        "billing.view_ledgertransaction",
        "billing.view_ledgerline",
        "billing.view_ledgeraccount",
        "billing.view_payment",
        "billing.view_refund",
        "billing.add_refund",
        "billing.view_stripeevent",
        "billing.change_stripeevent",
        "billing.view_payoutaccount",
        "billing.view_feerate",
        "billing.add_feerate",
        "billing.change_feerate",
    ],
    # Help users: see and correct accounts and memberships, deactivate abusive users; read invoices and payouts
    # but move no money; no compliance.
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
        # Billing: answer "was I invoiced, was I paid" (no payments, ledger or Stripe events).
        "billing.view_invoice",
        "billing.view_invoiceline",
        "billing.view_creditnote",
        "billing.view_payout",
        # Partner API: create an organisation's key for it and revoke keys (add_apikey, through the services; the
        # key itself is never shown again), see webhook subscriptions and deliveries and replay a delivery.
        "accounts.view_apikey",
        "accounts.add_apikey",
        "accounts.view_webhooksubscription",
        "accounts.view_webhookdelivery",
        "accounts.change_webhookdelivery",
        "accounts.view_webhookattempt",
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
