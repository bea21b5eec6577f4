"""LaborLink settings: one module, driven by the environment.

Development defaults are chosen so that `python3 dev.py run` works on a fresh
machine. With DJANGO_DEBUG=false nothing secret has a default: a missing
DJANGO_SECRET_KEY or DATA_ENCRYPTION_KEY stops start-up with a clear message.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
import pghistory
import pgtrigger
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from laborlink.personal_data import decode_master_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Development-only placeholders. They are refused when DEBUG is off.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105
_DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktbm90LWZvci1wcm9kISE="


def _required_secret(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        if not DEBUG and value == dev_default:
            raise ImproperlyConfigured(
                f"{name} is set to the development placeholder; "
                "set a real secret before running with DJANGO_DEBUG=false."
            )
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} is not set. With DJANGO_DEBUG=false LaborLink refuses to start "
        f"without it; see README.md, section 'Production'."
    )


SECRET_KEY = _required_secret("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
# Key for personal data at rest (ID numbers, phones, health results): 32 bytes, base64.
DATA_ENCRYPTION_KEY = _required_secret("DATA_ENCRYPTION_KEY", _DEV_DATA_KEY)
decode_master_key(DATA_ENCRYPTION_KEY)  # fails loudly on a malformed key

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "laborlink",
    "recruitment",
    "health",
    "matching",
    "transport",  # after matching: its demo data books the workers who accepted an offer
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "pgtrigger",
    "pghistory",
    # log-in protection: lock-out (axes), second factor (otp), Content-Security-Policy (csp)
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "laborlink.access_log.DeniedAccessLogMiddleware",
    # Every database change made while answering a request carries who made it and where.
    "laborlink.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "laborlink.accounts.SessionLimitsMiddleware",
    "laborlink.accounts.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a lock-out flagged during the request into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "laborlink.urls"
WSGI_APPLICATION = "laborlink.wsgi.application"
ASGI_APPLICATION = "laborlink.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL only (row locks and triggers are relied upon). ---
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/laborlink")
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://…).")
# A Unix-socket directory arrives percent-encoded in the URL's host part.
DATABASES["default"]["HOST"] = unquote(str(DATABASES["default"].get("HOST", "")))
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
# psycopg prepares a statement once it has run this often on a connection. Only the few hot
# reads that bind on the server (laborlink.queries) are affected; Django's own cursors bind
# on the client and are never prepared. 0 turns it off, behind a pooler that cannot keep
# prepared statements (PgBouncer in transaction mode before 1.21).
DATABASES["default"]["OPTIONS"].setdefault(
    "prepare_threshold", env.int("DATABASE_PREPARE_THRESHOLD", default=5) or None
)
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
    "DATABASE_TEST_NAME", default=f"test_{DATABASES['default']['NAME']}"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, cache (throttling) ---
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Throttle counters and progress only: with Redis down the cache answers empty and the site
# keeps working (laborlink.cache). Short timeouts: a request never waits long for it.
CACHES = {
    "default": {
        "BACKEND": "laborlink.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="laborlink"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

AUTH_USER_MODEL = "laborlink.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "laborlink.validators.CharacterClassesValidator",
        "OPTIONS": {"min_classes": 3},
    },
]
# Axes first: it refuses a locked-out account or address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A session also ends after this many minutes without a request (laborlink.accounts).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)

# --- Log-in lock-out (django-axes; counted in PostgreSQL, so log-in works without Redis) ---
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# An office behind one address shares this budget: higher than one account's.
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
# Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: the socket address).
LOGIN_TRUSTED_PROXIES = env.int("LOGIN_TRUSTED_PROXIES", default=0)
AXES_HANDLER = "laborlink.accounts.LoginAttemptHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # order relied on by the handler
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# A lock-out lasts its cool-off from the last counted failure; attempts while locked do not
# extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "laborlink.accounts.client_ip"
AXES_LOCKOUT_CALLABLE = "laborlink.accounts.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "token", "client_secret"]
# TOTP second factor (django-otp): the issuer name shown in the authenticator app.
OTP_TOTP_ISSUER = "LaborLink"

# --- Audit trail: row history written by PostgreSQL triggers (django-pghistory) ---
# Statement-level triggers: a bulk UPDATE or an import's COPY writes its history in one
# INSERT … SELECT per statement; the actor travels in each history row (JSON), so no shared
# context row is locked by big writes. Trackers: see laborlink.history.audited.
PGHISTORY_LEVEL = pgtrigger.Statement
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
# Audit entries younger than this are never pruned (`prune_audit`).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)
AUDIT_MINIMUM_RETENTION_DAYS = 183

# --- Language and time ---
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: written here or installed from packages, served by the app ---
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")

# --- Security (production) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): only this site's own scripts, styles and images, no
# inline script or style anywhere, never framed. QR codes are inline SVG or data: images.
# Views that need more say so with a csp_update decorator (the API docs pages).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "laborlink.authentication.ProvinceClientAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "laborlink.authentication.IsReadOnlyForClients",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "laborlink.parsers.NestingSafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "laborlink.json_renderer.OrjsonRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "laborlink.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "laborlink.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "laborlink.throttling.AnonThrottle",
        "laborlink.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LaborLink API",
    # No online validator badge: it would call an outside address (and the CSP refuses it).
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
    "DESCRIPTION": (
        "Cross-province labor matching. Machine clients authenticate with OAuth2 "
        "client credentials (POST /o/token/) and see only their own province."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error answers in the one error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "laborlink.schema.add_error_responses",
    ],
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_SCOPES": {"read": "Read the data of the client's province"},
    # One name for a choice set that several fields use (a posting's occupation, skills).
    "ENUM_NAME_OVERRIDES": {
        "OccupationEnum": "recruitment.occupations.Occupation",
        "VerificationCodeEnum": "health.tokens.OUTCOME_CHOICES",
    },
}
OAUTH2_PROVIDER = {
    "SCOPES": {"read": _("Read the data of the client's province")},
    "DEFAULT_SCOPES": ["read"],
    "OAUTH2_VALIDATOR_CLASS": "laborlink.authentication.ProvinceOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_TOKEN_SECONDS", default=3600),
    # Store only the SHA-256 checksum of issued tokens (RFC 9700), never the token.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # Machine clients use client credentials only; refuse every weaker OAuth 2.0 practice.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# --- Celery (JSON only, late acks, nothing lost when a worker dies) ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than the longest task, so an unacknowledged task is not redelivered early.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
# SMS: the outbox by default; a provider adapter in production (see laborlink.notifications).
SMS_BACKEND = env.str("SMS_BACKEND", default="laborlink.notifications.OutboxBackend")
# The public address used in links sent by SMS (offer pages).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long an applicant has to answer an offer.
OFFER_VALID_HOURS = env.int("OFFER_VALID_HOURS", default=72)

# How many helper tasks a matching run sends to solve its components on other workers.
MATCHING_HELPER_TASKS = env.int("MATCHING_HELPER_TASKS", default=3)
CELERY_BEAT_SCHEDULE: dict = {
    # Uploaded registry files hold ID numbers: those checked but never imported go after 24 h.
    "purge-import-uploads": {"task": "recruitment.purge_import_uploads", "schedule": 3600.0},
    # The nightly supply–demand match, 02:00 Asia/Shanghai (CELERY_TIMEZONE).
    "nightly-matching-run": {
        "task": "matching.nightly_run",
        "schedule": crontab(hour=2, minute=0),
    },
    # Runs recorded while the broker was down (or left by a dead worker) are sent again.
    "reconcile-matching-runs": {"task": "matching.reconcile_runs", "schedule": 60.0},
    # Deferred work (laborlink.outbox) not done a minute after it was sent is sent again.
    "reconcile-outbox": {"task": "laborlink.reconcile_outbox", "schedule": 60.0},
    # Arrivals not confirmed 24 hours after the trip arrived are flagged to the bureau.
    "flag-unconfirmed-arrivals": {
        "task": "transport.flag_unconfirmed_arrivals",
        "schedule": 3600.0,
    },
    # Arrived workers become employed on their job's start date.
    "start-employment": {
        "task": "transport.start_employment",
        "schedule": crontab(hour=1, minute=0),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# --- Logging: never personal data; %-style arguments only ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"redact": {"()": "laborlink.log_redaction.RedactPersonalNumbers"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# Demo log-ins printed by `dev.py run`; demo data is never loaded in production.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="LaborLink-2026")
