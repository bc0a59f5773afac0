from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Tandem operations"
admin.site.site_title = "Tandem ops"
admin.site.index_title = "Operations"
# The admin signs in through allauth's login, so the same lockout and rate limits protect it.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("config.api_urls")),
    path("talent/", include("talent.urls")),
    # marketplace first: its /contracts/<id>/review/ must win over engagements' /contracts/<id>/<action>/
    path("", include("marketplace.urls")),
    path("", include("engagements.urls")),
    path("", include("billing.urls")),
    path("", include("compliance.urls")),
    path("", include("compliance.urls_data_rights")),
    path("", include("core.urls")),
    path("", include("accounts.urls")),
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
