from django.apps import AppConfig


class PartnersConfig(AppConfig):
    """Trusted partner organisations, early-access requests and grants (issue 4)."""

    name = "partners"
