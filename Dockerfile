# One image for the web app, the worker and beat (the production shape).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=review_portal.settings.production \
    PORTAL_VAR_DIR=/var/lib/portal
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir . && useradd --system --home /app portal \
    && mkdir -p /var/lib/portal && chown portal /var/lib/portal
COPY . .
# collectstatic needs settings but no real secrets or services.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.db \
    CELERY_BROKER_URL=memory:// \
    PORTAL_ENCRYPTION_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --no-input -v0
USER portal
EXPOSE 8000
CMD ["gunicorn", "review_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
