from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The in-app inbox, its emails (immediate or a daily digest) and the timed reminders."""

    name = "notifications"
