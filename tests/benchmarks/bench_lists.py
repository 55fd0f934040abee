"""List APIs at 10k and 100k rows, against a hand-written SQL baseline on the same server.

Run by hand (never by pytest), from the repository root:

    .venv/bin/python tests/benchmarks/bench_lists.py [--database-name portal_bench_lists]
        [--sizes 10000,100000] [--rounds 5] [--repeat 10] [--port 18300]

It recreates a scratch PostgreSQL database (default `portal_bench_lists`), loads the rows with
bulk inserts (not the services: 100k rows load in seconds), and starts one gunicorn (one worker,
one thread) on 127.0.0.1:<port> serving tests/benchmarks/lists_wsgi.py: the portal, and under
/raw/ a tiny WSGI view that runs the hand-written SQL for the same page (same rows, same fields,
same order) and answers it as JSON. Every arm is an HTTP GET over one keep-alive connection;
the portal's arms authenticate with an API token, as clients do. Arms are interleaved
(tests/benchmarks/rounds.py), and each is reported as throughput relative to its baseline:

  - each list API, as admin, developer and reviewer (or partner), against two baselines that
    run the same hand-written SQL and answer the same JSON:
      * "raw SQL (no framework)", /raw/<list>/: a bare WSGI callable, no middleware, no
        authentication, no visibility check (the caller's role comes in the query string).
        Reported, honestly labelled, but not the target: it measures the whole portal stack.
      * "SQL behind the stack", /stack/<list>/ (tests/benchmarks/lists_urls.py, mounted in the
        benchmark's URLconf only): a plain Django view behind the same middleware, the same
        API-token authentication (accounts.authentication.ApiTokenAuthentication) and the same
        visibility rule for the caller as the API, then the SQL. The >= 0.5x target is checked
        against this one. Why: the target compares list implementations (ORM, pagination,
        serializers against hand-written SQL). The fixed cost per request of authentication and
        middleware is paid by every endpoint, lists or not, and no list change can remove it; it
        is reported on its own line ("the stack's fixed cost": /stack/ vs /raw/).
  - at the largest size, the last page vs the first page of the same list;
  - a reviewer's queue and a partner's grants (filtered through their permission rows) vs the
    unfiltered admin list of the same page size.

The world: one developer organisation owns every model and request (its group holds view and
change permissions on each: 4 guardian rows per request); a reviewer is assigned to 60 requests
spread over the table; 50 vetted partner organisations share one grant per model (one guardian
row each), so a partner holds 1/50 of them; a quarter of the requests are determined."""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rounds import check, compare, print_table  # noqa: E402

PARTNER_ORGS = 50
REVIEWER_ITEMS = 60
BATCH = 5000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-name", default="portal_bench_lists")
    parser.add_argument("--sizes", default="10000,100000",
                        help="row counts to measure at, ascending (comma-separated)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=10, help="calls per arm per round")
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--redis-db", type=int, default=11,
                        help="Redis database for the portal's cache (flushed)")
    return parser.parse_args()


def configure(args) -> dict:
    db = args.database_name
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", db],
                   check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", db], check=True)
    subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True,
                   capture_output=True)
    env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
           "REDIS_CACHE_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/3",
           "PORTAL_VAR_DIR": os.environ.get("PORTAL_VAR_DIR", "/tmp/portal-bench-lists"),  # noqa: S108
           "DJANGO_SETTINGS_MODULE": "tests.benchmarks.lists_settings",
           "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
           "LOG_LEVEL": "WARNING", "API_THROTTLE_RATE": "1000000/min"}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {**os.environ}


# --- the world --------------------------------------------------------------------------------

