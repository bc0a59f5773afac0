from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from compliance import checks  # noqa: F401  (registers the system checks)
        from compliance.tasks_checks import signals_connect

        signals_connect()  # welcome email and screening on sign-up
