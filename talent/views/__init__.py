"""Talent pages: the freelancer's profile editor and public profile, the vendor firm's editor and public page,
and client talent pools. Each view translates input, makes one domain call and renders; htmx requests get the
section they changed (a template partial), other requests a redirect or the whole page.

One module per area (profiles, vendors, pools); the views are re-exported here for talent/urls.py.
"""

from talent.views.pools import (
    pool_create,
    pool_detail,
    pool_list,
    pool_member_add,
    pool_member_notes,
    pool_member_remove,
)
from talent.views.profiles import (
    freelancer_detail,
    portfolio_add,
    portfolio_remove,
    profile_edit,
    profile_skills,
    skill_row,
)
from talent.views.vendors import (
    vendor_capabilities,
    vendor_certification_add,
    vendor_certification_remove,
    vendor_detail,
    vendor_edit,
    vendor_rate_add,
    vendor_rate_edit,
    vendor_rate_remove,
    vendor_team_add,
    vendor_team_edit,
    vendor_team_remove,
)

__all__ = [
    "freelancer_detail",
    "pool_create",
    "pool_detail",
    "pool_list",
    "pool_member_add",
    "pool_member_notes",
    "pool_member_remove",
    "portfolio_add",
    "portfolio_remove",
    "profile_edit",
    "profile_skills",
    "skill_row",
    "vendor_capabilities",
    "vendor_certification_add",
    "vendor_certification_remove",
    "vendor_detail",
    "vendor_edit",
    "vendor_rate_add",
    "vendor_rate_edit",
    "vendor_rate_remove",
    "vendor_team_add",
    "vendor_team_edit",
    "vendor_team_remove",
]
