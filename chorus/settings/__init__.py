"""Every setting that depends on the environment is read here, and only here.

The defaults give the embedded mode (`make run`): SQLite under var/, mails printed on the console,
Celery tasks run inline. Production (`DJANGO_ENV=production`) refuses unsafe defaults.
"""

import shutil
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="dev")
if DJANGO_ENV not in {"dev", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be dev, test or production, not {DJANGO_ENV!r}.")
IS_PRODUCTION = DJANGO_ENV == "production"

if IS_PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY (50 characters or more) is required in production.")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="dev-only-insecure-key-never-use-in-production-0123456789abcdef"
    )

DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "dev")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "chorus.apps.ChorusAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_htmx",
    "captcha",
    "django_otp",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "chorus.apps.ChorusConfig",
    "chorus.outbox",
    "accounts",
    "structures",
    "attachments",
    "reimbursements",
    "support",
    "notifications",
    "ninja",
    "api",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "chorus.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "chorus.headers.PrivatePagesNotStoredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "chorus.middleware.StorageUnavailableMiddleware",
    # Last in the request phase, still before any view middleware (the CSRF check reads the body there).
    "chorus.encoding.Utf8RequestMiddleware",
    # Django parses multipart bodies for POST only: the API's PATCH of a line carries its invoice copy.
    "ninja.compatibility.files.fix_request_files_middleware",
    # Only counts (never reads the body); last, so its latency covers every other middleware.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "chorus.urls"
WSGI_APPLICATION = "chorus.wsgi.application"
ASGI_APPLICATION = "chorus.asgi.application"

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
                "csp.context_processors.nonce",
                "chorus.context_processors.portal",
                "structures.context_processors.first_login_choice",
                "attachments.context_processors.approvals",
            ],
            # Tests set this to a failing sentinel (see tests/conftest.py) so unknown variables fail.
            "string_if_invalid": "",
        },
    },
]

FORM_RENDERER = "chorus.forms.PortalFormRenderer"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
# Persistent connections: about ten times the throughput on PostgreSQL compared with one connection a request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # An unreachable database fails a request (and /sante/pret) in seconds rather than hanging the worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # A request never waits long on Redis: an unreachable server fails within a second.
    _redis_options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
        },
        # Rate limits keep counting in each process's memory while Redis is down (see chorus/ratelimit.py).
        "ratelimit": {
            "BACKEND": "chorus.ratelimit.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
        },
    }
elif IS_PRODUCTION:
    raise ImproperlyConfigured("REDIS_URL is required in production (rate limits, Celery broker).")
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
    }
RATELIMIT_USE_CACHE = "ratelimit"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "accounts.password_validation.ComplexityValidator"},
    {"NAME": "accounts.password_validation.PersonalDataValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Activation, reset and address-change links, and the code e-mailed at sign-in (OWASP: 10 minutes at most).
ACCOUNT_LINK_VALIDITY = timedelta(minutes=60)
OTP_EMAIL_TOKEN_VALIDITY = 10 * 60
OTP_EMAIL_COOLDOWN_DURATION = 60
# Wrong codes are capped by a hard limit (LOGIN_CODE_MAX_ATTEMPTS, then a new code is needed) rather than by
# django-otp's growing delays, so a user always knows where they stand.
OTP_EMAIL_THROTTLE_FACTOR = 0
LOGIN_CODE_MAX_ATTEMPTS = 5
# Across codes and factors: at most this many wrong second-factor answers per account in the window, then the
# account's second factor is paused for the rest of the window and its owner is mailed.
SECOND_FACTOR_MAX_FAILURES = 10
SECOND_FACTOR_FAILURE_WINDOW = timedelta(hours=1)
# Authenticator apps (TOTP) and backup codes: the same cap applies, so django-otp's own growing delays are off
# (they would silently refuse a right code typed a second after a wrong one). A clock drift of one 30-second
# step either way is accepted, never more: OTP_TOTP_SYNC would let an accepted drift widen the window.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_SYNC = False
OTP_TOTP_ISSUER = "Chorus Agri"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Private uploads (RIB, invoices): never under STATIC_ROOT, never given a public URL, served by checked views.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production, static files are served straight from the source folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = not IS_PRODUCTION
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "private")

