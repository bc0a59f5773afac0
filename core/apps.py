from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        import core.api_schema  # noqa: F401  # registers the API-key security scheme with drf-spectacular
