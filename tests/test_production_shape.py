"""The production shape (docker-compose.yml, Dockerfile, deploy/) runs what it says.

Docker is not available where the tests run, so the compose file is checked as data, the
healthcheck commands are run against real files and a real HTTP server, and the PostgreSQL init
script is run against the local PostgreSQL, whose new role then applies every migration.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "init-portal-role.sh"
APP_SERVICES = [name for name, service in SERVICES.items()
                if service.get("image") == "frontier-review-portal"]


def command(name: str) -> str:
    value = SERVICES[name].get("command", "")
    return " ".join(value) if isinstance(value, list) else value


def healthcheck(name: str) -> str:
    test = SERVICES[name]["healthcheck"]["test"]
    return " ".join(test[1:]) if isinstance(test, list) else test


def mounts(name: str) -> dict[str, str]:
    """Container path -> named volume."""
    result = {}
    for entry in SERVICES[name].get("volumes", []):
        source, target = entry.split(":")[:2]
        result[target] = source
    return result


def workers_for(queue: str) -> list[str]:
    return [name for name in APP_SERVICES
            if " worker " in f" {command(name)} " and f"-Q {queue}" in command(name)]


# --- the compose file ---------------------------------------------------------------------------

def test_every_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_each_queue_has_its_own_worker_service_and_every_job_queue_is_served():
    [evaluations] = workers_for("evaluations")
    [default] = workers_for("default")
    assert evaluations != default
    assert "--pool=prefork" in command(evaluations) and "--concurrency=2" in command(evaluations)
    assert "-n evaluations@%h" in command(evaluations)
    assert "-n default@%h" in command(default)
    # No worker listens to every queue (the long jobs would block the short ones again).
    for name in APP_SERVICES:
        if " worker " in f" {command(name)} ":
            assert "-Q " in command(name), name


def test_web_and_the_evaluation_worker_share_the_log_and_private_media_volumes():
    env = SERVICES["web"]["environment"]
    [evaluations] = workers_for("evaluations")
    for variable in ("EVALUATION_LOG_ROOT", "PRIVATE_MEDIA_ROOT"):
        folder = env[variable]
        assert SERVICES[evaluations]["environment"][variable] == folder
        web_volume = mounts("web").get(folder)
        assert web_volume and web_volume == mounts(evaluations).get(folder), variable
        assert web_volume in COMPOSE["volumes"], "a named volume, not a folder of one container"


def test_the_image_creates_every_mount_point_for_its_unprivileged_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER portal$", dockerfile, re.M)
    created = set(re.search(r"mkdir -p ([^&]+)&&", dockerfile).group(1).replace("\\", " ").split())
    for name in APP_SERVICES:
        for folder in mounts(name):
            assert folder in created, (name, folder)


def test_web_runs_gunicorn_with_the_repository_config_in_compose_and_in_the_image():
    assert re.match(r"gunicorn --config gunicorn\.conf\.py review_portal\.wsgi:application$",
                    command("web"))
    cmd = re.search(r"^CMD (.+)$", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert yaml.safe_load(cmd) == SERVICES["web"]["command"]
    assert (ROOT / "gunicorn.conf.py").exists()
    # Each web container's request must outlive neither gunicorn nor Docker's patience.
    assert SERVICES["web"]["stop_grace_period"] == "40s"


def test_the_app_connects_as_a_non_superuser_role_created_by_the_init_script():
    db = SERVICES["db"]
    url = SERVICES["web"]["environment"]["DATABASE_URL"]
    app_user = re.match(r"postgres://([^:@]+)[:@]", url).group(1)
    assert app_user == db["environment"]["PORTAL_DB_USER"] == "portal"
    assert db["environment"]["POSTGRES_USER"] != app_user
    assert url.endswith("@db:5432/" + db["environment"]["PORTAL_DB_NAME"])
    init = [m for m in db["volumes"] if "/docker-entrypoint-initdb.d/" in m]
    assert init == ["./deploy/postgres/init-portal-role.sh:"
                    "/docker-entrypoint-initdb.d/10-init-portal-role.sh:ro"]
    assert os.access(INIT_SCRIPT, os.X_OK)
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in INIT_SCRIPT.read_text()


def test_the_cache_and_the_broker_use_different_redis_databases():
    env = SERVICES["web"]["environment"]
    broker, cache = env["CELERY_BROKER_URL"], env["REDIS_CACHE_URL"]
    assert broker.rsplit("/", 1)[0] == cache.rsplit("/", 1)[0] == "redis://redis:6379"
    assert broker.rsplit("/", 1)[1] != cache.rsplit("/", 1)[1]
    for name in APP_SERVICES:
        assert SERVICES[name]["environment"]["REDIS_CACHE_URL"] == cache, name


def test_migrations_run_once_in_a_one_shot_service_that_the_others_wait_for():
    assert command("migrate") == "python manage.py migrate --no-input"
    assert SERVICES["migrate"]["restart"] == "no"
    for name in APP_SERVICES:
        if name == "migrate":
            continue
        assert "migrate" not in command(name), name
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"}, name


def test_the_healthchecks_ask_each_process_the_right_question():
    assert healthcheck("db").startswith("pg_isready -h 127.0.0.1")
    assert healthcheck("redis") == "redis-cli ping"
    assert healthcheck("web") == "python deploy/web_healthcheck.py"
    assert "/readyz" in (ROOT / "deploy" / "web_healthcheck.py").read_text()
    for queue in ("evaluations", "default"):
        [worker] = workers_for(queue)
        # The name pinged is the name the worker took (-n queue@%h, %h being the hostname).
        assert healthcheck(worker) == (
            f"celery -A review_portal inspect ping -d {queue}@$$HOSTNAME --timeout 10")
    schedule = re.search(r"--schedule=(\S+)", command("beat")).group(1)
    assert f"'{schedule}*'" in healthcheck("beat")
    assert Path(schedule).parent.as_posix() in mounts("beat")


# --- the healthcheck commands, run for real -----------------------------------------------------

def _beat_check(folder: Path) -> int:
    code = SERVICES["beat"]["healthcheck"]["test"][-1]
    code = code.replace("/var/lib/portal/beat/", f"{folder}/")
    return subprocess.run([sys.executable, "-c", code], timeout=30).returncode


def test_the_beat_healthcheck_fails_on_a_missing_or_stale_schedule_file(tmp_path):
    assert _beat_check(tmp_path) != 0
    schedule = tmp_path / "celerybeat-schedule.dat"  # dbm.dumb's names; gdbm uses the bare name
    schedule.write_bytes(b"x")
    assert _beat_check(tmp_path) == 0
    between_syncs = time.time() - 45  # beat writes each time it sends a job (every 30 s)
    os.utime(schedule, (between_syncs, between_syncs))
    assert _beat_check(tmp_path) == 0
    old = time.time() - 121  # two minutes without a write is a stuck beat
    os.utime(schedule, (old, old))
    assert _beat_check(tmp_path) != 0


class Readyz(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.seen.append((self.path, self.headers.get("Host"),
                                 self.headers.get("X-Forwarded-Proto")))
        self.send_response(self.server.answer)
        if self.server.answer == 301:
            self.send_header("Location", "https://portal.example.org/readyz")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("answer", "healthy"), [(200, True), (503, False), (301, False)])
def test_the_web_healthcheck_passes_only_on_a_200_from_readyz(answer, healthy):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Readyz)
    server.answer, server.seen = answer, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "PORT": str(server.server_address[1]),
               "ALLOWED_HOSTS": ".portal.example.org,localhost"}
        result = subprocess.run([sys.executable, "deploy/web_healthcheck.py"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
    assert (result.returncode == 0) is healthy, result.stderr
    # As the proxy would send it: an allowed host, and HTTPS, or production redirects.
    assert server.seen == [("/readyz", "portal.example.org", "https")]


def test_the_web_healthcheck_fails_when_nothing_listens():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run([sys.executable, "deploy/web_healthcheck.py"], cwd=ROOT,
                            env={**os.environ, "PORT": str(port)}, capture_output=True,
                            timeout=30)
    assert result.returncode == 1


# --- the PostgreSQL role, for real --------------------------------------------------------------

def _admin_db() -> dict:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        pytest.skip("needs PostgreSQL (DATABASE_URL): the init script creates a PostgreSQL role")
    return db


def test_the_init_script_creates_a_non_superuser_owner_that_applies_every_migration(tmp_path):
    import psycopg2

    admin_db = _admin_db()
    host, port = admin_db["HOST"] or "127.0.0.1", str(admin_db["PORT"] or 5432)
    name = f"portal_role_{secrets.token_hex(4)}"  # the role and its database
    password = secrets.token_hex(16)
    admin = psycopg2.connect(host=host, port=port, user=admin_db["USER"],
                             password=admin_db["PASSWORD"] or None, dbname="postgres")
    admin.autocommit = True
    env = {**os.environ, "PGHOST": host, "PGPORT": port, "PGPASSWORD": admin_db["PASSWORD"] or "",
           "POSTGRES_USER": admin_db["USER"], "POSTGRES_DB": "postgres",
           "PORTAL_DB_USER": name, "PORTAL_DB_NAME": name, "PORTAL_DB_PASSWORD": password}
    try:
        script = subprocess.run([str(INIT_SCRIPT)], env=env, capture_output=True, text=True,
                                timeout=60)
        assert script.returncode == 0, script.stderr
        with admin.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
                           "rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", [name])
            assert cursor.fetchone() == (False, False, False, False, False, True)
            cursor.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                           [name])
            assert cursor.fetchone() == (name,)

        # The production settings, connected as the new role, apply every migration.
        url = f"postgres://{name}:{password}@{host}:{port}/{name}"
        app_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.production",
                   "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(50),
                   "ALLOWED_HOSTS": "localhost", "CELERY_BROKER_URL": "memory://",
                   "PORTAL_VAR_DIR": str(tmp_path)}
        migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"],
                                 cwd=ROOT, env=app_env, capture_output=True, text=True,
                                 timeout=300)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        check = subprocess.run([sys.executable, "manage.py", "migrate", "--check"], cwd=ROOT,
                               env=app_env, capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr

        # The audit trail's append-only trigger was created by the role and holds against it.
        app = psycopg2.connect(host=host, port=port, user=name, password=password, dbname=name)
        try:
            with app.cursor() as cursor:
                cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = "
                               "'audit_auditevent'::regclass AND NOT tgisinternal")
                assert cursor.fetchall() == [("audit_event_no_update_or_delete",)]
                cursor.execute("INSERT INTO audit_auditevent (created_at, actor_label, action, "
                               "object_type, object_id, object_label, data, sequence, "
                               "prev_hash, hash) VALUES (now(), 'system', 'test.row', 'test', "
                               "'1', '', '{}', 1, repeat('0', 64), repeat('0', 64))")
                app.commit()
                for statement in ("UPDATE audit_auditevent SET action = 'tampered'",
                                  "DELETE FROM audit_auditevent"):
                    with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                        cursor.execute(statement)
                    app.rollback()
                cursor.execute("SELECT action FROM audit_auditevent")
                assert cursor.fetchall() == [("test.row",)]
                # And the role cannot hand itself more.
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(f"ALTER ROLE {name} SUPERUSER")
                app.rollback()
                app.autocommit = True  # CREATE DATABASE refuses to run in a transaction
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(f"CREATE DATABASE {name}_more")
        finally:
            app.close()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'DROP ROLE IF EXISTS "{name}"')
        admin.close()


def test_the_init_script_refuses_to_run_without_a_password():
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_DB_PASSWORD"}
    result = subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0 and "PORTAL_DB_PASSWORD" in result.stderr
