"""Django settings, read from the environment.

``DATABASE_URL``          any URL dj-database-url understands; default: SQLite in the data folder.
``LEADPACT_DATA_DIR``     where the SQLite file and the local secret key live; default ``./data``.
``LEADPACT_PRODUCTION``   ``1`` turns debugging off and makes ``SECRET_KEY`` required.
``SECRET_KEY``            required in production; for local use one is generated and kept on first run.
``LEADPACT_ALLOWED_HOSTS`` comma-separated host names (production; required there).
``LEADPACT_CSRF_TRUSTED_ORIGINS`` comma-separated origins (``https://leadpact.example.com``) when a proxy
                          serves another origin than the host name.
``LEADPACT_MAX_BODY_BYTES`` the largest API or webhook body accepted (default 10 MiB; above: 413).
``LEADPACT_RETENTION_MONTHS`` anonymise leads created longer ago than this (the worker does it); unset: keep.
``LEADPACT_HSTS_SECONDS`` HTTP Strict Transport Security in production (default one year).
``LEADPACT_SSL_REDIRECT`` ``0`` when a proxy in front already redirects to HTTPS (default ``1``).
``LEADPACT_EMAIL_BACKEND`` the Django e-mail backend; default: the outbox (kept in the database, shown on
                          Data → Outbox) outside production, SMTP in production.
``LEADPACT_EMAIL_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_TLS`` (``1``: STARTTLS), ``_SSL``
                          (``1``: TLS from the start): the SMTP server (default ``localhost:25``).
``LEADPACT_ALERT_WEBHOOKS_ALLOW_PRIVATE`` ``1`` lets alert webhooks post to loopback, link-local and
                          private addresses (an intranet chat server); by default only public ones.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("LEADPACT_DATA_DIR", Path.cwd() / "data")).resolve()
PRODUCTION = os.environ.get("LEADPACT_PRODUCTION", "") == "1"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when LEADPACT_PRODUCTION=1")
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)  # the owner's alone (leadpact/datadir.py)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = not PRODUCTION and os.environ.get("LEADPACT_DEBUG", "1") == "1"
ALLOWED_HOSTS = (
    [h for h in os.environ.get("LEADPACT_ALLOWED_HOSTS", "").split(",") if h]
    if PRODUCTION
    else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)

INSTALLED_APPS = [
    "leadpact.web",  # first: its templates (sign-in, password pages) come before the admin's
    "leadpact.web.admin_apps.LeadpactAdminConfig",  # the admin, sealed per organisation
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # the API docs' Swagger UI from its own static files, not a CDN (and within the CSP)
    "axes",  # login throttling: failed sign-ins per user name and address, then a cool-off
    "leadpact.organization",
    "leadpact.agreements",
    "leadpact.audit",
    "leadpact.leads",
    "leadpact.measurement",
    "leadpact.reviews",
    "leadpact.demo",  # `leadpact demo`: the demo organisation and its history
    "leadpact.privacy",  # erase, export, retention (GDPR / AVG)
    "leadpact.backup",  # `leadpact backup` / `leadpact restore` of a whole organisation
    "leadpact.outbox",  # e-mail kept in the database outside production (Data → Outbox)
]

MIDDLEWARE = [
    "leadpact.web.security.HealthMiddleware",  # /healthz for systemd, containers and load balancers
    "django.middleware.security.SecurityMiddleware",
    "leadpact.web.security.SecurityHeadersMiddleware",  # Content-Security-Policy and friends
    "leadpact.web.security.BodyLimitMiddleware",  # 413 for API and webhook bodies over the limit
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files from the same process (gunicorn)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out sign-in
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses while a user name and address are locked out
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LEADPACT_LOGIN_FAILURES", "10"))
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

ROOT_URLCONF = "leadpact.urls"
WSGI_APPLICATION = "leadpact.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leadpact.web.context.current",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'leadpact.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # not a rule: forgets the first login kept in the data folder once its password is changed
    {"NAME": "leadpact.web.passwords.FirstLoginForgotten"},
    {"NAME": "leadpact.demo.logins.DemoLoginForgotten"},  # the same for the demo's logins
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Production serves the collected, fingerprinted, compressed files (`leadpact serve` collects them);
# elsewhere whitenoise reads the apps' static folders directly, so `make run` needs no collectstatic.
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
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION  # no collected folder needed (and no warning for its absence)

PRIVACY_RETENTION_MONTHS = (
    int(os.environ["LEADPACT_RETENTION_MONTHS"]) if os.environ.get("LEADPACT_RETENTION_MONTHS") else None
)

# Request bodies: pages and the admin up to 10 MiB in memory; the API and webhooks refuse more than
# LEADPACT_MAX_BODY_BYTES with 413 (leadpact/web/security.py) before a view reads them.
LEADPACT_MAX_BODY_BYTES = int(os.environ.get("LEADPACT_MAX_BODY_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(LEADPACT_MAX_BODY_BYTES, 10 * 1024 * 1024)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for a day
DEFAULT_FROM_EMAIL = os.environ.get("LEADPACT_FROM_EMAIL", "leadpact <leadpact@localhost>")

# Outside production every e-mail is kept in the outbox (Data → Outbox), readable in the product; in
# production it goes out by SMTP. LEADPACT_EMAIL_BACKEND overrides either.
EMAIL_BACKEND = os.environ.get(
    "LEADPACT_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "leadpact.outbox.backend.EmailBackend",
)
EMAIL_HOST = os.environ.get("LEADPACT_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("LEADPACT_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("LEADPACT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LEADPACT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("LEADPACT_EMAIL_TLS", "") == "1"  # STARTTLS (port 587)
EMAIL_USE_SSL = os.environ.get("LEADPACT_EMAIL_SSL", "") == "1"  # TLS from the start (port 465)
EMAIL_TIMEOUT = 30
if os.environ.get("LEADPACT_EMAIL_FILE_PATH"):  # the file-based backend's folder (a message a file)
    EMAIL_FILE_PATH = os.environ["LEADPACT_EMAIL_FILE_PATH"]
# alert webhooks post only to public addresses unless an operator allows private ones (SSRF)
ALERT_WEBHOOKS_ALLOW_PRIVATE = os.environ.get("LEADPACT_ALERT_WEBHOOKS_ALLOW_PRIVATE", "") == "1"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("LEADPACT_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

if PRODUCTION:  # behind a TLS-terminating proxy that sets X-Forwarded-Proto (deploy/)
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("LEADPACT_ALLOWED_HOSTS must name the host(s) when LEADPACT_PRODUCTION=1")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("LEADPACT_SSL_REDIRECT", "1") == "1"
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("LEADPACT_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Access and request logs carry no query values and no e-mail addresses (leadpact/logging.py).
LOGGING_CONFIG = "leadpact.logging.logging_configure"
LOGGING = {"version": 1, "disable_existing_loggers": False}
