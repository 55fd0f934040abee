from django.apps import AppConfig


class ClearinghouseConfig(AppConfig):
    """The AI cybersecurity clearinghouse (issue 11): vulnerability reports from AI companies,
    verification, cases coordinated with vendors under embargo, and generated advisories."""

    name = "clearinghouse"
