"""Window tracking at 1k and 10k windows: the tracking page (/partners/windows/), the API
overview (/api/v1/windows-overview/) and the iCalendar feed, each served to a developer whose
organisation holds 1,000 windows and to one whose organisation holds 10,000 (same database, same
process, arms interleaved and shuffled every round); the page and API also to a program admin
filtering by either organisation. Reported per round: the time at 10k divided
by the time at 1k, median and range. Target: within 1.5x. The feed is timed three ways, asking
for gzip as calendar apps do: a poll with If-None-Match (304), a fetch of a version already
rendered (the body kept, compressed, in the cache) and a first render (proportional to the
windows inside the horizon: reported, no target).
By default both worlds spread their windows over the same year, so the larger has ten times as
many inside every range and horizon (the worst case). With --history the larger world is a
program that has run ten times as long at the same density: what is on screen and inside the
feed's horizon is about the same, and every arm, the feed's first render included, must stay
within 1.5x.

    .venv/bin/python tests/benchmarks/bench_windows.py [--rounds 5] [--repeat 5]
        [--database-name portal_bench_windows] [--sizes 1000,10000]

PostgreSQL on 127.0.0.1 (DATABASE_HOST, user postgres): the database is dropped and recreated
first, so its name must contain "bench". Rows are written with bulk_create: a tenth of the
windows are government windows (one scheduled per model, the rest cancelled), the others partner
grants of three vetted partners; starts are spread over a year around now, 1-30 days long, so
about a third of them overlap the default range (the coming 90 days).
Run by hand, never by pytest.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-name", default="portal_bench_windows")
    parser.add_argument("--database-host", default=os.environ.get("DATABASE_HOST", "127.0.0.1"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5, help="calls per arm per round")
    parser.add_argument("--sizes", default="1000,10000", help="small,large window counts")
    parser.add_argument("--history", action="store_true",
                        help="the larger world is a longer history at the same density: its "
                             "windows start over (large/small) years up to 180 days ahead, "
                             "not over the same year")
    return parser.parse_args()


def setup_django(args) -> None:
    if "bench" not in args.database_name:
        raise SystemExit(f"refusing to drop {args.database_name!r}: a benchmark database's "
                         "name contains 'bench'")
    host = args.database_host
    subprocess.run(["dropdb", "-h", host, "-U", "postgres", "--if-exists",
                    args.database_name], check=True)
    subprocess.run(["createdb", "-h", host, "-U", "postgres", args.database_name], check=True)
    os.environ.update({
        "DATABASE_URL": f"postgres://postgres@{host}:5432/{args.database_name}",
        "PORTAL_VAR_DIR": tempfile.mkdtemp(prefix="portal-bench-windows-"),
        "DJANGO_SETTINGS_MODULE": "review_portal.settings.local", "DEBUG": "false",
        "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver,localhost",
        "CELERY_BROKER_URL": "memory://"})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_developer(name: str, n_windows: int, partners: list, admin, *, years: float = 1):
    """A developer organisation with 20 models and `n_windows` windows on them."""
    import random

    from django.utils import timezone

    from accounts.models import Organisation
    from partners import services as partner_services
    from partners.models import AccessGrant, AccessRequest, TermsAcceptance
    from submissions.models import AccessWindow
    from tests.factories import OrganisationFactory, UserFactory, make_model

    org = OrganisationFactory(name=name, kind=Organisation.Kind.AI_DEVELOPER)
    user = UserFactory(username=name.lower().replace(" ", "-"), organisation=org)
    models = [make_model(user, name=f"{name} model {i}") for i in range(20)]
    acceptances = {}
    for model in models:
        terms = partner_services.terms_set(model=model, actor=user, text="Defence only.")
        for partner_org, partner_user in partners:
            acceptances[model.pk, partner_org.pk] = TermsAcceptance.objects.create(
                terms=terms, organisation=partner_org, accepted_by=partner_user,
                accepted_name="Pat Doe")
    rng = random.Random(n_windows)
    now = timezone.now()

    def span():
        start = now + timedelta(days=rng.uniform(180 - 365 * years, 180))
        return start, start + timedelta(days=rng.uniform(1, 30))

    n_gov = n_windows // 10
    windows = []
    for i in range(n_gov):
        start, end = span()
        windows.append(AccessWindow(
            model=models[i % len(models)], starts_at=start, ends_at=end, created_by=user,
            status=AccessWindow.Status.SCHEDULED if i < len(models)
            else AccessWindow.Status.CANCELLED))
    AccessWindow.objects.bulk_create(windows, batch_size=2000)
    requests, spans = [], []
    for i in range(n_windows - n_gov):
        model = models[i % len(models)]
        partner_org, partner_user = partners[i % len(partners)]
        start, end = span()
        spans.append((model, partner_org, start, end))
        requests.append(AccessRequest(
            model=model, organisation=partner_org, requested_by=partner_user, starts_at=start,
            ends_at=end, justification="x", status=AccessRequest.Status.GRANTED))
    requests = AccessRequest.objects.bulk_create(requests, batch_size=2000)
    AccessGrant.objects.bulk_create([
        AccessGrant(request=req, model=model, organisation=partner_org,
                    terms_acceptance=acceptances[model.pk, partner_org.pk], starts_at=start,
                    ends_at=end, revoked_at=now if i % 17 == 0 else None,
                    revoke_reason="Misuse." if i % 17 == 0 else "")
        for i, (req, (model, partner_org, start, end)) in enumerate(zip(requests, spans,
                                                                       strict=True))],
        batch_size=2000)
    return user


def main() -> None:
    args = parse_args()
    setup_django(args)
    from django.test import Client
    from django.urls import reverse
    from rounds import check, compare, print_table

    from accounts.models import Organisation
    from partners import tracking
    from tests.factories import OrganisationFactory, UserFactory
    from tests.partners.conftest import vetted_partner

    small, large = (int(s) for s in args.sizes.split(","))
    office = OrganisationFactory(name="Program Office", kind=Organisation.Kind.PROGRAM_OFFICE)
    admin = UserFactory(username="admin", organisation=office)
    partners = []
    for i in range(3):
        org = OrganisationFactory(name=f"Partner {i}", kind=Organisation.Kind.PARTNER)
        member = UserFactory(username=f"partner-{i}", organisation=org)
        vetted_partner(admin, member)
        partners.append((org, member))
    users = {small: make_developer("Small Dev", small, partners, admin),
             large: make_developer("Large Dev", large, partners, admin,
                                   years=large / small if args.history else 1)}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    clients, feeds = {}, {}
    admin_client = Client()
    admin_client.force_login(admin)
    organisation_of = {size: user.membership.organisation_id for size, user in users.items()}
    for size, user in users.items():
        client = Client()
        client.force_login(user)
        clients[size] = client
        _, token = tracking.calendar_feed_create(user=user)
        feeds[size] = reverse("calendar_feed", args=[token])
    page, api = reverse("window_tracking"), reverse("api-windows-overview")

    from django.core.cache import cache

    def arm(size, url, *, status=200, validator=False, render=False, as_admin=False,
            feed=False):
        client = admin_client if as_admin else clients[size]
        # Calendar apps (Google, Apple, Outlook) ask for gzip; the feed is kept compressed.
        encoding = {"HTTP_ACCEPT_ENCODING": "gzip"} if feed else {}
        etag = [client.get(url, **encoding)["ETag"]] if validator else None

        def call():
            if render:
                cache.clear()  # no kept body: the feed is rendered
            headers = {"HTTP_IF_NONE_MATCH": etag[0]} if etag else {}
            headers.update(encoding)
            response = client.get(url, **headers)
            if etag and response.status_code == 200:
                # The clock moved a window into another state (a start, an end): a new
                # version, fetched once, as a calendar app would.
                etag[0] = response["ETag"]
                return len(response.content)
            assert response.status_code == status, (url, response.status_code)
            return len(response.content)
        return call

    arms = {}
    sizes = {}
    kinds = (("page", lambda s: page, {}), ("API", lambda s: api, {}),
             # a program admin (who may see all 11k), filtered to one developer organisation
             ("admin page", lambda s: f"{page}?organisation={organisation_of[s]}",
              {"as_admin": True}),
             ("admin API", lambda s: f"{api}?organisation={organisation_of[s]}",
              {"as_admin": True}),
             # a calendar app polling with If-None-Match: 304 while nothing changed
             ("feed 304", lambda s: feeds[s], {"status": 304, "validator": True, "feed": True}),
             # a second app (no validator) fetching a version already rendered once
             ("feed kept", lambda s: feeds[s], {"feed": True}),
             # the first fetch of a new version: aggregates, rows and a render
             ("feed render", lambda s: feeds[s], {"render": True, "feed": True}))
    for label, url_of, options in kinds:
        for size in (small, large):
            name = f"{label} {size // 1000}k"
            arms[name] = arm(size, url_of(size), **options)
            sizes[name] = arms[name]()
    print("bytes per answer: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    result = compare(arms, baseline=f"page {small // 1000}k", rounds=args.rounds,
                     repeat=args.repeat, warmup=1)
    print_table(f"window tracking, developer with {small:,} vs {large:,} windows", result)
    print(f"\n  time at {large // 1000}k / time at {small // 1000}k, per round "
          "(median, range; target <= 1.5)")
    ok = True
    for label, *_ in kinds:
        lo, hi = result[f"{label} {small // 1000}k"], result[f"{label} {large // 1000}k"]
        ratios = sorted(b / a for a, b in zip(lo.times, hi.times, strict=True))
        median = ratios[len(ratios) // 2] if len(ratios) % 2 else (
            ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
        print(f"  {label:<12} {median:6.2f}x  range {ratios[0]:.2f}-{ratios[-1]:.2f}")
        if label != "feed render" or args.history:  # else proportional to the horizon's windows
            ok &= check(f"{label} {large // 1000}k / {small // 1000}k", median, at_most=1.5)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
