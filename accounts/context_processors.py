from accounts.policy import role_of


def membership(request):
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    return {
        "current_role": role,
        "current_organisation": user.membership.organisation if role else None,
    }
