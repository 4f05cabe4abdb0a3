"""Storyboard Studio settings: one module, every deployment value from the environment.

Defaults give a zero-set-up local studio: SQLite and an embedded (filesystem)
Celery broker under DATA_DIR. Set DATABASE_URL / CELERY_BROKER_URL for
PostgreSQL and Redis.
"""

import ipaddress
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _positive_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, str(default)))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number.") from None
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be at least 1.")
    return value


DEBUG = env_bool("DEBUG", False)

# Everything the studio writes (database, media, broker queue, signing keys).
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data")).resolve()
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media")).resolve()
MEDIA_URL = "/media/"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not DEBUG and env_bool("REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off in production.")
    # A local studio keeps a generated key on disk so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Processes starting together on a new DATA_DIR (parallel test workers, web and worker) must
    # all end up with one key: stored provider keys are encrypted with it. The key is written whole
    # under a name of its own, then linked into place, which only the first process manages.
    draft = DATA_DIR / f"secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    draft.write_text(secrets.token_urlsafe(50))
    draft.chmod(0o600)
    try:
        os.link(draft, key_file)
    except FileExistsError:
        pass  # another process's key came first: use it
    finally:
        draft.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

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
    "projects",
    "generation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's Accept-Language picks the language; a user's own choice wins (UserLanguageMiddleware).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "projects.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "projects.middleware.PermissionsPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Vary: HX-Request (and the other htmx headers) on every answer that depended on them.
    "projects.htmx.VaryOnFragmentMiddleware",
    "projects.middleware.CurrentTeamMiddleware",
    "projects.activity.notifications.StudioAddressMiddleware",
    "studio_site.accounts.SessionIdleMiddleware",
    "projects.middleware.RefuseControlCharactersMiddleware",
    # Last: turns a login that axes refused into the studio's lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studio_site.urls"
WSGI_APPLICATION = "studio_site.wsgi.application"

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
                "projects.context_processors.teams",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write the same file: wait for locks
    # instead of failing, and let readers proceed while a writer works.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:project_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
# The languages the interface is translated into (locale/<code>/LC_MESSAGES). Dates, numbers and money
# follow the active one (Django's formats; money through projects/templatetags/money.py).
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]


def media_storage(env=os.environ) -> dict:
    """Where media live: local disk under MEDIA_ROOT, or an S3-compatible bucket.

    STORAGE_URL=s3://bucket?endpoint_url=…&region=…&prefix=…&addressing_style=path, or
    AWS_STORAGE_BUCKET_NAME (S3_BUCKET) with AWS_S3_ENDPOINT_URL (S3_ENDPOINT_URL) and
    AWS_S3_REGION_NAME (S3_REGION). Credentials stay in the environment
    (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), where boto3 reads them.
    """
    from urllib.parse import parse_qs, urlsplit

    def first(*names):
        return next((env[n] for n in names if env.get(n)), "")

    url = env.get("STORAGE_URL", "").strip()
    options = {
        "bucket_name": first("AWS_STORAGE_BUCKET_NAME", "S3_BUCKET"),
        "endpoint_url": first("AWS_S3_ENDPOINT_URL", "S3_ENDPOINT_URL") or None,
        "region_name": first("AWS_S3_REGION_NAME", "S3_REGION", "AWS_DEFAULT_REGION") or None,
        "location": first("AWS_LOCATION", "S3_PREFIX"),
        "addressing_style": first("AWS_S3_ADDRESSING_STYLE") or None,
    }
    if url:
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.path:
            return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": parts.path}}
        if parts.scheme != "s3" or not parts.netloc:
            raise ImproperlyConfigured("STORAGE_URL must look like s3://bucket-name?endpoint_url=… "
                                       "or file:///path/to/media.")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        options.update({
            "bucket_name": parts.netloc,
            "endpoint_url": query.get("endpoint_url") or options["endpoint_url"],
            "region_name": query.get("region") or query.get("region_name") or options["region_name"],
            "location": (query.get("prefix") or parts.path).strip("/") or options["location"],
            "addressing_style": query.get("addressing_style") or options["addressing_style"],
        })
    if not options["bucket_name"]:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        **{k: v for k, v in options.items() if v},
        # Private objects, reached only through short-lived presigned URLs that a view
        # hands to a member after its own access check (generation/storage/files.py).
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": int(env.get("STORAGE_URL_EXPIRE_SECONDS") or 300),
        "signature_version": "s3v4",
        # Like the local disk: a second file of the same name gets a new name, never
        # replaces the first.
        "file_overwrite": False,
    }}


