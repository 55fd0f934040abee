from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self):
        from accounts import sessions  # noqa: F401 - connects the sign-in receiver
        from accounts import signals  # noqa: F401 - connects the MFA audit receivers
