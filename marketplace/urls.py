from django.urls import include, path

from marketplace.views import microtasks

app_name = "marketplace"

urlpatterns = [
    path("", include(microtasks.urlpatterns)),
]
