"""Benchmark: matching a case with 50 affected products against operators' inventories, at
several inventory sizes, to show the time grows at most linearly with the number of assets.

    DJANGO_SETTINGS_MODULE=review_portal.settings.test DATABASE_URL=postgres://... \
        .venv/bin/python tests/benchmarks/bench_matching.py [--operators 1000] [--assets 2000]
        [--rounds 3] [--keep]

It creates a throw-away database (test_<name>), bulk-inserts OPERATORS x ASSETS assets
(default 1,000 x 2,000 = 2,000,000), and splits each operator's assets into groups of
ASSETS/16, /8, /4 and /2 assets (125, 250, 500, 1,000 by default; the rest is noise no
statement names). Each group draws its products from its own pool of 1,000 package URLs, and
each size has its own vulnerability whose 50 statements name 50 products of that group's pool
(vers range <2.0.0; half of the versions are in range). So a vulnerability sees exactly the
inventories of its size (the blind indexes are per product), every operator holds ~5% of its
group's assets in the affected products, and the database holds all 2,000,000 assets for every
arm. Each round runs every size once (interleaved, order rotated), from no exposure rows
(deleted between arms, untimed): the full work, candidates decrypted, versions compared, rows
written. Disclosure is not timed (exposures_changed is replaced by a no-op here).

Prints, per size: median and range of the time, exposure rows, and time per asset normalised to
the smallest size (at most ~1.x means at most linear growth).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "review_portal.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operators", type=int, default=1000)
    parser.add_argument("--assets", type=int, default=2000, help="assets per operator")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False, keepdb=args.keep)
    try:
        run(args, connection)
    finally:
        if not args.keep:
            teardown_databases(old, verbosity=0)


def run(args, connection) -> None:
    from django.utils import timezone

    from accounts.models import Organisation
    from clearinghouse.models import Case, ProductStatement, Vulnerability
    from clearinghouse.products import purl_normalise
    from exposures import disclosure, keys, matching
    from exposures.models import Asset, Exposure, Inventory
    from tests.factories import OrganisationFactory, UserFactory

    disclosure.exposures_changed = lambda **kwargs: None  # matching only is timed
    sizes = [args.assets // d for d in (16, 8, 4, 2)]
    pool = 1000
    started = time.perf_counter()
    vendor = OrganisationFactory(name="Vendor A", kind=Organisation.Kind.VENDOR)
    user = UserFactory(username="bench", organisation=vendor)
    orgs = [OrganisationFactory(name=f"Operator {n}", kind=Organisation.Kind.OPERATOR)
            for n in range(args.operators)]
    inventories = Inventory.objects.bulk_create(
        [Inventory(organisation=o, name="Plant", format="csv", created_by=user) for o in orgs],
        batch_size=1000)
    tokens: dict[tuple, tuple] = {}

    def purl_of(group: int, product: int) -> str:
        return f"pkg:pypi/g{group}-lib{product}"

    def token(group: int, product: int, version: str) -> tuple:
        key = (group, product, version)
        if key not in tokens:
            purl = purl_of(group, product)
            purl_key = purl_normalise(purl)[1]
            tokens[key] = (keys.details_encrypt({"name": purl, "vendor": "", "product": "",
                                                 "version": version, "purl": f"{purl}@{version}",
                                                 "cpe": ""}),
                           keys.blind(keys.PURL, purl_key))
        return tokens[key]

    batch: list = []
    total = 0
    for o_index, inventory in enumerate(inventories):
        n = 0
        for group, size in enumerate([*sizes, args.assets - sum(sizes)]):
            for i in range(size):
                product = (i * 7 + o_index * 13) % pool
                version = f"{1 + (i + o_index) % 2}.{i % 10}.0"  # 1.x in range, 2.x not
                blob, purl_index = token(group, product, version)
                batch.append(Asset(inventory_id=inventory.pk,
                                   organisation_id=inventory.organisation_id,
                                   identity=f"{o_index}-{n}", details_encrypted=blob,
                                   purl_index=purl_index, exposure="open",
                                   mission_impact="mef_failure", safety_impact="marginal"))
                n += 1
        if len(batch) >= 20000:
            Asset.objects.bulk_create(batch, batch_size=5000)
            total += len(batch)
            batch = []
    Asset.objects.bulk_create(batch, batch_size=5000)
    total += len(batch)
    vulnerabilities = {}
    for group, size in enumerate(sizes):
        case = Case.objects.create(reference=f"CH-2026-{group + 1:04d}", year=2026,
                                   number=group + 1, title=f"Bench {size}", summary=".",
                                   created_by=user)
        vulnerability = Vulnerability.objects.create(
            case=case, title="Bench", description=".", cwe="CWE-787", cvss_vector="x",
            cvss_version="3.1", cvss_score=9.8, cvss_severity="CRITICAL")
        ProductStatement.objects.bulk_create([
            ProductStatement(vulnerability=vulnerability, vendor=vendor,
                             product_name=f"g{group}-lib{p}", purl=purl_of(group, p),
                             version_range="vers:pypi/<2.0.0", status="known_affected")
            for p in range(0, pool, pool // 50)])
        vulnerabilities[size] = vulnerability.pk
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE") if connection.vendor == "postgresql" else None
    print(f"built {args.operators} operators x {args.assets} assets = {total} assets, "
          f"50 affected products per case, in {time.perf_counter() - started:.0f} s "
          f"({connection.vendor})", flush=True)

    times: dict[int, list[float]] = {size: [] for size in sizes}
    rows: dict[int, int] = {}
    for round_ in range(args.rounds):
        order = sizes[round_ % len(sizes):] + sizes[:round_ % len(sizes)]
        for size in order:
            Exposure.objects.all().delete()
            t0 = time.perf_counter()
            changed = matching.refresh_vulnerability(vulnerability_id=vulnerabilities[size],
                                                     cause="bench")
            times[size].append(time.perf_counter() - t0)
            rows[size] = len(changed)
        print(f"round {round_ + 1}: " + ", ".join(
            f"{s}={times[s][-1]:.2f}s" for s in sizes), flush=True)
    base = statistics.median(times[sizes[0]]) / sizes[0]
    print(f"\n{'assets/operator':>16} {'assets':>10} {'rows':>8} {'median s':>9} "
          f"{'range s':>15} {'(t/assets)/base':>16}")
    for size in sizes:
        median = statistics.median(times[size])
        print(f"{size:>16} {size * args.operators:>10} {rows[size]:>8} {median:>9.2f} "
              f"{min(times[size]):>7.2f}-{max(times[size]):<7.2f} "
              f"{median / size / base:>16.2f}")
    print(f"(done at {timezone.now():%H:%M:%S})")


if __name__ == "__main__":
    main()
