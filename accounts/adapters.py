from allauth.account.adapter import DefaultAccountAdapter


class NoSignupAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by program admins for vetted organisations; no self sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False