class World:
    def __init__(self):
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
        from django.contrib.auth.models import Permission

        from accounts.models import Organisation
        from accounts.services import api_token_create, organisation_create, user_create
        from partners.models import PartnerProfile, TermsAcceptance, TermsVersion
        from tests.factories import model_fields

        K = Organisation.Kind
        self.office = organisation_create(name="Office", kind=K.PROGRAM_OFFICE)
        self.agency = organisation_create(name="Agency", kind=K.AGENCY)
        self.dev_org = organisation_create(name="Dev", kind=K.AI_DEVELOPER)
        self.admin = user_create(username="admin", email="a@x.org", password=None,
                                 organisation=self.office)
        self.reviewer = user_create(username="rev", email="r@x.org", password=None,
                                    organisation=self.agency)
        self.developer = user_create(username="dev", email="d@x.org", password=None,
                                     organisation=self.dev_org)
        for user in (self.admin, self.reviewer):
            TOTP.activate(user, generate_totp_secret())
        self.partner_orgs = [organisation_create(name=f"Partner {i:02d}", kind=K.PARTNER)
                             for i in range(PARTNER_ORGS)]
        self.partner = user_create(username="partner", email="p@x.org", password=None,
                                   organisation=self.partner_orgs[0])
        PartnerProfile.objects.bulk_create([PartnerProfile(
            organisation=o, sector="research", protects="Hospitals", contact_name="C",
            contact_email="c@x.org", justification="J", status=PartnerProfile.Status.VETTED,
            applied_by=self.partner) for o in self.partner_orgs])
        self.tokens = {role: api_token_create(user=getattr(self, role), name="bench")[1]
                       for role in ("admin", "reviewer", "developer", "partner")}
        self.perm = {codename: Permission.objects.get(codename=codename).pk for codename in (
            "view_frontiermodel", "change_frontiermodel", "view_reviewrequest",
            "change_reviewrequest")}
        self.fields = {k: v for k, v in model_fields(name="x").items() if k != "name"}
        self.rows = 0
        self.terms = None
        self.acceptances = {}
        self._TermsVersion, self._TermsAcceptance = TermsVersion, TermsAcceptance

    def org_of(self, role: str) -> int:
        return {"admin": self.office, "reviewer": self.agency, "developer": self.dev_org,
                "partner": self.partner_orgs[0]}[role].pk

    def user_of(self, role: str) -> int:
        return getattr(self, role).pk

    def grow(self, n: int) -> None:
        """Add rows until there are `n` models, requests, grants, notifications and events."""
        start = time.perf_counter()
        for lo in range(self.rows, n, BATCH):
            self._add(lo, min(lo + BATCH, n))
        self.rows = n
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"  loaded {n} rows of each list in {time.perf_counter() - start:.1f} s "
              "(cumulative) and analysed", flush=True)

    def _add(self, lo: int, hi: int) -> None:  # noqa: PLR0914 - one row of each kind
        from datetime import timedelta

        from django.db import transaction
        from django.db.models import QuerySet
        from django.utils import timezone

        from audit.models import AuditEvent
        from notifications.models import Notification
        from partners.models import AccessGrant, AccessRequest
        from submissions.models import (
            Determination,
            FrontierModel,
            FrontierModelGroupObjectPermission,
            FrontierModelUserObjectPermission,
            ReviewerAssignment,
            ReviewRequest,
            ReviewRequestGroupObjectPermission,
            ReviewRequestUserObjectPermission,
        )

        now = timezone.now()
        group = self.dev_org.group
        with transaction.atomic():
            models = FrontierModel.objects.bulk_create([FrontierModel(
                organisation=self.dev_org, name=f"Model {i:06d}", created_by=self.developer,
                **self.fields) for i in range(lo, hi)])
            statuses = ["in_review", "submitted", "information_requested", "determined"]
            requests = ReviewRequest.objects.bulk_create([ReviewRequest(
                model=m, status=statuses[i % 4], cover_note="Please review.",
                created_by=self.developer, submitted_at=now)
                for i, m in zip(range(lo, hi), models, strict=True)])
            Determination.objects.bulk_create([Determination(
                request=r, outcome="covered", rationale="Above the level.",
                decided_by=self.reviewer) for r in requests if r.status == "determined"])
            perms = [FrontierModelGroupObjectPermission(
                group=group, permission_id=self.perm[p], content_object=m)
                for m in models for p in ("view_frontiermodel", "change_frontiermodel")]
            FrontierModelGroupObjectPermission.objects.bulk_create(perms, batch_size=BATCH)
            ReviewRequestGroupObjectPermission.objects.bulk_create([
                ReviewRequestGroupObjectPermission(
                    group=group, permission_id=self.perm[p], content_object=r)
                for r in requests for p in ("view_reviewrequest", "change_reviewrequest")],
                batch_size=BATCH)
            # The reviewer's 60 requests, spread evenly over the final table.
            step = max(self.target // REVIEWER_ITEMS, 1)
            mine = [(i, r) for i, r in zip(range(lo, hi), requests, strict=True)
                    if i % step == 0 and i // step < REVIEWER_ITEMS]
            ReviewerAssignment.objects.bulk_create([ReviewerAssignment(
                request=r, reviewer=self.reviewer, assigned_by=self.admin, is_lead=True)
                for _, r in mine])
            ReviewRequestUserObjectPermission.objects.bulk_create([
                ReviewRequestUserObjectPermission(
                    user=self.reviewer, permission_id=self.perm["view_reviewrequest"],
                    content_object=r) for _, r in mine])
            FrontierModelUserObjectPermission.objects.bulk_create([
                FrontierModelUserObjectPermission(
                    user=self.reviewer, permission_id=self.perm["view_frontiermodel"],
                    content_object_id=r.model_id) for _, r in mine])
            # One grant per model, to the partner organisations in turn.
            if self.terms is None:
                self.terms = self._TermsVersion.objects.create(
                    model=models[0], version=1, text="Terms.", created_by=self.developer)
                self.acceptances = {o.pk: self._TermsAcceptance.objects.create(
                    terms=self.terms, organisation=o, accepted_by=self.partner,
                    accepted_name="P") for o in self.partner_orgs}
            orgs = [self.partner_orgs[i % PARTNER_ORGS] for i in range(lo, hi)]
            starts = [now - timedelta(days=30) + timedelta(seconds=i) for i in range(lo, hi)]
            access_requests = AccessRequest.objects.bulk_create([AccessRequest(
                model=m, organisation=o, requested_by=self.partner, starts_at=s,
                ends_at=s + timedelta(days=60), justification="Defend.", status="granted")
                for m, o, s in zip(models, orgs, starts, strict=True)])
            AccessGrant.objects.bulk_create([AccessGrant(
                request=ar, model=ar.model, organisation=ar.organisation,
                terms_acceptance=self.acceptances[ar.organisation.pk], starts_at=ar.starts_at,
                ends_at=ar.ends_at, token_hint="frg_abc") for ar in access_requests])
            FrontierModelGroupObjectPermission.objects.bulk_create([
                FrontierModelGroupObjectPermission(
                    group=o.group, permission_id=self.perm["view_frontiermodel"],
                    content_object=m) for m, o in zip(models, orgs, strict=True)],
                batch_size=BATCH)
            Notification.objects.bulk_create([Notification(
                user=self.admin, kind="request_status", object_type="submissions.reviewrequest",
                object_id=r.pk, title=f"Request #{r.pk} moved", body="It moved.",
                link=f"/requests/{r.pk}/") for r in requests])
            first = (AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True)
                     .first() or 0) + 1
            # bulk_create bypasses the chain (the manager refuses it): fine for a list read.
            QuerySet(AuditEvent).bulk_create([AuditEvent(
                actor=self.developer, actor_label="dev", action="review_request.created",
                object_type="submissions.reviewrequest", object_id=str(r.pk),
                object_label=f"Request #{r.pk}", organisation=self.dev_org, data={"n": k},
                sequence=first + k, prev_hash="0" * 64, hash="0" * 64)
                for k, r in enumerate(requests)])


# --- the server and the client ----------------------------------------------------------------

def start_server(env: dict, port: int) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken; pass --port")
    server_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1",
                  "GUNICORN_MAX_REQUESTS": "0", "GUNICORN_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
         "tests.benchmarks.lists_wsgi:application"],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(2):
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
        return json.loads(body)


