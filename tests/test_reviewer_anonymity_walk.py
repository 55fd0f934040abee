"""Developers and partners never learn who reviewed. Every page and every API endpoint the URL
resolver knows (admin aside: staff only) is fetched with GET as a developer and as a partner,
with its ids filled from a world where the reviewers did everything reviewers do (assigned,
asked, reviewed, ran an evaluation, determined, approved and denied access, issued a window
token, declared a conflict); no answer, HTML or JSON, may carry a reviewer's username, first
name, last name or email address."""

import re
from datetime import timedelta
from itertools import product

import pytest
from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from accounts.models import ApiToken
from clearinghouse import intake
from clearinghouse.models import (
    Advisory,
    Case,
    MemberProfile,
    Participant,
    ProductStatement,
    Report,
    ReportArtifact,
    Vulnerability,
)
from evaluations.models import BenchmarkSuite, EvaluationRun
from evaluations.services import endpoint_set
from exposures.models import Asset, Exposure, Inventory
from notifications.models import Notification
from partners import services as partner_services
from partners.gateway import gateway_client_create
from partners.models import AccessGrant, AccessRequest, GatewayClient, PartnerProfile
from partners.tracking import calendar_feed_create
from reviews import services as review_services
from reviews.models import ConflictOfInterest, PolicyVersion, Review, RubricVersion
from submissions import services
from submissions.artifact_services import artifact_set_shareable, artifact_upload
from submissions.models import AccessWindow, Artifact, FrontierModel, ReviewerAssignment
from submissions.window_services import window_issue_token, window_schedule
from tests.partners.conftest import vetted_partner
from tests.reviews.conftest import FULL_SCORES, add_run, suite_version

REVIEWERS = {
    "reviewer": ("zq-reviewer", "Zebulon", "Quartermaine", "zebulon.quartermaine@agency.example"),
    "reviewer2": ("yx-reviewer", "Ysolde", "Xanthopoulos", "ysolde.xanthopoulos@agency.example"),
}
SECRETS = [part for fields in REVIEWERS.values() for part in fields]

# The object each id in a route stands for, by the route's words before it.
ID_SOURCES = [  # the first pattern that matches wins
    (r"access-requests/$|partners/requests/$", "access_request"),
    (r"review-requests/$|requests/$", "request"),
    (r"models/$|invite/$|terms/$", "model"),
    (r"report-artifacts/$", "report_artifact"),
    (r"artifacts/$", "artifact"),
    (r"windows/$", "window"),
    (r"access-grants/$|grants/$", "grant"),
    (r"partner-organisations/$|^partners/$", "profile"),
    (r"notifications/$|inbox/$", "notification"),
    (r"reviews/$", "review"),
    (r"assignments/$", "assignment"),
    (r"rubrics/$", "rubric"),
    (r"policies/$", "policy"),
    (r"suites/$", "suite"),
    (r"runs/$", "run"),
    (r"tokens/$", "token"),
    (r"conflicts/$", "conflict"),
    (r"keys/$", "authenticator"),
    (r"advisories/$", "advisory"),
    (r"reports/$", "report"),
    (r"clearinghouse-members/$|members/$", "member"),
    (r"participants/$|vendors/$", "participant"),
    (r"cases/$", "case"),
    (r"statements/$", "statement"),
    (r"inventories/$", "inventory"),
    (r"assets/$", "asset"),
    (r"exposures/$", "exposure"),
    (r"vulnerabilities/$", "vulnerability"),
    (r"gateways/$|gateway-clients/$", "gateway_client"),
]
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)")


def _rename(user, username, first, last, email):
    user.username, user.first_name, user.last_name, user.email = username, first, last, email
    user.save()


