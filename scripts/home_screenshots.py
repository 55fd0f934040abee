"""The README's screenshots of each role's home: docs/screenshots/home-<role>.png, 1280 x 900.

Loads the demo data (`seed_demo`, as `make run` does) into the database DATABASE_URL names,
which should be an empty one of its own, serves the portal under gunicorn with the test
settings (as the browser tests do), signs in as each demo role and photographs its home:

    createdb -h 127.0.0.1 -U postgres review_portal_shots
    PORTAL_VAR_DIR=/tmp/var-shots CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/review_portal_shots \\
    .venv/bin/python scripts/home_screenshots.py
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
# The demo's user for each role (submissions/management/commands/seed_demo.py).
ROLES = {"developer": "developer", "reviewer": "reviewer", "partner": "partner",
         "admin": "admin"}
VIEWPORT = {"width": 1280, "height": 900}


def main() -> int:
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to an empty database of its own (the demo data goes there).")
    for command in (["migrate", "--no-input", "-v0"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, check=True,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.local"})

    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "review_portal.settings.test"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from playwright.sync_api import sync_playwright

    from tests.faultkit import PortalServer

    portal = PortalServer({}, log=Path(tempfile.mkdtemp()) / "gunicorn.log").start()
    try:
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            for role, username in ROLES.items():
                client = Client()
                client.force_login(get_user_model().objects.get(username=username))
                context = browser.new_context(viewport=VIEWPORT)
                context.add_cookies([{"name": "sessionid", "url": portal.base,
                                      "value": client.cookies["sessionid"].value}])
                page = context.new_page()
                page.goto(f"{portal.base}/")
                target = OUT / f"home-{role}.png"
                page.screenshot(path=str(target), full_page=False)
                context.close()
                print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} kB")
            browser.close()
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