# --- the arms ---------------------------------------------------------------------------------

ROLES = {"review-requests": ["admin", "developer", "reviewer"],
         "models": ["admin", "developer", "reviewer"],
         "access-grants": ["admin", "developer", "partner"],
         "notifications": ["admin"], "audit-events": ["admin"]}


def api_arm(client, world, name, role, query=""):
    path, token = f"/api/v1/{name}/{query}", world.tokens[role]
    return lambda: client.get(path, token)


def stack_arm(client, world, name, role):
    """The same SQL behind the portal's middleware, token authentication and visibility rule."""
    path, token = f"/stack/{name}/", world.tokens[role]
    return lambda: client.get(path, token)


def raw_arm(client, world, name, role, last=False):
    path = (f"/raw/{name}/?role={role}&user={world.user_of(role)}&org={world.org_of(role)}"
            + ("&last=1" if last else ""))
    return lambda: client.get(path)


def last_page_query(client, world, name) -> str:
    """The query string of the list's last page, however the API paginates: the reversed cursor
    (`r=1`, no position) for cursor pages, ?page=<last> for numbered ones."""
    import base64
    import math

    first = client.get(f"/api/v1/{name}/", world.tokens["admin"])
    if "count" in first and isinstance(first["count"], int) and "page=" in (first["next"] or ""):
        return f"?page={max(math.ceil(first['count'] / 50), 1)}"
    return "?cursor=" + base64.b64encode(b"r=1").decode()


