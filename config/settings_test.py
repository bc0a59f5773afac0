"""Test settings: the production settings with test doubles only where a test needs control.

PostgreSQL and Redis stay real. With no DATABASE_URL / REDIS_URL the embedded servers of the `test` profile
(.local/test/, separate from `make run`'s data) start for the test session and stop after it.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_EMBEDDED_SERVICES", "true")
os.environ.setdefault("DJANGO_EMBEDDED_PROFILE", "test")
os.environ["DJANGO_READ_DOT_ENV"] = "false"

from .settings import *  # noqa: F403
from .settings import CACHES, PASSWORD_HASHERS

DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Per-process cache so rate-limit counters (login lockout) never leak between tests; Redis stays the broker.
CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Argon2 stays first (it is what production uses); tests that hash many passwords may pass a hash in directly.
PASSWORD_HASHERS = PASSWORD_HASHERS
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".local" / "test" / "beat")  # noqa: F405
STRIPE_STANDIN_STATE_FILE = ""  # a test database starts empty; so does the Stripe stand-in
WEBHOOKS_ALLOW_PRIVATE_URLS = True  # receivers in tests listen on 127.0.0.1 over plain http
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