STORAGES = {
    "default": media_storage(),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG

# Email: printed to the console by default; SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "studio@localhost")
# Emails leave from a worker: when the mail server fails, it tries again this many times, waiting
# EMAIL_RETRY_SECONDS, then twice as long each time (60 s and 5 tries: about half an hour in all).
EMAIL_RETRIES = int(os.environ.get("EMAIL_RETRIES", "5"))
EMAIL_RETRY_SECONDS = int(os.environ.get("EMAIL_RETRY_SECONDS", "60"))
# Finished/failed takes are emailed together, this long after the first of them settles.
RENDER_DIGEST_SECONDS = float(os.environ.get("RENDER_DIGEST_SECONDS", "30"))

# Security: strict when DEBUG is off. Production runs behind a TLS proxy
# (BEHIND_TLS_PROXY=true): then the proxy's X-Forwarded-Proto is believed, plain
# HTTP is redirected, cookies are HTTPS-only and HSTS is on — `manage.py check
# --deploy` passes with no warning. A local non-debug run over plain HTTP (what
# `./studio start` does on 127.0.0.1) sets SECURE_COOKIES=false.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every page (django-csp): only our own static scripts run, so a
# script that slips into a page (or an upload) does nothing. No 'unsafe-inline' anywhere:
# templates carry no inline scripts, handlers or style="" attributes (JS sets styles through
# the CSSOM, which CSP allows), and htmx is told not to inject its indicator <style>.
# Stored files get their own stricter sandbox policy (generation/storage/files.py), which this keeps.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Powerful browser features the studio never uses, off for every response (projects/middleware.py);
# the microphone for the studio's own pages only (a line recorded in the browser).
PERMISSIONS_POLICY = (
    "camera=(), microphone=(self), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), hid=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()"
)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", BEHIND_TLS_PROXY)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if BEHIND_TLS_PROXY else "0"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# A load balancer probes health over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]

# --- Guessing is not free -------------------------------------------------------
# Login lockout (django-axes). A stranger must not be able to lock someone else out, so:
# - wrong passwords lock an account *and address pair* (LOGIN_FAILURE_LIMIT): a guesser locks
#   only their own tries at that account, the account's owner elsewhere is not touched;
# - wrong passwords from one address across accounts lock that address (LOGIN_IP_FAILURE_LIMIT,
#   higher because an office shares one address): one machine spraying a password over usernames;
# - wrong passwords for one account from everywhere (LOGIN_ACCOUNT_FAILURE_LIMIT in
#   LOGIN_ACCOUNT_WINDOW_MINUTES: a guess spread over many addresses) never lock: past the limit a
#   sign-in from an address or browser the account has not signed in from waits 2, 4, 8 … seconds,
#   LOGIN_ACCOUNT_MAX_WAIT_SECONDS at most. Its usual places are never delayed.
# A lock lasts LOGIN_COOLOFF_MINUTES from the failure that set it: tries while locked are not
# counted, so they cannot stretch it. A success resets its own pair's count.
# studio_site.accounts.StudioAxesHandler applies all three.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_IP_FAILURE_LIMIT = int(os.environ.get("LOGIN_IP_FAILURE_LIMIT", "20"))
LOGIN_COOLOFF_MINUTES = int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15"))
LOGIN_ACCOUNT_FAILURE_LIMIT = int(os.environ.get("LOGIN_ACCOUNT_FAILURE_LIMIT", "20"))
LOGIN_ACCOUNT_WINDOW_MINUTES = int(os.environ.get("LOGIN_ACCOUNT_WINDOW_MINUTES", "60"))
LOGIN_ACCOUNT_MAX_WAIT_SECONDS = int(os.environ.get("LOGIN_ACCOUNT_MAX_WAIT_SECONDS", "300"))
AXES_HANDLER = "studio_site.accounts.StudioAxesHandler"
# The order matters: StudioAxesHandler reads the pair's count first, the address's second.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # its start-up banner on every manage.py command is noise; lockouts still log
AXES_LOCKOUT_CALLABLE = "studio_site.accounts.lockout_response"  # the studio's page, 429
# django-ipware is not installed, so axes' AXES_IPWARE_* settings would be ignored:
# one function decides the client address for axes and the studio's own throttles.
AXES_CLIENT_IP_CALLABLE = "studio_site.accounts.client_ip"
# How many proxies append to X-Forwarded-For in front of the studio (only read
# when BEHIND_TLS_PROXY): the client is that many entries from the right, the
# left part is whatever the client chose to send.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1"))
# Guest review link passwords: wrong tries per link from one address rest that address for the
# cool-off. Wrong tries per link from everywhere never lock the link (a stranger holding it could
# aim that at the real guest): past GUEST_PASSWORD_LINK_LIMIT in the cool-off each try waits a few
# seconds (at most GUEST_PASSWORD_LINK_MAX_WAIT_SECONDS), except from an address that opened the
# link before, and the link's owner is told once per burst (inbox, and email if they want it).
GUEST_PASSWORD_LIMIT = int(os.environ.get("GUEST_PASSWORD_LIMIT", "5"))
GUEST_PASSWORD_LINK_LIMIT = int(os.environ.get("GUEST_PASSWORD_LINK_LIMIT", "20"))
GUEST_PASSWORD_COOLOFF_MINUTES = int(os.environ.get("GUEST_PASSWORD_COOLOFF_MINUTES", "15"))
GUEST_PASSWORD_LINK_MAX_WAIT_SECONDS = int(os.environ.get("GUEST_PASSWORD_LINK_MAX_WAIT_SECONDS", "60"))
# Password reset emails asked for from one address per cool-off.
PASSWORD_RESET_LIMIT = int(os.environ.get("PASSWORD_RESET_LIMIT", "5"))
# Sliding idle timeout: a session ends after this long without a request
# (8 hours: a working day at the desk survives, a laptop left overnight does not).
# studio_site.accounts.SessionIdleMiddleware renews it at most once a minute
# instead of SESSION_SAVE_EVERY_REQUEST, so video range requests don't each write the session.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "480"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60


def _caches() -> dict:
    """Counters the web workers must share (throttles): Redis when there is one.

    Otherwise the database: FileBasedCache's add() checks then writes, so two
    processes can both "add" the same key and a throttle would undercount;
    DatabaseCache's add() is an INSERT on the key's primary key, which exactly one
    writer wins. migrate makes its table (projects.apps.create_cache_tables).
    """
    url = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
    if not url and os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://")):
        url = os.environ["CELERY_BROKER_URL"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                            "KEY_PREFIX": "studio"}}
    if url:
        raise ImproperlyConfigured("CACHE_URL must be a redis:// URL (or unset for the database cache).")
    # Past MAX_ENTRIES the database cache deletes a third of its rows, live counts included: at
    # Django's default (300) a guesser could flush an account's or a link's count by failing with
    # a few hundred made-up usernames.
    return {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "studio_cache",
                        "OPTIONS": {"MAX_ENTRIES": 200_000}}}


