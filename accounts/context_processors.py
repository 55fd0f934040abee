from accounts.policy import role_of
from accounts.selectors import security_key_required
from review_portal.navigation import navigation_for


def membership(request):
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    return {
        "current_role": role,
        "current_organisation": user.membership.organisation if role else None,
        # The key pages say so when the program requires a key for this user's role.
        "security_key_required": bool(role) and security_key_required(user),
        # The header's links and menus for this role (review_portal/navigation.py).
        "navigation": navigation_for(user, request.path) if role else [],
    }
