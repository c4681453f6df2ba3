"""simdesk settings: everything that differs between machines comes from the environment."""

import base64
import hashlib
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_float, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SIMDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

if DEBUG:
    # Development only: a fixed key so sessions survive restarts; production must set its own.
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-simdesk-0c1d7e4f9a2b")
    _dev_fernet = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    SIMDESK_ENCRYPTION_KEY = env_str("SIMDESK_ENCRYPTION_KEY", _dev_fernet)
else:
    SECRET_KEY = env_required("SECRET_KEY")
    SIMDESK_ENCRYPTION_KEY = env_required("SIMDESK_ENCRYPTION_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
# Older keys still accepted for decryption while `rotate_encryption_key` re-encrypts.
SIMDESK_ENCRYPTION_KEYS_OLD = env_list("SIMDESK_ENCRYPTION_KEYS_OLD", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# The public URL's host is always allowed: `make run HOST=0.0.0.0 SITE_URL=http://192.168.1.20:8000` works
# from other machines without repeating the address in ALLOWED_HOSTS.
_site_host = urlsplit(SITE_URL).hostname or ""
_site_host = f"[{_site_host}]" if ":" in _site_host else _site_host  # an IPv6 address, as Django matches it
if _site_host and _site_host not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site_host)

SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG)
# How often a team's prices are snapshotted until its admins choose (the demo uses 10).
PRICE_SNAPSHOT_MINUTES = env_int("PRICE_SNAPSHOT_MINUTES", 60)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "accounts",
    "providers",
    "purchases",
    "activations",
    "rentals",
    "prices",
    "gateway",
    # Only for its management commands (compile_translations).
    "config",
]
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The member's saved language (else the browser's, from LocaleMiddleware) and time zone.
    "accounts.middleware.PreferencesMiddleware",
    # Content-Security-Policy (CONTENT_SECURITY_POLICY below): no inline script or style anywhere.
    "csp.middleware.CSPMiddleware",
    # Team data is never kept by a shared or browser cache (config/middleware.py).
    "config.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: throttles repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "kit.degraded.live_updates",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
# The threaded development server starts a thread for every request, and a persistent connection
# (CONN_MAX_AGE) stays open with its thread's memory: dozens of idle connections after a few page loads.
_DEV_SERVER = sys.argv[1:2] == ["runserver"]
if DATABASE_URL:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    # PostgreSQL connections one process holds at most (README, "Database connections"): a pool shared by
    # the process's threads, for servers and workers that run several (the dev server, gunicorn --threads,
    # celery -P threads). 0: none, for one thread per process (gunicorn's sync workers, celery's prefork),
    # where a persistent connection per process is bounded already.
    DB_POOL_MAX = env_int("DB_POOL_MAX", 4 if _DEV_SERVER else 0)
    if DB_POOL_MAX > 0 and _database["ENGINE"] == "django.db.backends.postgresql":
        _database["CONN_MAX_AGE"] = 0  # with a pool, a request or task hands its connection back at its end
        _database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": max(0, min(env_int("DB_POOL_MIN", 1), DB_POOL_MAX)),
            "max_size": DB_POOL_MAX,
            # Seconds a request waits for a free connection before it fails.
            "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
        }
    elif _DEV_SERVER:
        _database["CONN_MAX_AGE"] = 0
    DATABASES = {"default": _database}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # A file, not memory, so a real Celery worker process can share the test database.
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
            # Web, worker and beat share one file: wait for locks, write-ahead log, immediate writes.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Only our own files run and style pages: no inline script, style attribute or eval, no third-party
