"""Every setting of kefu, read from the environment (see docs/configuration.md).

Defaults give the single-process SQLite demo; production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
ALLOWED_HOSTS and KEFU_ENV=production (which turns on the secure-cookie and HSTS settings that
``manage.py check --deploy`` asks for).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


KEFU_ENV = os.environ.get("KEFU_ENV", "development")
PRODUCTION = KEFU_ENV == "production"
DEBUG = env_bool("DEBUG", default=False)

_INSECURE_DEV_KEY = "kefu-development-only-secret-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _INSECURE_DEV_KEY)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when KEFU_ENV=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves Swagger UI from kefu's own static files (no CDN, no inline script: see CSP)
    "django_tasks",
    "django_tasks_db",
    "axes",
    "kefu.core",
    "kefu.accounts",
    "kefu.customers",
    "kefu.tickets",
]

MIDDLEWARE = [
    "kefu.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kefu.core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kefu.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kefu.core.middleware.InputGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into 429 (kefu.accounts.lockout).
    "kefu.accounts.lockout.LockoutMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"
ASGI_APPLICATION = "kefu.asgi.application"

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
                "kefu.home.navigation.navigation",
                "kefu.core.context_processors.bell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATA_DIR = Path(os.environ.get("KEFU_DATA_DIR", REPO_DIR / "var"))
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kefu.sqlite3'}")


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] and config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers proceed while one writer writes; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;PRAGMA cache_size=-64000;PRAGMA temp_store=MEMORY;"
            ),
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # A new PostgreSQL connection per request costs ~8 ms (design.md), so connections are reused —
        # through psycopg's pool, not CONN_MAX_AGE: a connection belongs to the request's thread only
        # while it runs, so the pool bounds a process's connections whether its threads are the WSGI
        # server's (`kefu serve --threads`, which must not exceed the pool: checked at start) or ASGI's
        # per-request threads, where per-thread persistent connections piled up to "too many clients"
        # (docs/performance.md). Persistent connections measured no faster (docs/decisions/0002).
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # A database host that does not answer fails a new connection after this many seconds
            # (libpq's default is to wait for the operating system, minutes).
            "connect_timeout": int(os.environ.get("KEFU_DB_CONNECT_TIMEOUT", "5")),
            # JIT compilation pays off for long analytical queries, not for these: a queue count over
            # 20,000 active tickets crossed jit_above_cost and spent ~40 ms compiling.
            "options": "-c jit=off",
            "pool": {
                "min_size": 1,
                "max_size": int(os.environ.get("KEFU_DB_POOL_SIZE", "10")),
                "timeout": float(os.environ.get("KEFU_DB_POOL_TIMEOUT", "10")),
            },
        }
    return config


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# /healthz answers within about this many seconds, also when the database or Redis does not answer.
KEFU_HEALTHZ_TIMEOUT = float(os.environ.get("KEFU_HEALTHZ_TIMEOUT", "1.5"))

# --- cache and Redis ------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background work ------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("KEFU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# A claimed task's lease: renewed by its worker every third of it; once expired, another worker queues
# the task again, and gives it up (FAILED) after it was claimed this many times (kefu/core/worker.py).
KEFU_TASK_LEASE_SECONDS = float(os.environ.get("KEFU_TASK_LEASE_SECONDS", "60"))
KEFU_TASK_MAX_ATTEMPTS = int(os.environ.get("KEFU_TASK_MAX_ATTEMPTS", "3"))

# The outbox (kefu/core/outbox.py): a failed delivery is tried again after RETRY_SECONDS · 2^(attempts-1),
# and marked failed after MAX_ATTEMPTS attempts.
KEFU_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("KEFU_OUTBOX_MAX_ATTEMPTS", "8"))
KEFU_OUTBOX_RETRY_SECONDS = float(os.environ.get("KEFU_OUTBOX_RETRY_SECONDS", "30"))
# Webhooks (kefu/core/webhooks.py): every domain event is POSTed to each of these URLs (comma-separated),
# signed with the secret when one is set.
KEFU_WEBHOOK_URLS = [u.strip() for u in os.environ.get("KEFU_WEBHOOK_URLS", "").split(",") if u.strip()]
KEFU_WEBHOOK_SECRET = os.environ.get("KEFU_WEBHOOK_SECRET", "")
KEFU_WEBHOOK_TIMEOUT = float(os.environ.get("KEFU_WEBHOOK_TIMEOUT", "10"))

# The API docs (/api/docs) and openapi.json are public unless production; in production only when this
# is set, otherwise for signed-in staff.
KEFU_API_DOCS_PUBLIC = env_bool("KEFU_API_DOCS_PUBLIC", default=not PRODUCTION)

# --- auth -----------------------------------------------------------------------------------------
# django-axes first: it refuses a locked-out account or address before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "kefu.accounts.backends.AuthBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in lockout (kefu.accounts.lockout, django-axes with its database handler): failures are counted
# per account and per address within the cool-off window; at the limit, sign-in is refused for the window.
AXES_HANDLER = "kefu.accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("KEFU_LOGIN_FAILURE_LIMIT", "5"))
KEFU_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("KEFU_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("KEFU_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_CALLABLE = "kefu.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "kefu.accounts.lockout.client_address"
AXES_DISABLE_ACCESS_LOG = True  # failures go to kefu's audit log; successful sign-ins set last_login
AXES_VERBOSE = False
# axes.W002 looks for its own middleware by name; kefu.accounts.lockout.LockoutMiddleware is a subclass.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# Reverse proxies in front of kefu that append the client's address to X-Forwarded-For (0: none, the
# peer address is the client's).
KEFU_PROXY_COUNT = int(os.environ.get("KEFU_PROXY_COUNT", "0"))

# Sessions end this long after sign-in, whatever is done meanwhile (kefu.accounts.middleware): staff after
# a working day, portal users after two weeks (Django's default).
KEFU_STAFF_SESSION_HOURS = float(os.environ.get("KEFU_STAFF_SESSION_HOURS", "10"))
KEFU_PORTAL_SESSION_HOURS = float(os.environ.get("KEFU_PORTAL_SESSION_HOURS", str(14 * 24)))

# --- i18n and time --------------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not PRODUCTION
# Files a browser asks for at the site's root (favicon.ico: pages without our <link rel="icon">, such as
# the admin and the API docs), served by whitenoise like every static file.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up when it is missing

# Largest JSON body the API accepts, and largest spreadsheet an import accepts.
KEFU_API_MAX_BODY_BYTES = int(os.environ.get("KEFU_API_MAX_BODY_BYTES", str(1024 * 1024)))
# Days an account agent has to make first contact with a newly assigned customer (domain.md item 13).
KEFU_FIRST_CONTACT_DAYS = int(os.environ.get("KEFU_FIRST_CONTACT_DAYS", "7"))
KEFU_IMPORT_MAX_BYTES = int(os.environ.get("KEFU_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# Most data rows one import accepts: a larger file is refused before any row is validated.
KEFU_IMPORT_MAX_ROWS = int(os.environ.get("KEFU_IMPORT_MAX_ROWS", "50000"))
# Ticket attachments: largest file, and the content types accepted (by file name).
KEFU_ATTACHMENT_MAX_BYTES = int(os.environ.get("KEFU_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
KEFU_ATTACHMENT_TYPES = env_list(
    "KEFU_ATTACHMENT_TYPES",
    "image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain,text/csv,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/zip",
)
# Largest multipart (file upload) body under /api/: a few attachments at the per-file limit.
KEFU_API_MAX_UPLOAD_BYTES = int(
    os.environ.get("KEFU_API_MAX_UPLOAD_BYTES", str(5 * KEFU_ATTACHMENT_MAX_BYTES + 1024 * 1024))
)
# Days after closing during which a ticket can be reopened; later, a linked follow-up ticket is opened.
KEFU_REOPEN_WINDOW_DAYS = int(os.environ.get("KEFU_REOPEN_WINDOW_DAYS", "7"))
# The changes feed lists a change only once it is this old, so that a transaction still committing
# cannot be skipped by a reader whose cursor has already moved past its time.
KEFU_CHANGES_SETTLE_SECONDS = int(os.environ.get("KEFU_CHANGES_SETTLE_SECONDS", "10"))
# Hours an API Idempotency-Key is remembered: a retry within it gets the first response; after it the key
# is forgotten (runs as new) and the worker's hourly maintenance task deletes it.
KEFU_IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("KEFU_IDEMPOTENCY_KEY_TTL_HOURS", "24"))
# Days a reply draft may sit unsaved before the hourly maintenance task removes it and its files.
KEFU_DRAFT_RETENTION_DAYS = int(os.environ.get("KEFU_DRAFT_RETENTION_DAYS", "30"))
# Seconds between two refreshes of the notification bell's unread count on every open staff page (one
# indexed query each): lower is fresher, higher is fewer requests.
KEFU_NOTIFICATION_POLL_SECONDS = int(os.environ.get("KEFU_NOTIFICATION_POLL_SECONDS", "30"))
# Personal data (docs/security.md "Masking policy"): per user, how many phone lookups a role without
# customers.view_personal_data may make (whole number or last four digits), and how many contact phone
# numbers anyone may reveal with a reason; "" turns a limit off. django-ratelimit rates: "60/h", "200/d".
KEFU_PHONE_LOOKUP_RATE = os.environ.get("KEFU_PHONE_LOOKUP_RATE", "60/h")
KEFU_REVEAL_RATE = os.environ.get("KEFU_REVEAL_RATE", "20/h")
DATA_UPLOAD_MAX_MEMORY_SIZE = KEFU_API_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp) on every response: scripts and styles from kefu's own origin only
# (no inline script, no style attribute, no eval), no framing. docs/security.md explains the choices.
_CSP_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if os.environ.get("KEFU_CSP_REPORT_URI"):
    _CSP_POLICY["DIRECTIVES"]["report-uri"] = [os.environ["KEFU_CSP_REPORT_URI"]]
KEFU_CSP_REPORT_ONLY = env_bool("KEFU_CSP_REPORT_ONLY", default=False)
if KEFU_CSP_REPORT_ONLY:
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "kefu.core.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; failures (WARNING) are also in the audit log.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
