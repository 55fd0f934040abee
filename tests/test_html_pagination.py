"""Every HTML list is paged by review_portal.pagination: page 1 holds a page of rows, the next
page the rest, in a number of queries that does not grow with the list; a `?page=` that names no
page is a 404, never a 500; links keep the list's filters.

Pages are shortened to SIZE rows (HTML_PAGE_SIZE) so the lists stay small."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Organisation
from accounts.services import api_token_create
from audit.models import AuditEvent
from audit.services import audit_record
from evaluations.models import SampleResult
from notifications.models import Notification
from partners.models import AccessGrant, AccessRequest
from partners.services import partner_apply
from review_portal.pagination import paginate
from reviews.services import conflict_declare, policy_create, rubric_create
from submissions import services
from submissions.artifact_services import artifact_upload
from submissions.models import AccessWindow, Artifact
from tests.conftest import bring_to
from tests.factories import OrganisationFactory, UserFactory, make_model
from tests.jobs.conftest import presence
from tests.partners.conftest import PROFILE, make_live_grant, pw  # noqa: F401 - a fixture
from tests.reviews.conftest import DEMO_RULES, add_run, suite_version

SIZE = 3
_serial = iter(range(1_000_000))


def table_rows(html: str) -> int:
    return html.count("<tr><td>")


def pattern_rows(regex: str) -> Callable:
    return lambda html: len(re.findall(regex, html))


@dataclass
class Listing:
    viewer: str
    url: Callable  # world -> path
    add: Callable  # (world, n) -> None: n more rows in the list
    rows: Callable = table_rows  # html -> rows shown
    param: str = "page"
    queries: int = 0  # pinned
    setup: Callable = lambda w: None  # noqa: E731 - what the page needs before its rows
    fixture: str = "world"  # or "pw": the partner world (tests/partners/conftest.py)


def _models(w, n):
    for _ in range(n):
        make_model(w.owner, name=f"Paged {next(_serial)}")


def _requests(w, n):
    for _ in range(n):
        model = make_model(w.owner, name=f"Paged {next(_serial)}")
        services.request_create(model=model, actor=w.owner)


def _windows(w, n):
    start = timezone.now() + timedelta(days=2)
    for _ in range(n):
        AccessWindow.objects.create(model=w.model, status=AccessWindow.Status.CANCELLED,
                                    starts_at=start, ends_at=start + timedelta(days=3),
                                    created_by=w.owner)


def _audit(w, n):
    for _ in range(n):
        audit_record(actor=w.admin, action="paging.tested", obj=w.model)


def _notifications(w, n):
    for _ in range(n):
        i = next(_serial)
        Notification.objects.create(user=w.partner, kind="approval_needed",
                                    object_type="partners.accessrequest", object_id=i + 1,
                                    title=f"Item {i}", link="/partners/requests/")


def _in_review(w):
    if w.request.status == "draft":
        bring_to(w, "in_review")


def _request_page(w):
    return f"/requests/{w.request.pk}/"


def _messages(w, n):
    _in_review(w)
    for _ in range(n):
        services.message_post(review_request=w.request, actor=w.owner,
                              body=f"Message {next(_serial)}")


def _artifacts(w, n):
    for _ in range(n):
        artifact_upload(review_request=w.request, actor=w.owner, kind="model_card",
                        uploaded_file=SimpleUploadedFile(f"card-{next(_serial)}.txt",
                                                         b"A model card.\n"))


def _history(w, n):
    for _ in range(n):
        audit_record(actor=w.owner, action="paging.tested", obj=w.request)


def _model_requests(w, n):
    if w.request.status != "withdrawn":
        services.request_withdraw(review_request=w.request, actor=w.owner)
        w.request.refresh_from_db()
    for _ in range(n):
        request = services.request_create(model=w.model, actor=w.owner)
        services.request_withdraw(review_request=request, actor=w.owner)


def _runs(w, n):
    _in_review(w)
    version = suite_version(w, name=f"Suite {next(_serial)}")
    for _ in range(n):
        add_run(w, version, {}, status="failed")


def _finished_run(w):
    _in_review(w)
    w.run = add_run(w, suite_version(w, name=f"Suite {next(_serial)}"),
                    {"exploit_development": (0.5, 0.1, 10)})


def _samples(w, n):
    for _ in range(n):
        SampleResult.objects.create(run=w.run, sample_id=f"s-{next(_serial):06d}",
                                    category="exploit_development", score=1.0, answer="A",
                                    target="A")


def _partner_profiles(w, n):
    for _ in range(n):
        i = next(_serial)
        org = OrganisationFactory(name=f"Partner {i:06d}", kind=Organisation.Kind.PARTNER)
        partner_apply(actor=UserFactory(username=f"partner{i}", organisation=org), **PROFILE)


def _access_request(w):
    now = timezone.now()
    return AccessRequest.objects.create(
        model=w.model, organisation=w.partner.membership.organisation, requested_by=w.partner,
        starts_at=now + timedelta(days=12), ends_at=now + timedelta(days=20),
        justification="We protect patients.")


def _access_requests(w, n):
    for _ in range(n):
        _access_request(w)


def _live_grant(w):
    w.grant = make_live_grant(w.pw)


def _grants(w, n):
    for _ in range(n):
        grant = w.grant
        AccessGrant.objects.create(request=_access_request(w), model=w.model,
                                   organisation=grant.organisation,
                                   terms_acceptance=grant.terms_acceptance,
                                   starts_at=grant.starts_at, ends_at=grant.ends_at)


def _shared_artifacts(w, n):
    for _ in range(n):
        i = next(_serial)
        Artifact.objects.create(request=w.request, kind="model_card", filename=f"card-{i}.txt",
                                content_type="text/plain", size_bytes=1, sha256="0" * 64,
                                storage_path=f"paged/{i}", shareable_with_partners=True,
                                uploaded_by=w.owner)


def _conflicts(w, n):
    for _ in range(n):
        org = OrganisationFactory(name=f"Developer {next(_serial):06d}",
                                  kind=Organisation.Kind.AI_DEVELOPER)
        conflict_declare(actor=w.reviewer2, organisation=org, kind="other", note="n")


def _rubrics(w, n):
    for _ in range(n):
        rubric_create(actor=w.admin, name=f"R{next(_serial)}",
                      dimensions=[{"key": "a", "name": "A", "guidance": "g"}])


def _policies(w, n):
    for _ in range(n):
        policy_create(actor=w.admin, name=f"P{next(_serial)}", rules=DEMO_RULES)


def _suite_versions(w, n):
    for _ in range(n):
        suite_version(w, name=f"Suite {next(_serial):06d}")


def _tokens(w, n):
    for _ in range(n):
        api_token_create(user=w.owner, name=f"Token {next(_serial)}")


def _workers(w, n):
    for _ in range(n):
        presence(f"celery@paged-{next(_serial):06d}")


# Government viewers cost one query more than developers and partners: the second-factor
# middleware reads their device. Each list adds two: the bounded COUNT and the page's rows.
LISTINGS = {
    "models": Listing("owner", lambda w: "/models/", _models, queries=7),
    "requests": Listing("owner", lambda w: "/requests/", _requests, queries=7),
    # An admin's request list reads the rows' assignments (the "needs your action" marks).
    "requests filtered": Listing("admin", lambda w: "/requests/?status=draft", _requests,
                                 queries=9),
    "windows": Listing("admin", lambda w: "/windows/", _windows, queries=8),
    "audit trail": Listing("admin", lambda w: "/audit/?action=paging.tested", _audit,
                           queries=7),
    "inbox": Listing("partner", lambda w: "/inbox/", _notifications,
                     pattern_rows(r'action="/inbox/\d+/read/"'), queries=6),
    "a model's requests": Listing(
        "owner", lambda w: f"/models/{w.model.pk}/", _model_requests,
        pattern_rows(r'href="/requests/\d+/"'), "requests_page", queries=14),
    "a model's windows": Listing(
        "owner", lambda w: f"/models/{w.model.pk}/", _windows,
        pattern_rows(r'class="badge (?:scheduled|cancelled)"'), "windows_page", queries=14),
    "a request's thread": Listing(
        "owner", _request_page, _messages, pattern_rows(r'class="msg'), "thread_page",
        queries=15, setup=_in_review),
    "a request's artifacts": Listing(
        "owner", _request_page, _artifacts, pattern_rows(r'href="/artifacts/\d+/download/"'),
        "artifacts_page", queries=14),
    "a request's history": Listing(
        "owner", _request_page, _history,
        pattern_rows(r'<tr><td><time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d'),
        "history_page", queries=14),
    "a request's runs": Listing(
        "reviewer", lambda w: f"/requests/{w.request.pk}/evaluation/", _runs,
        # ... and the request's assignments: "Run the suite" is for an assigned reviewer.
        pattern_rows(r'<tr><td><a href="/runs/\d+/">'), queries=15, setup=_in_review),
    "a run's samples": Listing(
        "reviewer", lambda w: f"/runs/{w.run.pk}/", _samples,
        pattern_rows(r"<tr><td>s-\d+</td>"), queries=9, setup=_finished_run),
    "partner organisations": Listing("admin", lambda w: "/partners/", _partner_profiles,
                                     queries=7),
    "access requests": Listing("admin", lambda w: "/partners/requests/", _access_requests,
                               queries=7, fixture="pw"),
    "grants": Listing("admin", lambda w: "/partners/grants/", _grants, queries=7,
                      setup=_live_grant, fixture="pw"),
    "a granted model's documents": Listing(
        "partner", lambda w: f"/partners/grants/{w.grant.pk}/", _shared_artifacts,
        pattern_rows(r'<a href="/partners/artifacts/\d+/download/">card-\d+'), queries=10,
        setup=_live_grant, fixture="pw"),
    "conflicts": Listing("admin", lambda w: "/conflicts/", _conflicts, queries=7),
    "rubrics": Listing("admin", lambda w: "/rubrics/", _rubrics, queries=7),
    "policies": Listing("admin", lambda w: "/policies/", _policies, queries=8),
    "suite versions": Listing("admin", lambda w: "/suites/", _suite_versions, queries=7),
    "workers on the jobs page": Listing(
        "admin", lambda w: "/jobs/health/", _workers, pattern_rows(r"celery@paged-\d+"),
        "workers_page", queries=11),
    "API tokens": Listing("owner", lambda w: "/profile/", _tokens, param="tokens_page",
                          queries=8),
}


def _world(request, listing):
    if listing.fixture == "pw":
        pw = request.getfixturevalue("pw")
        pw.w.pw = pw
        return pw.w
    return request.getfixturevalue("world")


def _get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response.content.decode()


def _page(url, param, number):
    return f"{url}{'&' if '?' in url else '?'}{param}={number}"


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_list_shows_a_page_of_rows_and_the_rest_on_the_next_in_constant_queries(
        client, db, request, settings, name):
    settings.HTML_PAGE_SIZE = SIZE
    listing = LISTINGS[name]
    world = _world(request, listing)
    listing.setup(world)
    client.force_login(getattr(world, listing.viewer))
    url = listing.url(world)
    client.get(url)  # warm the per-process caches (content types, permissions)
    before = listing.rows(_get(client, url)[1])
    assert before < SIZE + 1
    listing.add(world, SIZE + 1 - before)  # one row more than a page: N = SIZE + 1

    queries = []
    first, html = _get(client, url)
    assert listing.rows(html) == SIZE
    assert 'aria-current="page"' in html
    second, html = _get(client, _page(url, listing.param, 2))
    assert listing.rows(html) == 1
    queries += [first, second]

    listing.add(world, 2 * (SIZE + 1))  # 3N rows: four pages
    first, html = _get(client, url)
    assert listing.rows(html) == SIZE
    last, html = _get(client, _page(url, listing.param, 4))
    assert listing.rows(html) == SIZE
    queries += [first, last]
    assert client.get(_page(url, listing.param, 5)).status_code == 404
    assert queries == [listing.queries] * 4, queries


BAD_PAGES = ["abc", "0", "-1", "2.5", "1e3", " 1", "99999", "9999999999", "%00", "1;2"]


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_page_number_that_names_no_page_is_a_404_and_an_empty_one_is_page_1(
        client, db, request, name):
    listing = LISTINGS[name]
    world = _world(request, listing)
    listing.setup(world)
    client.force_login(getattr(world, listing.viewer))
    url = listing.url(world)
    for bad in BAD_PAGES:
        assert client.get(_page(url, listing.param, bad)).status_code == 404, bad
    assert client.get(_page(url, listing.param, "")).status_code == 200
    assert client.get(_page(url, listing.param, "1")).status_code == 200


@pytest.mark.parametrize("name", list(LISTINGS))
def test_anonymous_users_are_sent_to_log_in_whatever_the_page(client, db, request, name):
    listing = LISTINGS[name]
    world = _world(request, listing)
    listing.setup(world)
    for value in ("2", "abc"):
        response = client.get(_page(listing.url(world), listing.param, value))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_page_links_keep_the_filters_and_mark_the_current_page(client, world, settings):
    settings.HTML_PAGE_SIZE = SIZE
    _audit(world, 2 * SIZE + 1)
    client.force_login(world.admin)
    html = client.get("/audit/?action=paging.tested&page=2").content.decode()
    assert '<nav class="pagination" aria-label="Audit trail pages">' in html
    assert '<a href="?action=paging.tested&amp;page=3" rel="next">Older</a>' in html
    assert '<a href="?action=paging.tested" rel="prev">Newer</a>' in html
    assert ('<a href="?action=paging.tested&amp;page=2" aria-current="page">'
            '<span class="visually-hidden">Page </span>2</a>') in html
    # One current page among the page links (the header marks the Audit trail entry too).
    assert html.split('aria-label="Audit trail pages"')[1].count("aria-current") == 1


def test_a_list_that_fits_on_one_page_shows_no_page_links(client, world):
    client.force_login(world.owner)
    assert b'class="pagination"' not in client.get("/models/").content


# --- the helper itself ----------------------------------------------------------------------

def _request(query=""):
    return RequestFactory().get(f"/audit/{query}")


def _events(world, n):
    _audit(world, n)
    return AuditEvent.objects.filter(action="paging.tested")


def test_rows_with_equal_sort_keys_neither_repeat_nor_go_missing_across_pages(world):
    _events(world, 7)
    rows = AuditEvent.objects.filter(action="paging.tested").order_by("action")
    seen = []
    for number in (1, 2, 3):
        seen += [e.pk for e in paginate(_request(f"?page={number}"), rows, per_page=3)]
    assert sorted(seen) == sorted(rows.values_list("pk", flat=True))
    assert len(seen) == 7


def test_past_the_bounded_count_the_total_is_unknown_and_next_is_still_offered(
        world, settings):
    settings.HTML_PAGE_COUNTED_PAGES = 2
    events = _events(world, 10)
    page = paginate(_request("?page=2"), events, per_page=2)
    assert page.total is None and page.num_pages is None
    assert page.has_next and page.has_previous
    assert [link.number for link in page.links] == [1, 2, 3, None]
    last = paginate(_request("?page=5"), events, per_page=2)
    assert len(last) == 2 and not last.has_next
    with pytest.raises(Http404):
        paginate(_request("?page=6"), events, per_page=2)


def test_within_the_bound_the_links_run_from_the_first_page_to_the_last(world):
    events = _events(world, 30)
    page = paginate(_request("?page=6"), events, per_page=2)
    assert page.total == 30 and page.num_pages == 15
    assert [link.number for link in page.links] == [1, None, 4, 5, 6, 7, 8, None, 15]
    assert (page.start_index, page.end_index) == (11, 12)


def test_the_page_size_is_bounded(world, settings):
    settings.HTML_PAGE_SIZE = 10_000
    events = _events(world, 2)
    assert paginate(_request(), events).per_page == 200
    assert paginate(_request(), events, per_page=500).per_page == 200


# --- the thread: a conversation, newest last --------------------------------------------------

def test_the_thread_opens_on_its_latest_messages_newest_last(client, world, settings):
    settings.HTML_PAGE_SIZE = SIZE
    bring_to(world, "in_review")
    for i in range(7):
        services.message_post(review_request=world.request, actor=world.owner,
                              body=f"Message number {i}")
    client.force_login(world.owner)
    url = f"/requests/{world.request.pk}/"

    def shown(html):
        return [int(n) for n in re.findall(r"Message number (\d)", html)]

    html = client.get(url).content.decode()
    assert shown(html) == [4, 5, 6]
    assert '<a href="?thread_page=2#thread" rel="next">Earlier messages</a>' in html
    assert "Later messages" not in html
    html = client.get(url + "?thread_page=2").content.decode()
    assert shown(html) == [1, 2, 3]
    assert '<a href="?thread_page=3#thread" rel="next">Earlier messages</a>' in html
    assert f'<a href="{url}#thread" rel="prev">Later messages</a>' in html
    assert shown(client.get(url + "?thread_page=3").content.decode()) == [0]

    response = client.post(f"/requests/{world.request.pk}/messages/", {"body": "Message number 7"})
    assert response["Location"] == f"{url}#thread"
    assert shown(client.get(url).content.decode()) == [5, 6, 7]


def test_each_list_on_the_request_page_keeps_the_others_page(client, world, settings):
    settings.HTML_PAGE_SIZE = SIZE
    _messages(world, 2 * SIZE)
    _artifacts(world, SIZE + 1)
    client.force_login(world.owner)
    html = client.get(f"/requests/{world.request.pk}/?thread_page=2").content.decode()
    assert '<a href="?thread_page=2&amp;artifacts_page=2#artifacts" rel="next">Next</a>' in html