def same_rows(client, world, name, role) -> None:
    api = [r["id"] for r in api_arm(client, world, name, role)()["results"]]
    for label, arm in (("raw SQL", raw_arm), ("same-stack SQL", stack_arm)):
        rows = [r["id"] for r in arm(client, world, name, role)()["results"]]
        if api != rows:
            print(f"  WARNING {name} as {role}: the API's first page differs from the "
                  f"{label}'s ({api[:3]}... vs {rows[:3]}...)")


def ratios_to(result: dict, arm: str, baseline: str) -> list[float]:
    """Throughput of `arm` relative to `baseline`, per round (both timed in the same round)."""
    return [b / a for a, b in zip(result[arm].times, result[baseline].times, strict=True)]


def measure(client, world, size, largest, args) -> list[bool]:
    results = []
    ratios = {}
    stack_ratios = []
    for name, roles in ROLES.items():
        for role in roles:
            same_rows(client, world, name, role)
            result = compare({"raw SQL (no framework)": raw_arm(client, world, name, role),
                              "SQL behind the stack": stack_arm(client, world, name, role),
                              "API": api_arm(client, world, name, role)},
                             baseline="raw SQL (no framework)", rounds=args.rounds,
                             repeat=args.repeat)
            print_table(f"/api/v1/{name}/ as {role}, {size} rows, page 1", result)
            vs_stack = ratios_to(result, "API", "SQL behind the stack")
            stack_vs_raw = ratios_to(result, "SQL behind the stack", "raw SQL (no framework)")
            print(f"  API vs SQL behind the stack: {statistics.median(vs_stack):.2f}x  "
                  f"{min(vs_stack):.2f}-{max(vs_stack):.2f}")
            stack_ratios.append(statistics.median(stack_vs_raw))
            ratios[(name, role)] = (result["API"].median_ratio, statistics.median(vs_stack))
    print(f"\nThe stack's fixed cost at {size} rows: the SQL behind the stack runs at "
          f"{statistics.median(stack_ratios):.2f}x the framework-free SQL "
          f"(median over the lists; {min(stack_ratios):.2f}-{max(stack_ratios):.2f})")
    print(f"\nAPI vs the framework-free raw SQL at {size} rows (reported, not a target)")
    for (name, role), (vs_raw, _) in ratios.items():
        print(f"        {name} as {role} vs raw SQL: {vs_raw:.2f}")
    print(f"\nTargets at {size} rows (against the SQL behind the same stack)")
    for (name, role), (_, vs_stack_median) in ratios.items():
        results.append(check(f"{name} as {role} vs SQL behind the stack ({size} rows)",
                             vs_stack_median, at_least=0.5))
    ratios = {}
    if not largest:
        return results

    for name in ("review-requests", "models", "access-grants", "notifications",
                 "audit-events"):
        last = last_page_query(client, world, name)
        result = compare({"first page": api_arm(client, world, name, "admin"),
                          "last page": api_arm(client, world, name, "admin", last)},
                         baseline="first page", rounds=args.rounds, repeat=args.repeat)
        print_table(f"/api/v1/{name}/ as admin, {size} rows: last page ({last}) vs first",
                    result)
        ratios[(name, "last")] = result["last page"].median_ratio
    for name, role in (("review-requests", "reviewer"), ("access-grants", "partner"),
                       ("models", "reviewer")):
        result = compare({"admin, unfiltered": api_arm(client, world, name, "admin"),
                          f"{role}, filtered": api_arm(client, world, name, role)},
                         baseline="admin, unfiltered", rounds=args.rounds, repeat=args.repeat)
        print_table(f"/api/v1/{name}/, {size} rows: {role}'s (permission rows) vs admin's",
                    result)
        ratios[(name, "filtered")] = result[f"{role}, filtered"].median_ratio
    print(f"\nTargets at {size} rows, pages and filters")
    for (name, kind), ratio in ratios.items():
        if kind == "last":
            results.append(check(f"{name} last page vs first ({size} rows)", ratio,
                                 at_least=0.8))
        elif kind == "filtered":
            results.append(check(f"{name} filtered vs unfiltered ({size} rows)", ratio,
                                 at_least=0.7))
    return results


def main() -> None:
    args = parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    env = configure(args)
    world = World()
    world.target = sizes[-1]
    outcomes = []
    for size in sizes:
        print(f"\n=== {size} rows ===", flush=True)
        world.grow(size)
        server = start_server(env, args.port)
        try:
            client = Client(args.port)
            outcomes += measure(client, world, size, size == sizes[-1], args)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\n{sum(outcomes)}/{len(outcomes)} targets met")


if __name__ == "__main__":
    main()
