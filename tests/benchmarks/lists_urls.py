"""The benchmark's URLconf (never the product's): the portal's URLs, plus /stack/<list>/, the
second baseline of bench_lists.py: the hand-written SQL page of lists_wsgi.raw_page behind the
portal's own stack. A plain Django view, so it passes through every middleware
(settings.MIDDLEWARE), authenticates with the same API token class the API uses
(accounts.authentication.ApiTokenAuthentication: token lookup with user and membership, the
second-factor rule, use recorded at most once a minute), and applies the same visibility rule
for the caller (the global-permission check the selectors make for models and requests, the
role checks of partners.selectors, audit and notifications); then it runs the SQL and answers
the same JSON. What it leaves out is DRF itself (request wrapping, throttling, content
negotiation), the ORM and the serializers: the list implementation."""

import json

from django.http import HttpResponse, JsonResponse
from django.urls import path
from rest_framework import exceptions

from accounts import policy
from accounts.authentication import ApiTokenAuthentication
from review_portal.urls import handler400, handler404, handler500
from review_portal.urls import urlpatterns as portal
from submissions.selectors import _held_and_groups
from tests.benchmarks.lists_wsgi import raw_page

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]

_GLOBAL_PERM = {"review-requests": "submissions.view_reviewrequest",
                "models": "submissions.view_frontiermodel"}


def _filter_of(user, name: str) -> str | None:
    """Which of raw_page's role filters applies to `user` on list `name` (None: nothing)."""
    if name in _GLOBAL_PERM:  # the rule of submissions.selectors._visible
        if name == "models" and policy.is_partner(user):
            return None
        held_model_wide, _groups = _held_and_groups(user, _GLOBAL_PERM[name])
        if held_model_wide:
            return "admin"
        return "developer" if policy.is_developer(user) else "reviewer"
    if name == "access-grants":  # partners.selectors.grants_visible_to
        if policy.is_program_admin(user):
            return "admin"
        if policy.is_developer(user):
            return "developer"
        return "partner" if policy.is_partner(user) else None
    if name == "audit-events":
        return "admin" if policy.is_program_admin(user) else None
    return "admin"  # notifications: the caller's own (raw_page filters by user)


def stack_list(request, name: str):
    try:
        authenticated = ApiTokenAuthentication().authenticate(request)
    except exceptions.APIException as error:
        return JsonResponse({"detail": str(error.detail)}, status=error.status_code)
    if authenticated is None:
        return JsonResponse({"detail": "Authentication credentials were not provided."},
                            status=401)
    user = authenticated[0]
    role = _filter_of(user, name)
    if role is None:
        return JsonResponse({"detail": "Not found."}, status=404)
    body = json.dumps(raw_page(name, role, user.pk, policy.organisation_id_of(user) or 0,
                               request.GET.get("last") == "1")).encode()
    return HttpResponse(body, content_type="application/json")


urlpatterns = [path("stack/<str:name>/", stack_list), *portal]
