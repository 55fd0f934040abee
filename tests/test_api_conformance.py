"""The API keeps its own schema: schemathesis sends generated requests to every operation of the
served schema, in-process through the WSGI app, as each role, with the demo data loaded so that
ids in paths are real ones, and checks every answer against the schema (no server error, a
documented status code, the declared content type, headers and body).

Bounded and reproducible: a few derandomised examples per operation, no shrinking (a failure is
reported as found, with its operation, check and request)."""

import logging
import time
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Organisation, User
from accounts.services import api_token_create
from audit.models import AuditEvent
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
from evaluations.models import BenchmarkSuite, EvaluationRun, SampleResult
from exposures.models import Asset, Exposure, Inventory
from notifications.models import Notification
from partners.gateway import gateway_address_set, gateway_client_create
from partners.models import AccessGrant, AccessRequest, GatewayClient, PartnerProfile
from partners.services import access_request_create
from reviews.models import ConflictOfInterest, PolicyVersion, Review, RubricVersion
from reviews.services import review_save
from submissions.models import (
    AccessWindow,
    Artifact,
    FrontierModel,
    ReviewerAssignment,
    ReviewRequest,
)

pytestmark = pytest.mark.slow

# Valid input finds wrong answers; invalid input finds server errors and undocumented refusals.
EXAMPLES = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 2}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# A demo user for each role (submissions/management/commands/seed_demo.py); None: anonymous.
ROLES = {"developer": "developer", "partner member": "partner", "agency reviewer": "reviewer",
         "program admin": "admin", "vendor": "vendor", "operator": "operator",
         "anonymous": None}
# Which table the {id} of a path's first segment is from.
SEGMENT_MODELS = {
    "models": FrontierModel, "review-requests": ReviewRequest, "windows": AccessWindow,
    "suites": BenchmarkSuite, "runs": EvaluationRun, "reviews": Review,
    "conflicts": ConflictOfInterest, "assignments": ReviewerAssignment, "rubrics": RubricVersion,
    "policies": PolicyVersion, "partner-organisations": PartnerProfile,
    "access-requests": AccessRequest, "access-grants": AccessGrant,
    "notifications": Notification, "audit-events": AuditEvent,
    "clearinghouse-members": MemberProfile, "advisories": Advisory,
    "cases": Case, "statements": ProductStatement, "reports": Report,
    "report-artifacts": ReportArtifact,
    "inventories": Inventory, "assets": Asset, "exposures": Exposure,
    "vulnerabilities": Vulnerability, "gateway-clients": GatewayClient,
}


def _table_of(path: str, name: str):
    if name == "request_pk":
        return ReviewRequest
    if name == "participant_pk":
        return Participant
    if "/artifacts/" in path and path.startswith("/api/v1/review-requests/"):
        return Artifact
    return SEGMENT_MODELS[path.removeprefix("/api/v1/").split("/")[0]]


def _path_ids(operation) -> dict:
    """A strategy for each path parameter: ids of rows that exist (visible to the role or not)."""
    strategies = {}
    for parameter in operation.path_parameters:
        ids = sorted(_table_of(operation.path, parameter.name).objects.values_list("pk",
                                                                                    flat=True))
        strategies[parameter.name] = st.sampled_from(ids or [1])
    return strategies


def _first_lines(message: str) -> str:
    return " / ".join(line for line in message.splitlines()[:2] if line.strip())[:240]


def _run(operation, mode, headers: dict, app, failures: list, cases: Counter) -> None:
    path_ids = st.fixed_dictionaries(_path_ids(operation))

    @given(data=st.data())
    @settings(max_examples=EXAMPLES[mode], derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def test(data):
        case = data.draw(operation.as_strategy(mode, path_parameters=data.draw(path_ids)))
        cases[operation.label] += 1
        try:
            case.call_and_validate(app=app, headers=headers, checks=CHECKS)
        except FailureGroup as group:
            failures.extend((operation.label, f.title, _first_lines(f.message))
                            for f in group.exceptions)
        except Failure as failure:
            failures.append((operation.label, failure.title, _first_lines(failure.message)))

    test()


@pytest.fixture
def wsgi_app(db):
    """The project's WSGI application, on the test's connection: as Django's test client does,
    requests must not close the connection that holds the test's transaction."""
    app = get_wsgi_application()  # sets logging up: quieten it after
    request_logger = logging.getLogger("django.request")
    level = request_logger.level
    request_logger.setLevel(logging.ERROR)  # 4xx are expected here
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield app
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    request_logger.setLevel(level)


def _seed_demo() -> None:
    """The demo, and what it lacks for the schema's edges: results of a run, a draft review
    with no recommendation yet, an invitation no one has approved (null approvers)."""
    call_command("seed_demo", password="conformance-demo", stdout=StringIO())
    run = EvaluationRun.objects.order_by("pk").first()
    SampleResult.objects.bulk_create([
        SampleResult(run=run, sample_id=f"s{i}", category="exploit_development",
                     score=i % 2, answer="A", target="A") for i in range(3)])
    reviewer, developer = (User.objects.get(username=name) for name in ("reviewer", "developer"))
    review_save(review_request=run.request, actor=reviewer, comments_for_developer="Draft.")
    atlas = FrontierModel.objects.get(name="Atlas", version="2.0")
    now = timezone.now()
    access_request_create(actor=developer, model=atlas,
                          organisation=Organisation.objects.get(name="Prairie Community Bank"),
                          starts_at=now + timedelta(days=55), ends_at=now + timedelta(days=65),
                          justification="Invited to test early.")
    # A model gateway of the developer's organisation (its rotate and revoke act on a real row).
    gateway_client_create(actor=developer, name="Conformance nginx")
    gateway_address_set(model=atlas, actor=developer, url="https://gateway.atlas.example/v1")


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_answers_as_its_schema_says(wsgi_app, role):
    _seed_demo()
    app = wsgi_app
    admin_key = api_token_create(user=User.objects.get(username="admin"), name="schema")[1]
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app,
                                            headers={"Authorization": f"Bearer {admin_key}"})
    username = ROLES[role]
    headers = {}
    if username is not None:
        key = api_token_create(user=User.objects.get(username=username), name="conformance")[1]
        headers = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # Reads first, so what a write removes (a withdrawal, a revocation) was read before.
    operations.sort(key=lambda op: (op.method.upper() not in ("GET", "HEAD"), op.path))
    failures: list = []
    cases: Counter = Counter()
    started = time.monotonic()
    for operation in operations:
        for mode in EXAMPLES:
            _run(operation, mode, headers, app, failures, cases)
    elapsed = time.monotonic() - started
    unique = sorted(set(failures))
    print(f"\n{role}: {len(operations)} operations, {sum(cases.values())} cases, "
          f"{len(failures)} failures ({len(unique)} distinct), {elapsed:.1f} s")
    assert len(operations) >= 85 and set(cases) == {op.label for op in operations}
    assert not unique, "\n".join(" | ".join(f) for f in unique)
