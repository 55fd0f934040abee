from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self):
        # Connect the receivers: the sign-in's session lifetime, the MFA audit events.
        from accounts import sessions, signals  # noqa: F401