CACHES = _caches()

# The live channel (projects/live): with Redis, web processes are woken by pub/sub;
# without, each reads the change table every LIVE_POLL_SECONDS (one reader per process).
LIVE_REDIS_URL = next((url for url in (os.environ.get("CACHE_URL"), os.environ.get("REDIS_URL"),
                                       os.environ.get("CELERY_BROKER_URL"))
                       if url and url.startswith(("redis://", "rediss://"))), "")
LIVE_POLL_SECONDS = float(os.environ.get("LIVE_POLL_SECONDS", "0.25"))
# Seconds between keep-alive comments on an idle stream (also the presence heartbeat).
LIVE_KEEPALIVE_SECONDS = float(os.environ.get("LIVE_KEEPALIVE_SECONDS", "15"))
# A stream ends after this long and the browser reconnects from where it was: it re-checks
# the member's access and bounds what one connection holds.
LIVE_STREAM_MAX_SECONDS = float(os.environ.get("LIVE_STREAM_MAX_SECONDS", "300"))
# Where a page can't hold a stream (no EventSource, or it keeps failing), it asks for the
# changes since its cursor this often instead.
LIVE_FALLBACK_POLL_SECONDS = float(os.environ.get("LIVE_FALLBACK_POLL_SECONDS", "30"))
# Presence (avatars, "Rita is editing") fades when a page's stream has not beaten for this long.
LIVE_PRESENCE_SECONDS = float(os.environ.get("LIVE_PRESENCE_SECONDS", "45"))