# Private files in an S3-compatible bucket (MinIO, AWS, Scaleway…) when S3_BUCKET is set, so every web server
# reads the same files; the local MEDIA_ROOT folder otherwise (embedded mode). The bucket stays private:
# downloads are streamed by the views that check the user's rights, never redirected to a bucket URL.
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    from botocore.config import Config as _BotoConfig

    _s3_timeout = env.float("S3_TIMEOUT", default=5.0)
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("S3_REGION", default="us-east-1"),
            "default_acl": None,  # the bucket's own (private) policy, never public-read
            "querystring_auth": True,  # should a URL ever be asked for, it is signed, never public
            "querystring_expire": 10,
            # Names are random (chorus.uploads); a clash is refused rather than overwriting a stored file.
            "file_overwrite": False,
            # Downloads up to 2 MB stay in memory, bigger ones spill to a temporary file.
            "max_memory_size": 2 * 1024 * 1024,
            # A slow or unreachable bucket fails within seconds (a clear message, 503), not at the proxy's
            # timeout; path-style addressing works with MinIO and moto without DNS tricks.
            "client_config": _BotoConfig(
                connect_timeout=_s3_timeout,
                read_timeout=_s3_timeout,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": env.str("S3_ADDRESSING_STYLE", default="path")},
                signature_version="s3v4",
            ),
        },
    }

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mails"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Chorus Agri <ne-pas-repondre@chorus-agri.example>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A request must not hang when Redis is down: publishing fails fast and the outbox sweep sends later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "chorus.outbox.tasks.outbox_sweep", "schedule": 60.0},
    "password-reset-sweep": {"task": "accounts.tasks.password_reset_sweep", "schedule": 60.0},
    # Reminders (notifications app): once a day in the morning, Paris time (CELERY_TIMEZONE).
    "notifications-reminders": {
        "task": "notifications.tasks.reminders_daily",
        "schedule": crontab(hour=7, minute=30),
    },
}
# A queued mail's task has 2 minutes before the sweep hands the mail out again (Redis may have lost it).
OUTBOX_SWEEP_AFTER_SECONDS = 120
# After a failed attempt: wait 1, 2, 4, 8 minutes, then every 15 minutes; 100 attempts span 24 hours, so an
# SMTP outage of hours loses nothing and a mail leaves at most 15 minutes after the server is back.
OUTBOX_RETRY_BASE_SECONDS = 60
OUTBOX_RETRY_MAX_SECONDS = 15 * 60
OUTBOX_MAX_ATTEMPTS = 100
# A user attached to more structures than this gets one daily digest instead of one mail per reminder.
NOTIFICATIONS_DIGEST_ABOVE = 5

# Rate limits (chorus/ratelimit.py) count per client IP; behind N proxies that append to X-Forwarded-For,
# set TRUSTED_PROXY_COUNT=N (docker compose: 1).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "chorus.ratelimit.client_ip"

# Public company register (INSEE API Sirene) that pre-fills a new structure; off when empty.
SIRENE_API_URL = env.str("SIRENE_API_URL", default="")
SIRENE_API_KEY = env.str("SIRENE_API_KEY", default="")
SIRENE_API_TIMEOUT = env.float("SIRENE_API_TIMEOUT", default=3.0)

CAPTCHA_TEST_MODE = env.bool("CAPTCHA_TEST_MODE", default=False)
CAPTCHA_LENGTH = 6
CAPTCHA_TIMEOUT = 15  # minutes
CAPTCHA_IMAGE_SIZE = (180, 60)
CAPTCHA_FONT_SIZE = 36
# The audio version for blind users is offered when a speech synthesiser is installed: Debian's espeak-ng
# reads the letters in French (accounts/captcha_audio.py), flite (English letters) is the fallback; sox adds
# noise.
CAPTCHA_ESPEAK_PATH = env.str("CAPTCHA_ESPEAK_PATH", default=shutil.which("espeak-ng") or "") or None
CAPTCHA_FLITE_PATH = env.str("CAPTCHA_FLITE_PATH", default=shutil.which("flite") or "") or None
CAPTCHA_SOX_PATH = env.str("CAPTCHA_SOX_PATH", default=shutil.which("sox") or "") or None
if IS_PRODUCTION and CAPTCHA_TEST_MODE:
    raise ImproperlyConfigured("CAPTCHA_TEST_MODE cannot be enabled in production.")

# Where sessions live: "db" (PostgreSQL), "cached_db" (Redis in front of PostgreSQL) or "cache" (Redis only).
# bench/load.py measured db with CONN_MAX_AGE=60 best (README); it also leaves sessions untouched by Redis.
SESSION_BACKEND = env.str("SESSION_BACKEND", default="db")
if SESSION_BACKEND not in {"db", "cached_db", "cache"}:
    raise ImproperlyConfigured(f"SESSION_BACKEND must be db, cached_db or cache, not {SESSION_BACKEND!r}.")
SESSION_ENGINE = {
    "db": "django.contrib.sessions.backends.db",
    "cached_db": "chorus.sessions",  # Django's cached_db, made to survive a Redis outage
    "cache": "django.contrib.sessions.backends.cache",
}[SESSION_BACKEND]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Load balancers probe the containers over plain HTTP; the probes carry no personal data.
    SECURE_REDIRECT_EXEMPT = [r"^sante/", r"^metriques$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Browser features the portal never uses, denied to every page and anything injected into it.
PERMISSIONS_POLICY = {
    feature: []
    for feature in [
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    ]
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Operations (chorus/observability.py). Metrics at /metriques for whoever sends
# `Authorization: Bearer <METRICS_TOKEN>` (404 without the token, or when it is empty).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
PROMETHEUS_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))
# Error reports to Sentry when set, IBANs, e-mail addresses and file names scrubbed before sending.
SENTRY_DSN = env.str("SENTRY_DSN", default="")

# One JSON object per line in production (a request id on each, carried into Celery tasks); plain text in dev.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "chorus.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# The worker logs through the LOGGING above (JSON, request id) instead of replacing it with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
