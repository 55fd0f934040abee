"""Only the actions that apply now are offered: each page asks the same rule the service
enforces, and a POST for an action that is not offered is refused by the service with a clear
message. Also the status a page shows at a glance: run states as tags, the chart's axes, the
determination below its evidence, the queue's marks, and a covered request's next step."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluations import services as evaluation_services
from evaluations.models import EvaluationRun
from reviews.services import review_save
from submissions import services
from submissions.models import ReviewRequest
from submissions.window_services import window_cancel, window_schedule
from tests.conftest import bring_to
from tests.factories import UserFactory
from tests.reviews.conftest import FULL_SCORES, add_run, suite_version


def _page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _action_url(world, action):
    return reverse("request_action", args=[world.request.pk, action])


# --- the request page -----------------------------------------------------------------------

@pytest.mark.parametrize("state,offered,absent", [
    ("draft", ["submit", "withdraw"], ["request_reconsideration"]),
    ("in_review", ["withdraw"], ["submit", "request_reconsideration"]),
    ("determined", ["request_reconsideration"], ["submit", "withdraw"]),
    ("withdrawn", [], ["submit", "withdraw", "request_reconsideration"]),
])
def test_the_developer_is_offered_only_the_moves_of_the_requests_state(client, world, state,
                                                                        offered, absent):
    bring_to(world, state)
    html = _page(client, world.owner, reverse("request_detail", args=[world.request.pk]))
    for action in offered:
        assert _action_url(world, action) in html, action
    for action in absent:
        assert _action_url(world, action) not in html, action


def test_the_lead_is_not_offered_the_determination_once_it_is_recorded(client, world):
    bring_to(world, "in_review")
    url = reverse("request_detail", args=[world.request.pk])
    assert _action_url(world, "determine") in _page(client, world.reviewer, url)
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="not_covered", rationale="Below.")
    html = _page(client, world.reviewer, url)
    assert _action_url(world, "determine") not in html
    assert _action_url(world, "request_information") not in html


def test_determining_again_is_refused_by_the_service_with_the_reason(client, covered):
    client.force_login(covered.reviewer)
    response = client.post(_action_url(covered, "determine"),
                           {"outcome": "not_covered", "rationale": "Again.", "confirm": "yes"},
                           follow=True)
    assert "A request that is determined cannot be determined." in response.content.decode()
    assert covered.request.determinations.count() == 1


def test_the_determination_form_comes_after_the_evidence_it_rests_on(client, world):
    bring_to(world, "in_review")
    html = _page(client, world.reviewer, reverse("request_detail", args=[world.request.pk]))
    form = html.index(f'action="{_action_url(world, "determine")}"')
    assert html.index('id="recommendation"') < form
    assert html.index('id="reviews"') < form


# --- "Run the suite" ------------------------------------------------------------------------

@pytest.fixture
def evaluable(world):
    bring_to(world, "in_review")
    evaluation_services.endpoint_set(model=world.model, actor=world.owner, kind="simulated",
                                     model_name="atlas-sim",
                                     simulated_levels={"exploit_development": 0.5})
    world.version = suite_version(world)
    return world


def test_run_the_suite_is_offered_while_the_request_is_in_review(client, evaluable):
    html = _page(client, evaluable.reviewer,
                 reverse("request_evaluation", args=[evaluable.request.pk]))
    assert ">Run the suite</button>" in html


def test_run_the_suite_is_not_offered_on_a_determined_request_and_is_refused(client,
                                                                             evaluable):
    services.request_determine(review_request=evaluable.request, actor=evaluable.reviewer,
                               outcome="not_covered", rationale="Below.")
    url = reverse("request_evaluation", args=[evaluable.request.pk])
    html = _page(client, evaluable.reviewer, url)
    assert "Run the suite" not in html
    reason = (f"Evaluations run while the request is in review; request "
              f"#{evaluable.request.pk} is determined.")
    assert reason in html
    response = client.post(url, {"suite_version": evaluable.version.pk}, follow=True)
    assert reason in response.content.decode()
    assert not EvaluationRun.objects.exists()


def test_run_the_suite_is_not_offered_to_an_admin_who_may_not_start_runs(client, evaluable):
    html = _page(client, evaluable.admin,
                 reverse("request_evaluation", args=[evaluable.request.pk]))
    assert "Run the suite" not in html
    assert "Only a reviewer assigned to this request starts evaluations." in html


# --- the run page and the chart -------------------------------------------------------------

@pytest.mark.parametrize("status,label", [("succeeded", "Succeeded"), ("failed", "Failed"),
                                          ("queued", "Queued")])
def test_a_runs_state_is_a_tag_with_its_name_and_a_class_per_state(client, evaluable, status,
                                                                  label):
    run = add_run(evaluable, evaluable.version, {"exploit_development": (0.5, 0.1, 10)},
                  status=status)
    html = _page(client, evaluable.reviewer, reverse("run_detail", args=[run.pk]))
    assert (f'<span class="usa-tag run-status run-status--{status}" id="status">{label}</span>'
            in html)
    html = _page(client, evaluable.reviewer,
                 reverse("request_evaluation", args=[evaluable.request.pk]))
    assert f'<span class="usa-tag run-status run-status--{status}">{label}</span>' in html


def test_the_chart_has_a_labelled_axis_for_the_categories_and_for_accuracy(client, evaluable):
    add_run(evaluable, evaluable.version, {"exploit_development": (0.5, 0.1, 10)})
    html = _page(client, evaluable.reviewer,
                 reverse("request_evaluation", args=[evaluable.request.pk]))
    chart = html[html.index('class="chart"'):html.index("</svg>")]
    assert "Capability category" in chart
    assert "Accuracy (share of samples correct)" in chart
    for tick in ("0%", "20%", "40%", "60%", "80%", "100%"):
        assert f">{tick}</text>" in chart


# --- the queue ------------------------------------------------------------------------------

def _row(html, review_request) -> str:
    start = html.index(f'href="{reverse("request_detail", args=[review_request.pk])}"')
    return html[start:html.index("</tr>", start)]


def test_the_queue_marks_the_lead_and_what_needs_each_reviewers_action(client, world):
    bring_to(world, "in_review")
    member = UserFactory(username="member", organisation=world.reviewer.membership.organisation)
    services.reviewer_assign(review_request=world.request, reviewer=member, actor=world.admin)

    lead_row = _row(_page(client, world.reviewer, "/requests/"), world.request)
    assert ">Lead</span>" in lead_row
    assert "Needs your action:</strong> Write your review" in lead_row
    member_row = _row(_page(client, member, "/requests/"), world.request)
    assert "Lead" not in member_row
    assert "Write your review" in member_row

    review_save(review_request=world.request, actor=world.reviewer, scores=FULL_SCORES,
                recommendation="covered", confidence="medium", submit=True)
    lead_row = _row(_page(client, world.reviewer, "/requests/"), world.request)
    assert "Needs your action:</strong> Record the determination" in lead_row


def test_the_queue_shows_nothing_to_do_on_a_determined_request(client, covered):
    row = _row(_page(client, covered.reviewer, "/requests/"), covered.request)
    assert ">Lead</span>" in row
    assert "Needs your action" not in row


def test_the_admins_queue_marks_a_submitted_request_to_assign(client, world):
    bring_to(world, "submitted")
    row = _row(_page(client, world.admin, "/requests/"), world.request)
    assert "Needs your action:</strong> Assign reviewers" in row


def test_the_developers_queue_marks_a_question_to_answer(client, world):
    bring_to(world, "information_requested")
    row = _row(_page(client, world.owner, "/requests/"), world.request)
    assert "Needs your action:</strong> Answer the reviewers&#x27; question" in row


# --- a covered request leads on to its window -----------------------------------------------

def _schedule(world):
    start = timezone.now() + timedelta(days=2)
    return window_schedule(model=world.model, actor=world.owner, starts_at=start,
                           ends_at=start + timedelta(days=10))


def test_a_covered_request_links_the_developer_on_to_scheduling_the_window(client, covered):
    url = reverse("request_detail", args=[covered.request.pk])
    html = _page(client, covered.owner, url)
    assert "Schedule the early-access window" in html
    assert reverse("window_edit", args=[covered.model.pk]) in html
    window = _schedule(covered)
    assert "Schedule the early-access window" not in _page(client, covered.owner, url)
    window_cancel(window=window, actor=covered.owner)
    assert "Schedule the early-access window" in _page(client, covered.owner, url)


def test_a_request_determined_not_covered_offers_no_window(client, world):
    bring_to(world, "in_review")
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="not_covered", rationale="Below.")
    html = _page(client, world.owner, reverse("request_detail", args=[world.request.pk]))
    assert "Schedule the early-access window" not in html


def test_the_window_link_is_the_developers_only(client, covered):
    html = _page(client, covered.reviewer, reverse("request_detail", args=[covered.request.pk]))
    assert "Schedule the early-access window" not in html


# --- windows on the model page --------------------------------------------------------------

def test_a_cancelled_window_offers_no_cancel_and_a_second_cancel_is_refused(client, covered):
    window = _schedule(covered)
    url = reverse("model_detail", args=[covered.model.pk])
    cancel = reverse("window_cancel", args=[window.pk])
    assert cancel in _page(client, covered.owner, url)
    window_cancel(window=window, actor=covered.owner)
    assert cancel not in _page(client, covered.owner, url)
    response = client.post(cancel, {"confirm": "yes"}, follow=True)
    assert "This window is already cancelled." in response.content.decode()


def test_the_request_states_the_tests_use_are_real():
    assert {"draft", "in_review", "determined", "withdrawn"} <= set(ReviewRequest.Status.values)
