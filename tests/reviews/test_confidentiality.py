"""A developer (owner, colleague, another organisation's) and a partner cannot reach a policy, a
rule, a review, a score, an internal comment, an override or a reviewer's identity through any
page or endpoint: every URL is fetched and no secret appears in any answer. After the
determination the developer reads the outcome, the rationale and the comments written for
them, signed "Reviewer 1"."""

import re

import pytest
from django.urls import reverse

from reviews.services import (
    conflict_declare,
    policy_create,
    recusal_record,
    review_save,
)
from submissions import services
from tests.conftest import bring_to
from tests.factories import UserFactory
from tests.reviews.conftest import FULL_SCORES, add_run, suite_version

SECRETS = ["jsmith-agency", "Jane Smithson", "mdoe-agency", "Max Doe", "POLICY-SECRET",
           "CITATION-SECRET", "INTERNAL-SECRET", "NOTES-SECRET", "OVERRIDE-SECRET",
           "CONFLICT-SECRET", "RECUSAL-SECRET", "recommend", "Policy v"]


@pytest.fixture
def decided(world):
    lead, member = world.reviewer, world.reviewer2
    for user, username, first, last in ((lead, "jsmith-agency", "Jane", "Smithson"),
                                        (member, "mdoe-agency", "Max", "Doe")):
        user.username, user.first_name, user.last_name = username, first, last
        user.save()
    policy = policy_create(actor=world.admin, name="POLICY-SECRET", activate=True, rules=[
        {"kind": "category_accuracy", "category": "exploit_development", "threshold": 0.5,
         "citation": "CITATION-SECRET"}])
    bring_to(world, "in_review")
    services.reviewer_assign(review_request=world.request, reviewer=member, actor=world.admin)
    for reviewer, text in ((member, "Please document your scaffolds."), (lead, "")):
        review_save(review_request=world.request, actor=reviewer, scores=FULL_SCORES,
                    recommendation="covered", confidence="high", comments_for_developer=text,
                    internal_comments="INTERNAL-SECRET", submit=True)
    recuser = UserFactory(username="recuser", organisation=lead.membership.organisation)
    services.reviewer_assign(review_request=world.request, reviewer=recuser, actor=world.admin)
    recusal_record(assignment=world.request.assignments.get(reviewer=recuser), actor=recuser,
                   note="RECUSAL-SECRET")
    conflict_declare(actor=member, organisation=world.other_org, kind="other",
                     note="CONFLICT-SECRET")
    add_run(world, suite_version(world), {"exploit_development": (0.777, 0.05, 40)})
    determination = services.request_determine(
        review_request=world.request, actor=lead, outcome="not_covered",
        rationale="Not a covered frontier model.", internal_notes="NOTES-SECRET",
        override_reason="OVERRIDE-SECRET")
    assert determination.recommendation == "covered" and determination.overridden
    world.decided_policy = policy
    return world


def _urls(w) -> tuple[list[str], list[str]]:
    review_ids = list(w.request.reviews.values_list("pk", flat=True))
    assignment = w.request.assignments.first()
    conflict = w.reviewer2.conflicts.first()
    rubric = w.request.reviews.first().rubric_version
    r = w.request.pk
    pages = [
        "/", "/models/", f"/models/{w.model.pk}/", "/requests/", f"/requests/{r}/",
        "/windows/", "/conflicts/", "/rubrics/", f"/rubrics/{rubric.pk}/", "/policies/",
        f"/policies/{w.decided_policy.pk}/", f"/policies/{w.policy.pk}/",
        reverse("review_edit", args=[r]), "/audit/", "/rubrics/new/", "/policies/new/",
        *[f"/reviews/{pk}/" for pk in review_ids],
    ]
    api = [
        "/api/v1/models/", f"/api/v1/models/{w.model.pk}/", "/api/v1/review-requests/",
        f"/api/v1/review-requests/{r}/", f"/api/v1/review-requests/{r}/messages/",
        f"/api/v1/review-requests/{r}/feedback/", f"/api/v1/review-requests/{r}/recommendation/",
        f"/api/v1/review-requests/{r}/artifacts/", "/api/v1/windows/", "/api/v1/reviews/",
        *[f"/api/v1/reviews/{pk}/" for pk in review_ids], "/api/v1/conflicts/",
        f"/api/v1/conflicts/{conflict.pk}/", "/api/v1/assignments/",
        f"/api/v1/assignments/{assignment.pk}/", "/api/v1/policies/",
        f"/api/v1/policies/{w.decided_policy.pk}/", "/api/v1/rubrics/",
        f"/api/v1/rubrics/{rubric.pk}/", "/api/v1/audit-events/",
    ]
    return pages, api


@pytest.mark.parametrize("actor", ["owner", "colleague", "outsider", "partner"])
def test_no_page_or_endpoint_shows_a_developer_or_partner_any_secret(client, decided, actor):
    client.force_login(decided.actors()[actor])
    pages, api = _urls(decided)
    for url in pages + api:
        response = client.get(url, follow=url in pages)
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, (url, secret)
        # The accuracy, not the same digits inside a timestamp's microseconds (…:00.777943Z).
        assert not re.search(r"(?<![\d:])0\.777(?!\d)", body), (url, "0.777")


@pytest.mark.parametrize("actor", ["owner", "colleague"])
def test_the_developer_reads_the_outcome_the_rationale_and_anonymised_comments(client, decided,
                                                                              actor):
    client.force_login(decided.actors()[actor])
    html = client.get(f"/requests/{decided.request.pk}/").content.decode()
    assert "Not a covered frontier model." in html
    assert "Reviewer 1" in html
    assert "Please document your scaffolds." in html
    assert "Reviewer 2" not in html  # the lead left no comment: no gap, no count
    [determination] = client.get(
        f"/api/v1/review-requests/{decided.request.pk}/").json()["determinations"]
    assert set(determination) == {"id", "outcome", "rationale", "decided_at"}


def test_objects_a_developer_may_not_see_answer_404(client, decided):
    client.force_login(decided.owner)
    pages, api = _urls(decided)
    hidden = [u for u in pages + api if any(part in u for part in (
        "/reviews/", "/policies/", "/rubrics/", "/conflicts/", "/assignments/",
        "/recommendation/"))]
    hidden = [u for u in hidden if u.rstrip("/").split("/")[-1].isdigit()
              or u.endswith("/recommendation/")]
    assert len(hidden) >= 10
    for url in hidden:
        assert client.get(url).status_code == 404, url


def test_the_government_does_see_them(client, decided):
    client.force_login(decided.reviewer)  # the lead
    html = client.get(f"/requests/{decided.request.pk}/").content.decode()
    for secret in ("Max Doe", "CITATION-SECRET", "OVERRIDE-SECRET", "NOTES-SECRET", "0.777"):
        assert secret in html, secret