# origin; no page may be framed, and forms post back to us only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling: a username and a client address are each locked for a while after a few
# failures, separately, so one password sprayed over many usernames and one username tried from many
# addresses are both stopped.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Behind a reverse proxy every request comes from the proxy: name the header it writes the client's
# address into (e.g. X-Forwarded-For) and how many trusted proxies append to it. Unset, the header is
# ignored, because clients can write it themselves.
SIMDESK_TRUSTED_PROXY_HEADER = env_str("SIMDESK_TRUSTED_PROXY_HEADER", "")
SIMDESK_PROXY_COUNT = env_int("SIMDESK_PROXY_COUNT", 1)
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
# Password-reset mails per client address and per account, each hour.
PASSWORD_RESET_MAILS_PER_ADDRESS = env_int("PASSWORD_RESET_MAILS_PER_ADDRESS", 5)
PASSWORD_RESET_MAILS_PER_ACCOUNT = env_int("PASSWORD_RESET_MAILS_PER_ACCOUNT", 3)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# Our own formats first (config/formats/<lang>/formats.py): a 24-hour clock in every language.
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise looks here even when serving from finders
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages come from npm (package.json), never from a CDN.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    # Live boards swap by morphing (hx-ext="morph"), so focus and typed text survive a refresh.
    ("vendor/idiomorph", BASE_DIR / "node_modules" / "idiomorph" / "dist"),
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "simdesk@localhost")

# Celery: with nothing set, a broker that is only a folder on disk (no server to install).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# The per-key poll cycles wait on providers (hundreds of ms a call), not on the CPU: on their own queue a
# worker with a thread pool waits on many providers at once (`celery worker -Q poll -P threads -c 32`:
# README, production). Empty: they share the default queue (one worker process does everything).
SIMDESK_POLL_QUEUE = env_str("SIMDESK_POLL_QUEUE", "")
if SIMDESK_POLL_QUEUE:
    CELERY_TASK_ROUTES = {
        "activations.tasks.poll_key": {"queue": SIMDESK_POLL_QUEUE},
        "rentals.tasks.poll_rental_key": {"queue": SIMDESK_POLL_QUEUE},
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The cache holds what processes share: per-key request budgets, catalog names, price lookups.
REDIS_URL = env_str(
    "REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
if REDIS_URL:
    # Fails soft (config/cache.py): with Redis down, pages and purchases work on without the cache.
    CACHES = {"default": {"BACKEND": "config.cache.SoftRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Seconds between poll cycles of the workers (one upstream call per key per cycle).
SIMDESK_POLL_INTERVAL = env_float("SIMDESK_POLL_INTERVAL", 3.0)

# Requests per second each gateway key may send to /stubs/handler_api.php, and how many at once (a token
# bucket per key, shared by every web process); beyond it the script is told the dialect's flood answer.
# 0 requests per second: no limit.
GATEWAY_REQUESTS_PER_SECOND = env_float("GATEWAY_REQUESTS_PER_SECOND", 10.0)
GATEWAY_BURST = env_int("GATEWAY_BURST", 20)

# Upstream calls: seconds before giving up on a provider.
PROVIDER_CONNECT_TIMEOUT = env_float("PROVIDER_CONNECT_TIMEOUT", 5.0)
PROVIDER_READ_TIMEOUT = env_float("PROVIDER_READ_TIMEOUT", 20.0)
PROVIDER_READ_RETRIES = env_int("PROVIDER_READ_RETRIES", 2)
# Hosts or networks (CIDR) a custom provider's base URL may point into although they are not public:
# self-hosted providers on the local network. Loopback is allowed anyway with DEBUG or SANDBOX_ENABLED.
PROVIDER_ALLOWED_NETWORKS = env_list("PROVIDER_ALLOWED_NETWORKS", [])
# A provider asked while a member waits on a page (checking a new key): one attempt, this read timeout.
PROVIDER_WEB_READ_TIMEOUT = env_float("PROVIDER_WEB_READ_TIMEOUT", 8.0)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis) and written through to the database: a polled page's request
# costs no session query, and a session survives the cache going away.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_api_keys": {"()": "config.logging.RedactApiKeys"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_api_keys"]},
        # The dev server's access log prints request lines, query strings (and so sandbox keys) included.
        "access": {"class": "logging.StreamHandler", "filters": ["redact_api_keys"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # urllib3 logs full request URLs (with the query string that carries api_key) at DEBUG.
    "loggers": {
        "urllib3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.server": {
            "handlers": ["access"],
            "filters": ["redact_api_keys"],
            "level": "INFO",
            "propagate": False,
        },
        # "Not Found: /hooks/<token>/sms/" and the like: redacted before any handler sees the record.
        "django.request": {"filters": ["redact_api_keys"]},
    },
}