# --- Celery -----------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
# studiofs:// is kombu's filesystem transport with atomic writes (studio_site/broker.py).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "studiofs://")
if CELERY_BROKER_URL.startswith(("studiofs://", "filesystem://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # Default is 1 s; 50 ms makes a queued task start in well under 100 ms.
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 600
CELERY_TASK_TIME_LIMIT = 660
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Scratch space of renders, submits and exports, swept by generation.tasks.sweep_studio_tmp:
# a worker killed mid-download leaves its partial files here, not in the system /tmp.
STUDIO_TMP_DIR = Path(os.environ.get("STUDIO_TMP_DIR", DATA_DIR / "tmp"))
# Older than this is stale; well above the task hard time limit, so never a live task's.
STUDIO_TMP_MAX_AGE_SECONDS = int(os.environ.get("STUDIO_TMP_MAX_AGE_SECONDS", 6 * 3600))
# How long a take's step stays "in hand" without its worker renewing it (generation/renders/pipeline.py),
# and how often the sweep looks for takes past it: after a worker is killed, its takes move again within
# the two together of a worker being back. A shorter lease means more renewal writes (every third of it)
# while a worker sends or downloads.
RENDER_LEASE_SECONDS = _positive_int("RENDER_LEASE_SECONDS", 30)
RENDER_SWEEP_SECONDS = _positive_int("RENDER_SWEEP_SECONDS", 15)
# Run by `celery beat` (embedded in the local worker with -B; a separate
# process when scaled out): picks up takes whose worker died.
CELERY_BEAT_SCHEDULE = {
    "resume-stalled-renders": {"task": "generation.tasks.resume_stalled_renders",
                               "schedule": float(RENDER_SWEEP_SECONDS)},
    "sweep-studio-tmp": {"task": "generation.tasks.sweep_studio_tmp", "schedule": 3600.0},
    "worker-heartbeat": {"task": "generation.tasks.worker_heartbeat", "schedule": 30.0},
    # The live channel: presence of pages whose stream died fades; day-old changes go.
    "live-presence-sweep": {"task": "projects.tasks.live_presence_sweep", "schedule": 30.0},
    "live-changes-prune": {"task": "projects.tasks.live_changes_prune", "schedule": 3600.0},
    # Owners hear once per model when one their scenes use retires within 30 days.
    "warn-of-retiring-models": {"task": "generation.tasks.warn_of_retiring_models", "schedule": 86400.0},
    # Each connection's provider is read for model changes, proposed to its owners (nothing changes by itself).
    "check-for-model-changes": {"task": "generation.tasks.check_all_models", "schedule": 86400.0},
    # Scenes in a project's trash longer than TRASH_DAYS are deleted forever (their spend is kept).
    "purge-trash": {"task": "projects.tasks.purge_trash", "schedule": 86400.0},
}

# /healthz says no worker is alive when none has run its heartbeat for this long.
WORKER_HEARTBEAT_MAX_AGE = float(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "120"))

# --- Generation ---------------------------------------------------------------
# C2PA signing identity. Unset → a local CA + leaf are generated under DATA_DIR/c2pa.
C2PA_SIGN_CERT_CHAIN = os.environ.get("C2PA_SIGN_CERT_CHAIN", "")  # PEM: leaf then intermediates
C2PA_SIGN_KEY = os.environ.get("C2PA_SIGN_KEY", "")  # PEM private key
C2PA_TRUST_ANCHORS = os.environ.get("C2PA_TRUST_ANCHORS", "")  # PEM file of extra trusted roots
C2PA_DIR = Path(os.environ.get("C2PA_DIR", DATA_DIR / "c2pa"))
STUDIO_VERSION = "0.1.0"
# The studio's public address, for provider webhooks (unset: polling only) and
# the links in password reset emails (unset: the address the request came to).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
# Where fal publishes the Ed25519 keys that sign its webhooks (tests point it at a fake).
FAL_JWKS_URL = os.environ.get("FAL_JWKS_URL", "https://rest.alpha.fal.ai/.well-known/jwks.json")
# fal's Platform API, where "Check for model changes" reads fal's models and prices (tests point it at a fake).
FAL_API_URL = os.environ.get("FAL_API_URL", "https://api.fal.ai/v1")
# Cloud Storage's JSON API, where a Vertex AI connection with an output bucket reads its videos (tests
# point it at a fake).
GOOGLE_STORAGE_URL = os.environ.get("GOOGLE_STORAGE_URL", "https://storage.googleapis.com")
# Fernet key(s) for provider API keys at rest, newest first, comma-separated
# (generate: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")

# --- Outbound requests ----------------------------------------------------------
# Provider calls, redirects and result downloads never go to loopback, link-local (169.254/16: the
# cloud metadata service), private, shared (100.64/10), multicast, unspecified or reserved addresses
# (generation/providers/outbound.py), except those the operator lists here: addresses, CIDR ranges
# and host names, comma-separated, e.g. a ComfyUI box on the LAN: 192.168.1.20 or comfy.lan.


def outbound_allowed(entries: list[str]) -> list[str]:
    """The entries of OUTBOUND_ALLOWED_PRIVATE_ADDRESSES; a malformed address or range stops the start."""
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if "/" in entry or ":" in entry or not re.fullmatch(r"[A-Za-z0-9_.-]*[A-Za-z_-][A-Za-z0-9_.-]*", entry):
                raise ImproperlyConfigured(
                    f"OUTBOUND_ALLOWED_PRIVATE_ADDRESSES: “{entry}” is neither an address, a CIDR range "
                    "(10.0.0.0/8) nor a host name.") from None
    return entries


OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = outbound_allowed(env_list("OUTBOUND_ALLOWED_PRIVATE_ADDRESSES"))

# Who may create a team (and so own one, with its provider connections): "anyone" signed in, or
# "staff" only (users with is_staff, e.g. made with createsuperuser or in the admin).
TEAM_CREATION = os.environ.get("TEAM_CREATION", "anyone").strip().lower() or "anyone"
if TEAM_CREATION not in ("anyone", "staff"):
    raise ImproperlyConfigured("TEAM_CREATION must be “anyone” or “staff”.")

# Deleted scenes wait in their project's trash this many days (restorable), then the daily beat
# (projects.tasks.purge_trash) deletes them forever as an owner's "Delete forever" does.
try:
    TRASH_DAYS = int(os.environ.get("TRASH_DAYS", "30"))
except ValueError:
    raise ImproperlyConfigured("TRASH_DAYS must be a whole number of days.") from None
if TRASH_DAYS < 1:
    raise ImproperlyConfigured("TRASH_DAYS must be at least 1: an Undo needs the scenes to still be there.")

# An editor's cut brought back (generation/exports/cut_import.py): the largest timeline file accepted, and what
# reading one may take in the worker — it is read in a child process capped at this much memory and time.
CUT_IMPORT_MAX_MB = _positive_int("CUT_IMPORT_MAX_MB", 64)
CUT_IMPORT_MEMORY_MB = _positive_int("CUT_IMPORT_MEMORY_MB", 1024)
CUT_IMPORT_SECONDS = _positive_int("CUT_IMPORT_SECONDS", 120)

# Structured logs (studio_site/logs.py): one JSON object per line and event, with
# take/project ids as fields; LOG_FORMAT=text for key=value lines at a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"event": {"()": "studio_site.logs." + ("KeyValueFormatter" if LOG_FORMAT == "text"
                                                          else "JsonFormatter")}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "event"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Errors (web requests and Celery tasks) go to Sentry when SENTRY_DSN is set.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from studio_site.errors import sentry_init

    sentry_init(SENTRY_DSN, release=f"storyboard-studio@{STUDIO_VERSION}", environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
                traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")))

# Frames the board draws in its first answer and in each page loaded as the list scrolls (a board of 1,000
# scenes answers as fast as one of 10: bench/board.py).
BOARD_PAGE_SIZE = _positive_int("BOARD_PAGE_SIZE", 24)