@pytest.fixture
def reviewed(world):
    """The world after reviewers with distinctive names took part in everything."""
    w = world
    for attr, fields in REVIEWERS.items():
        _rename(getattr(w, attr), *fields)
    zq, yx = w.reviewer, w.reviewer2
    r = w.request
    artifact = artifact_upload(review_request=r, actor=w.owner, kind="model_card",
                               uploaded_file=SimpleUploadedFile("card.txt", b"A model card."))
    services.request_submit(review_request=r, actor=w.owner)
    services.reviewer_assign(review_request=r, reviewer=zq, actor=w.admin)  # the lead
    services.reviewer_assign(review_request=r, reviewer=yx, actor=w.admin)
    services.request_ask_information(review_request=r, actor=zq, question="Which scaffolds?")
    services.message_post(review_request=r, actor=w.owner, body="Two scaffolds.")
    services.message_post(review_request=r, actor=yx, body="Thank you.")
    endpoint_set(model=w.model, actor=w.owner, kind="simulated", model_name="atlas-sim",
                 simulated_levels={"exploit_development": 0.8})
    add_run(w, suite_version(w), {"exploit_development": (0.4, 0.05, 100)})
    EvaluationRun.objects.update(started_by=zq)
    gateway_client_create(actor=w.owner, name="Acme nginx")  # its pages and API are walked
    for reviewer in (zq, yx):
        review_services.review_save(review_request=r, actor=reviewer, scores=FULL_SCORES,
                                    recommendation="covered", confidence="high",
                                    comments_for_developer="A comment for the developer.",
                                    internal_comments="Internal.", submit=True)
    services.request_determine(review_request=r, actor=zq, outcome="covered",
                               rationale="Above the level.", internal_notes="Internal.",
                               override_reason="The red team's evidence.")
    review_services.conflict_declare(actor=yx, organisation=w.other_org, kind="financial",
                                     note="Shares.")
    # The partner side: a vetted partner, a government window and its token, terms, a grant
    # (approved by the lead for the agency) and a second request the lead denied.
    vetted_partner(w.admin, w.partner)
    now = timezone.now()
    window = window_schedule(model=w.model, actor=w.owner, starts_at=now + timedelta(days=1),
                             ends_at=now + timedelta(days=11))
    window_issue_token(window=window, actor=zq)
    terms = partner_services.terms_set(model=w.model, actor=w.owner, text="Defence only.")
    artifact_set_shareable(artifact=artifact, actor=w.owner, shareable=True)
    start, end = now + timedelta(days=12), now + timedelta(days=40)
    granted = partner_services.access_request_create(
        actor=w.partner, model=w.model, starts_at=start, ends_at=end, justification="Patients.")
    partner_services.access_request_approve(access_request=granted, actor=w.colleague)
    partner_services.access_request_approve(access_request=granted, actor=zq)
    partner_services.terms_accept(model=w.model, actor=w.partner, version=terms.version,
                                  accepted_name="Pat Doe")
    AccessGrant.objects.update(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=5))
    denied = partner_services.access_request_create(
        actor=w.partner, model=w.model, starts_at=end, ends_at=end + timedelta(days=5),
        justification="More patients.")
    partner_services.access_request_deny(access_request=denied, actor=zq, reason="Not now.")
    # The clearinghouse: Acme's report, verified by the lead reviewer, validated by the office.
    report = intake.report_file(actor=w.owner, title="Overflow", description="A flaw.",
                                attacker="a", capability="c", trigger="t", impact="i",
                                cwe="CWE-787", products=[{"purl": "pkg:pypi/libfoo"}],
                                cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    intake.verification_record(report=report, actor=zq, method="manual", environment="e",
                               runs=1, successes=1, result="reproduced")
    intake.report_human_validate(report=report, actor=w.admin)
    return w


def _routes(patterns=None, prefix=""):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)


