"""The reference gateway's cost per call: a partner's `openai` chat completion through nginx with
the shipped deploy/gateway/nginx.conf (auth_request to the portal's check endpoint on every
call, under gunicorn) against the same call straight to the model server (no portal at all),
every part a real process (tests/partners/gatewaykit.py, tests/faultkit.PortalServer).

    .venv/bin/python tests/benchmarks/bench_gateway.py [--rounds 7] [--repeat 50]

Arms interleaved and shuffled every round (tests/benchmarks/rounds.py); each round reports the
direct call's time divided by the gateway's (throughput relative to direct), median and range,
and the milliseconds the gateway adds to a call (gateway time minus direct time of the same
round). A third arm calls the portal's check endpoint alone (what nginx's subrequest costs).
The model server answers at once, so the added time is all gateway: a real model's seconds per
completion would dwarf it.

The database is a throw-away test database (test_<name> of DATABASE_URL, or SQLite without
one), created and dropped here. Needs nginx (Debian's `nginx`; .ci/run installs it). Run by
hand, never by pytest.
"""

import argparse
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "review_portal.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=50, help="calls per arm per round")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        run(args)
    finally:
        teardown_databases(old, verbosity=0)


def run(args) -> None:
    import openai
    from rounds import compare

    from partners import gateway, services
    from tests.conftest import bring_to, build_world
    from tests.faultkit import PortalServer
    from tests.partners.conftest import make_live_grant, partner_world
    from tests.partners.gatewaykit import NGINX, ModelServer, NginxGateway, basic
    from tests.security.test_csp_in_a_browser import database_url

    if not os.path.exists(NGINX):
        sys.exit("nginx is not installed: apt-get install -y nginx")
    world = build_world()
    bring_to(world, "determined")
    pw = partner_world(world)
    grant, token = services.grant_issue_token(grant=make_live_grant(pw), actor=pw.w.partner)
    client, secret = gateway.gateway_client_create(actor=pw.w.owner, name="bench nginx")

    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as folder:
        folder = Path(folder)
        portal = PortalServer({"DATABASE_URL": database_url()}, log=folder / "gunicorn.log")
        model = ModelServer().start()
        started = [portal.start()]
        try:
            proxy = NginxGateway(folder / "nginx", portal_url=portal.base,
                                 model_id=pw.w.model.pk, client_id=client.client_id,
                                 secret=secret, upstream=model.base)
            started.append(proxy.start())
            messages = [{"role": "user", "content": "Is this patched?"}]
            through = openai.OpenAI(base_url=f"{proxy.base}/v1", api_key=token, max_retries=0)
            direct = openai.OpenAI(base_url=f"{model.base}/v1", api_key=token, max_retries=0)
            check = urllib.request.Request(
                f"{portal.base}/api/v1/gateway/check/?model={pw.w.model.pk}",
                headers={"Authorization": f"Basic {basic(client.client_id, secret)}",
                         "X-Original-Authorization": f"Bearer {token}"})

            def call(openai_client):
                answer = openai_client.chat.completions.create(model="m", messages=messages)
                assert answer.choices[0].message.content == "echo: Is this patched?"

            def check_once():
                with urllib.request.urlopen(check, timeout=10) as response:
                    assert response.status == 204, response.status

            check_once()  # the endpoint and headers are what nginx sends (else this raises)
            result = compare({"direct to the model server": lambda: call(direct),
                              "through nginx + portal check": lambda: call(through),
                              "portal check endpoint alone": check_once},
                             baseline="direct to the model server", rounds=args.rounds,
                             repeat=args.repeat)
        finally:
            for process in reversed(started):
                process.stop()
            model.stop()
    report(args, result)


def report(args, result) -> None:
    base = result["direct to the model server"]
    print(f"gateway benchmark: {args.rounds} rounds x {args.repeat} calls per arm, "
          f"arms shuffled each round; ratio = direct time / arm time (1.0 = as fast)")
    for name, arm in result.items():
        ms = [t * 1000 for t in arm.times]
        print(f"  {name:32s} median {statistics.median(ms):7.2f} ms/call "
              f"(range {min(ms):.2f}-{max(ms):.2f}); ratio median {arm.median_ratio:.3f} "
              f"(range {min(arm.ratios):.3f}-{max(arm.ratios):.3f})")
    added = [(g - d) * 1000 for g, d in zip(result["through nginx + portal check"].times,
                                             base.times, strict=True)]
    print(f"  added by the gateway per call: median {statistics.median(added):.2f} ms "
          f"(range {min(added):.2f}-{max(added):.2f})")


if __name__ == "__main__":
    main()
