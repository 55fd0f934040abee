"""The list endpoints answer exactly the JSON DRF's generic serialization gives for the same
rows: the project's ModelSerializer (review_portal/api_fields.py) serializes a page faster, and
the list querysets read only what the lists show, without changing one value."""

import pytest
from rest_framework import serializers

from notifications.models import Notification
from partners import services as partner_services
from partners.api import AccessGrantViewSet
from partners.models import AccessGrant
from review_portal.api_fields import ModelSerializer
from submissions import services
from submissions.api import FrontierModelViewSet, ReviewRequestViewSet
from submissions.models import FrontierModel, ReviewRequest
from tests.factories import make_model
from tests.partners.conftest import make_live_grant, pw  # noqa: F401 - the fixture

# url -> the viewers whose list is compared (each sees rows).
LISTS = {
    "/api/v1/review-requests/": ["owner", "reviewer", "admin"],
    "/api/v1/models/": ["owner", "reviewer", "admin"],
    "/api/v1/access-grants/": ["owner", "partner", "admin"],
    "/api/v1/access-requests/": ["owner", "partner", "admin"],
    "/api/v1/notifications/": ["owner", "reviewer"],
    "/api/v1/audit-events/": ["admin"],
    "/api/v1/windows/": ["owner", "admin"],
}


@pytest.fixture
def rows(pw):  # noqa: F811 - the fixture imported above
    """Requests in every state the list shows (determined, drafts), a live and a revoked
    grant, read and unread notifications, a window, audit events."""
    w = pw.w
    for i in range(3):
        services.request_create(model=make_model(w.owner, name=f"Extra {i}"), actor=w.owner)
    make_live_grant(pw)
    revoked = make_live_grant(pw, pw.other_partner)
    partner_services.grant_revoke(grant=revoked, actor=w.admin, reason="Misuse.")
    Notification.objects.filter(pk__in=Notification.objects.values("pk")[:2]).update(
        read_at=revoked.revoked_at)
    return w


def generic(monkeypatch):
    monkeypatch.setattr(ModelSerializer, "to_representation",
                        serializers.ModelSerializer.to_representation)


@pytest.mark.parametrize(("url", "viewer"), [(u, v) for u, vs in LISTS.items() for v in vs])
def test_every_list_answers_the_same_json_as_drfs_generic_serialization(
        rows, api, monkeypatch, url, viewer):
    client = api.as_(getattr(rows, viewer))
    fast = client.get(url)
    assert fast.status_code == 200, fast.content
    assert fast.json()["results"], f"{viewer} sees no rows on {url}"

    generic(monkeypatch)
    slow = client.get(url)

    assert fast.json() == slow.json()


def test_the_single_request_and_model_answers_are_unchanged_too(rows, api, monkeypatch):
    client = api.as_(rows.reviewer)
    urls = [f"/api/v1/review-requests/{rows.request.pk}/", f"/api/v1/models/{rows.model.pk}/"]
    fast = [client.get(u).json() for u in urls]
    generic(monkeypatch)
    assert fast == [client.get(u).json() for u in urls]
    assert fast[0]["determinations"][0]["decided_by"] == "reviewer"


# url -> how to load the listed rows whole (no list annotations, every related row).
WHOLE = {
    "/api/v1/review-requests/": lambda ids: ReviewRequest.objects.filter(pk__in=ids)
    .select_related("model").prefetch_related("determinations"),
    "/api/v1/models/": lambda ids: FrontierModel.objects.filter(pk__in=ids)
    .select_related("organisation"),
    "/api/v1/access-grants/": lambda ids: AccessGrant.objects.filter(pk__in=ids)
    .select_related("model", "organisation__partner_profile"),
}
VIEWS = {"/api/v1/review-requests/": ReviewRequestViewSet, "/api/v1/models/": FrontierModelViewSet,
         "/api/v1/access-grants/": AccessGrantViewSet}


@pytest.mark.parametrize(("url", "viewer"), [(u, v) for u in WHOLE for v in LISTS[u]])
def test_a_list_shows_what_its_serializer_gives_for_the_same_rows_loaded_whole(
        rows, api, rf, url, viewer):
    from partners.api import AccessGrantViewSet
    from submissions.api import FrontierModelViewSet, ReviewRequestViewSet

    view = {"/api/v1/review-requests/": ReviewRequestViewSet, "/api/v1/models/":
            FrontierModelViewSet, "/api/v1/access-grants/": AccessGrantViewSet}[url]
    listed = api.as_(getattr(rows, viewer)).get(url).json()["results"]
    request = rf.get(url)
    request.user = getattr(rows, viewer)
    by_id = {o.pk: o for o in WHOLE[url]([r["id"] for r in listed])}
    context = {"request": request, "in_list": True}
    whole = [view.serializer_class(by_id[r["id"]], context=context).data for r in listed]

    assert listed == whole