def _ids(world, viewer) -> dict[str, list]:
    feed_token = calendar_feed_create(user=viewer)[1]
    return {
        "request": [world.request.pk],
        "model": list(FrontierModel.objects.values_list("pk", flat=True)),
        "artifact": list(Artifact.objects.values_list("pk", flat=True)),
        "window": list(AccessWindow.objects.values_list("pk", flat=True)),
        "access_request": list(AccessRequest.objects.values_list("pk", flat=True)),
        "grant": list(AccessGrant.objects.values_list("pk", flat=True)),
        "profile": list(PartnerProfile.objects.values_list("pk", flat=True)),
        "notification": list(Notification.objects.filter(user=viewer)
                             .values_list("pk", flat=True)),
        "review": list(Review.objects.values_list("pk", flat=True)),
        "assignment": list(ReviewerAssignment.objects.values_list("pk", flat=True)),
        "rubric": list(RubricVersion.objects.values_list("pk", flat=True)),
        "policy": list(PolicyVersion.objects.values_list("pk", flat=True)),
        "suite": list(BenchmarkSuite.objects.values_list("pk", flat=True)),
        "run": list(EvaluationRun.objects.values_list("pk", flat=True)),
        "token": list(ApiToken.objects.values_list("pk", flat=True)),
        "conflict": list(ConflictOfInterest.objects.values_list("pk", flat=True)),
        "authenticator": list(Authenticator.objects.values_list("pk", flat=True)),
        "feed": [feed_token],
        "advisory": list(Advisory.objects.values_list("pk", flat=True)),
        "report": list(Report.objects.values_list("pk", flat=True)),
        "report_artifact": list(ReportArtifact.objects.values_list("pk", flat=True)),
        "member": list(MemberProfile.objects.values_list("pk", flat=True)),
        "participant": list(Participant.objects.values_list("pk", flat=True)),
        "case": list(Case.objects.values_list("pk", flat=True)),
        "statement": list(ProductStatement.objects.values_list("pk", flat=True)),
        "inventory": list(Inventory.objects.values_list("pk", flat=True)),
        "asset": list(Asset.objects.values_list("pk", flat=True)),
        "exposure": list(Exposure.objects.values_list("pk", flat=True)),
        "vulnerability": list(Vulnerability.objects.values_list("pk", flat=True)),
        "gateway_client": list(GatewayClient.objects.values_list("pk", flat=True)),
    }


def _source(route: str, match: re.Match, name: str) -> str:
    if name == "request_pk":
        return "request"
    if name == "model_pk":
        return "model"
    if name == "participant_pk":
        return "participant"
    before = route[:match.start()].replace("^", "")
    for pattern, source in ID_SOURCES:
        if re.search(pattern, before):
            return source
    raise AssertionError(f"No ids known for {name} in {route}: add it to ID_SOURCES")


def _urls(world, viewer) -> list[str]:
    ids = _ids(world, viewer)
    urls = set()
    for route in _routes():
        if route.startswith("admin/") or "(?P<format>" in route:
            continue  # the admin is for staff; format suffixes answer the same as without
        params = list(PARAM.finditer(route))
        choices = []
        for m in params:
            name = m.group("name") or m.group("rname")
            if name == "action":
                choices.append(["vet", "approve", "determine"])
            elif name == "token" and route.startswith("partners/calendar/"):
                choices.append(ids["feed"])
            elif name.endswith("pk"):
                choices.append(ids[_source(route, m, name)])
            else:  # allauth's keys and codes: any value answers its "invalid link" page
                choices.append(["x"])
        for values in product(*choices):
            url = route
            for m, value in sorted(zip(params, values, strict=True),
                                   key=lambda mv: -mv[0].start()):
                url = url[:m.start()] + str(value) + url[m.end():]
            url = url.replace("^", "").replace("$", "").replace("\\.", ".")
            urls.add("/" + url)
    return sorted(urls)


def _content(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


@pytest.mark.parametrize("who", ["owner", "colleague", "partner"])
def test_no_page_or_endpoint_names_a_reviewer_to_developers_or_partners(reviewed, client, who):
    viewer = getattr(reviewed, who)
    urls = _urls(reviewed, viewer)
    assert len(urls) > 150  # the walk reached the whole portal
    client.force_login(viewer)
    leaks, answered = [], 0
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        answered += response.status_code == 200
        text = _content(response).lower()
        leaks += [(url, secret) for secret in SECRETS if secret.lower() in text]
    assert answered > 40  # most pages really rendered, not just redirects and 404s
    assert leaks == []


def test_the_walk_would_see_a_name_on_a_page_that_shows_it(reviewed, client):
    """The same walk as the government side finds the names: the check can fail."""
    client.force_login(reviewed.admin)
    text = _content(client.get(f"/requests/{reviewed.request.pk}/"))
    assert "zq-reviewer" in text
