# syntax=docker/dockerfile:1
#
# LaborLink production image.
#
#   docker build -t laborlink .
#   docker run --env-file .env -p 8000:8000 laborlink          # gunicorn (default CMD)
#   docker run --env-file .env laborlink celery -A laborlink worker -l info
#
# No secret is baked in: DJANGO_SECRET_KEY and DATA_ENCRYPTION_KEY come from the
# environment at run time (DJANGO_DEBUG=false makes the settings refuse to start
# without them). docker-compose.yml wires postgres, redis, migrate, web, worker, beat.

ARG PYTHON_VERSION=3.11

# --------------------------------------------------------------------------- build
FROM python:${PYTHON_VERSION}-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app

# gettext provides msgfmt for compilemessages; it stays in this stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so this layer is reused until
# the dependency list changes (no extras: production needs neither dev nor embedded).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# The project itself (.dockerignore keeps .venv, var, .git, caches and .env out).
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Translations: .po -> .mo (committed .mo files are simply rebuilt).
RUN python manage.py compilemessages

# Static files with the production storage (hashed names + manifest, compressed),
# which is why DJANGO_DEBUG=false here. The two keys are throwaway values that live
# in this one command's environment only: never in an ENV, so not in the image.
RUN env DJANGO_DEBUG=false \
        DJANGO_SECRET_KEY=build-time-only-not-a-secret \
        DATA_ENCRYPTION_KEY=YnVpbGQtdGltZS1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \
        DJANGO_STATIC_ROOT=/app/var/staticfiles \
        python manage.py collectstatic --noinput

# ------------------------------------------------------------------------- runtime
FROM python:${PYTHON_VERSION}-slim AS runtime

# PYTHONPATH=/app: the source tree (with templates/, static/, locale/) wins over the
# copy pip put in site-packages, so BASE_DIR in settings is /app for every entry
# point (manage.py, gunicorn, celery).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=laborlink.settings \
    DJANGO_DEBUG=false \
    DJANGO_STATIC_ROOT=/app/var/staticfiles

# No runtime Debian packages needed: psycopg[binary] bundles libpq.
RUN groupadd --system --gid 10001 laborlink \
    && useradd --system --uid 10001 --gid laborlink --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin laborlink

# Code, venv and collected static files stay root-owned (read-only for the app);
# only var/media is writable. Celery beat writes its schedule to /tmp.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
RUN mkdir -p /app/var/media && chown laborlink:laborlink /app/var/media

WORKDIR /app
USER laborlink:laborlink

EXPOSE 8000

# /healthz answers 200 only when PostgreSQL and Redis are reachable. The
# X-Forwarded-Proto header keeps SECURE_SSL_REDIRECT from redirecting this plain-HTTP
# probe; 127.0.0.1 must be in DJANGO_ALLOWED_HOSTS (compose always adds it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; r = u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'X-Forwarded-Proto': 'https'}), timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["gunicorn", "laborlink.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
