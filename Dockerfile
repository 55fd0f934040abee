# One image for every process of the production shape: the web app (gunicorn), the two Celery
# workers (`evaluations` and `default` queues), beat and the one-shot migrations. docker-compose.yml
# picks the command; a worker on another host runs the same image with the same environment.

# The front-end assets (the U.S. Web Design System, served by whitenoise): the versions and
# integrity hashes in package-lock.json, no install scripts, no test-only packages (axe-core).
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=review_portal.settings.production \
    PORTAL_VAR_DIR=/var/lib/portal \
    PRIVATE_MEDIA_ROOT=/var/lib/portal/private \
    EVALUATION_LOG_ROOT=/var/lib/portal/eval-logs \
    INSPECT_DATA_DIR=/var/lib/portal/inspect-data \
    PORT=8000
WORKDIR /app

# Dependencies first, so a code change does not reinstall them: every one, transitive ones
# included, at the version and hashes in requirements.lock (scripts/lock.sh writes it).
# Then the app's user and the mount points of the named volumes, owned by that user: Docker
# copies a folder's owner into an empty named volume mounted on it, so the unprivileged
# processes can write there.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock \
    && useradd --system --home-dir /var/lib/portal --no-create-home --shell /usr/sbin/nologin \
       portal \
    && mkdir -p /var/lib/portal/private /var/lib/portal/eval-logs \
       /var/lib/portal/inspect-data /var/lib/portal/beat \
    && chown -R portal:portal /var/lib/portal

COPY . .
# Only the compiled assets the settings serve (STATICFILES_DIRS: node_modules/@uswds/uswds/dist).
COPY --from=assets /assets/node_modules/@uswds/uswds/dist /app/node_modules/@uswds/uswds/dist
# collectstatic needs settings but no real secrets or services; the files belong to root and
# are only read at run time.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.db \
    CELERY_BROKER_URL=memory:// \
    PORTAL_ENCRYPTION_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    AUDIT_SIGNING_KEY=$(python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())") \
    python manage.py collectstatic --no-input -v0

USER portal
EXPOSE 8000
# Healthchecks are declared per service in docker-compose.yml: one image, several kinds of process.
# gunicorn.conf.py (in /app, the working folder) holds every server setting and why.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "review_portal.wsgi:application"]
