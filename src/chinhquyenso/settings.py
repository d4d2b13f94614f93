"""One settings module, configured by environment variables.

CQS_DATA_DIR     where the SQLite database and uploaded files live (default ./var)
DATABASE_URL     e.g. postgres://postgres@127.0.0.1:5432/cqs — PostgreSQL in production
CQS_SECRET_KEY   required when CQS_DEBUG is off
CQS_DEBUG        "1" for development
REDIS_URL        optional: shared cache for several app processes,
                 and the task queue when CQS_TASK_BACKEND=redis
CQS_TASK_BACKEND "database" (default) or "redis"
CQS_INSECURE_COOKIES "1" only for the demo on http://127.0.0.1
CQS_SSL_REDIRECT "1" in production: redirect plain HTTP to HTTPS
CQS_HSTS_SECONDS HSTS max-age in seconds (production: 31536000; default 0, no HSTS)
CQS_HSTS_INCLUDE_SUBDOMAINS, CQS_HSTS_PRELOAD
                 "1" in production: HSTS covers subdomains, and may be preloaded
CQS_AUDIT_KEY, CQS_AUDIT_KEY_FILE
                 the key that signs audit checkpoints (default: generated once into
                 $CQS_DATA_DIR/audit.key); never stored in the database
CQS_AUDIT_CHECKPOINT_DIR  where signed audit checkpoints are appended (default
                 $CQS_DATA_DIR/audit-checkpoints; production: another machine or WORM storage)
CQS_AUDIT_CHECKPOINT_MINUTES  how often the worker writes one (default 60; 0: never)
CQS_LOG_FILE     also write every log line to this file (relative: under CQS_DATA_DIR);
                 the console then shows warnings and errors only (`cqs demo`: logs/demo.log)
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from chinhquyenso.core.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("CQS_DATA_DIR", Path.cwd() / "var")).resolve()

DEBUG = os.environ.get("CQS_DEBUG", "0") == "1"
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """CQS_SECRET_KEY, or a random key generated once and kept in the data
    directory (readable by the service account only). Several app processes
    must share one key: set CQS_SECRET_KEY or share the data directory."""
    if os.environ.get("CQS_SECRET_KEY"):
        return os.environ["CQS_SECRET_KEY"]
    path = DATA_DIR / "secret.key"
    if not path.exists():
        import secrets

        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# Audit checkpoints (core.audit): the chain's head signed with a key that is not in the database, appended to
# files outside it, so a rewrite of the database's audit records shows. The key file is generated on the first
# checkpoint, like secret.key; back up the key and the checkpoints apart from the database (docs/operations.md).
AUDIT_KEY = os.environ.get("CQS_AUDIT_KEY", "")
AUDIT_KEY_FILE = Path(os.environ.get("CQS_AUDIT_KEY_FILE", DATA_DIR / "audit.key"))
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("CQS_AUDIT_CHECKPOINT_DIR", DATA_DIR / "audit-checkpoints"))
# The data bus's key and certificate (exchange.bus.keys): sign outgoing calls, the message log's seals and the
# exported registry; generated on first use, kept and backed up apart from the database like the audit key.
BUS_KEY_FILE = Path(os.environ.get("CQS_BUS_KEY_FILE", DATA_DIR / "bus.key"))
BUS_CERT_FILE = Path(os.environ.get("CQS_BUS_CERT_FILE", DATA_DIR / "bus.crt"))
BUS_LOG_SEAL_DIR = Path(os.environ.get("CQS_BUS_LOG_SEAL_DIR", DATA_DIR / "bus-log-seals"))
BUS_LOG_ARCHIVE_DIR = Path(os.environ.get("CQS_BUS_LOG_ARCHIVE_DIR", DATA_DIR / "bus-log-archive"))
AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("CQS_AUDIT_CHECKPOINT_MINUTES", 60))

ALLOWED_HOSTS = os.environ.get("CQS_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "chinhquyenso.accounts.admin_site.ProvinceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "chinhquyenso.core",
    "chinhquyenso.org",
    "chinhquyenso.accounts",
    "chinhquyenso.procedures",
    "chinhquyenso.dossiers",
    "chinhquyenso.exchange",
    "chinhquyenso.signing",
    "chinhquyenso.payments",
    "chinhquyenso.portal",
    "chinhquyenso.backoffice",
    "chinhquyenso.indicators",
    "chinhquyenso.dashboard",
    "chinhquyenso.reports",
    "chinhquyenso.lris",
    "chinhquyenso.feedback",
    "chinhquyenso.civil_records",
    "chinhquyenso.documents",
    "chinhquyenso.pests",
    "chinhquyenso.opendata",
    "chinhquyenso.persons",
    "chinhquyenso.privacy",
    "chinhquyenso.assistant",
    "chinhquyenso.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the app server: one small stylesheet and script need no separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chinhquyenso.core.headers.SecurityHeaders",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "chinhquyenso.core.middleware.RejectUnstorableInput",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chinhquyenso.core.middleware.DomainErrorPages",
]

ROOT_URLCONF = "chinhquyenso.urls"
WSGI_APPLICATION = "chinhquyenso.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chinhquyenso.accounts.context_processors.site",
                "chinhquyenso.dashboard.context_processors.nav",
                "chinhquyenso.civil_records.context_processors.nav",
                "chinhquyenso.persons.context_processors.nav",
                "chinhquyenso.pests.context_processors.nav",
                "chinhquyenso.exchange.context_processors.unread",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{DATA_DIR / 'cqs.sqlite3'}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails a request in seconds (a 503), not after the OS's TCP timeout;
    # CQS_DB_STATEMENT_TIMEOUT_MS (off by default: imports and fact rebuilds run long) bounds each statement.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(os.environ.get("CQS_DB_CONNECT_TIMEOUT", 5))
    if os.environ.get("CQS_DB_STATEMENT_TIMEOUT_MS"):
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"-c statement_timeout={int(os.environ['CQS_DB_STATEMENT_TIMEOUT_MS'])}"
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE avoids
    # "database is locked" upgrades inside write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Connections stay open between requests (CONN_MAX_AGE above), as on PostgreSQL: opening one and
    # running the PRAGMAs per request held a single client to 1/1.64 of today's submissions per second.

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["chinhquyenso.accounts.backends.ProvinceAdminBackend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt")]
# Texts Django and the task queue packages leave untranslated (the administration's own pages).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Served from the apps' static folders without a collectstatic step; compressed
# copies and long cache headers once `cqs collectstatic` has filled STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_MAX_AGE = 3600
MEDIA_ROOT = DATA_DIR / "files"
MEDIA_URL = "/files/"
# Uploads never sit whole in memory: a file over 1 MB is written to a temporary file while the request is read,
# and core.uploads checks it chunk by chunk. A multipart request over CQS_REQUEST_MAX_BYTES is refused (413)
# before it is read (core.uploads.RequestSizeLimit); any other body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused
# by Django. The reverse proxy's client_max_body_size matches CQS_REQUEST_MAX_BYTES (docs/operations.md).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("CQS_BODY_MAX_BYTES", 5 * 1024 * 1024 // 2))  # 2.5 MB
FILE_UPLOAD_HANDLERS = [
    "chinhquyenso.core.uploads.RequestSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# A file the database names but the disk lacks (a restore without files/) is a 404, not a 500.
STORAGES = {
    "default": {"BACKEND": "chinhquyenso.core.storage.FileStorage"},
    # collectstatic writes a gzip copy beside each file; WhiteNoise (and nginx's gzip_static) send it.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    }

# Background tasks: a queue in the database (no extra server), or in Redis for
# installations with several worker machines (CQS_TASK_BACKEND=redis, needs the
# "redis" extra). `cqs worker` runs the matching worker.
TASK_QUEUE = os.environ.get("CQS_TASK_BACKEND", "database")
if TASK_QUEUE not in ("database", "redis"):
    raise ImproperlyConfigured("CQS_TASK_BACKEND phải là database hoặc redis.")
if TASK_QUEUE == "redis":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
TASKS = {
    "default": {
        "BACKEND": "django_tasks_rq.RQBackend" if TASK_QUEUE == "redis" else "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

LOGIN_URL = "/dang-nhap/"

# E-mail to citizens and officers (exchange.senders.EmailSender) through SMTP (docs/operations.md).
EMAIL_HOST = os.environ.get("CQS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("CQS_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("CQS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CQS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("CQS_EMAIL_TLS") == "1"
EMAIL_TIMEOUT = int(os.environ.get("CQS_EMAIL_TIMEOUT_SECONDS", 10))
DEFAULT_FROM_EMAIL = os.environ.get("CQS_EMAIL_FROM", "webmaster@localhost")

# Cookies: HTTPS-only and out of reach of scripts. CQS_INSECURE_COOKIES=1 only
# for the demo on http://127.0.0.1 (browsers drop Secure cookies over plain HTTP
# except on localhost).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("CQS_INSECURE_COOKIES") != "1"
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "chinhquyenso.core.middleware.csrf_failure"  # in the format of the path (JSON for /api/)
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # one working day
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only: redirect plain HTTP, and tell browsers (HSTS) never to try it again. Off by
# default because tests and `cqs demo` serve plain http://; production turns them on
# (docs/operations.md), and `cqs check --deploy` in CI checks them.
SECURE_SSL_REDIRECT = os.environ.get("CQS_SSL_REDIRECT", "0") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("CQS_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("CQS_HSTS_INCLUDE_SUBDOMAINS", "0") == "1"
SECURE_HSTS_PRELOAD = os.environ.get("CQS_HSTS_PRELOAD", "0") == "1"

# Platform rules, all overridable per installation.
CQS = {
    "PROVINCE_NAME": os.environ.get("CQS_PROVINCE_NAME", "An Giang"),
    # Where the platform is reached from outside (https://dichvucong.example.gov.vn): the base of every
    # link in an e-mail or SMS. Required in production (system check cqs.E001).
    "SITE_URL": os.environ.get("CQS_SITE_URL", ""),
    # The public feedback map's extent: south,north,west,east in degrees ("" = from the communes' points).
    "FEEDBACK_MAP_BOUNDS": os.environ.get("CQS_MAP_BOUNDS", "10.2,10.95,104.8,105.6"),
    # The maps' base layer (core.maps, docs/operations.md "Bản đồ nền"): a tile server's URL template
    # ({z}/{x}/{y}, optional {s}) and the attribution its licence asks for. Empty URL: no tiles, the maps
    # draw the communes' points (and outlines) instead — tests, CI and machines without internet.
    "MAP_TILES": {
        "URL": os.environ.get("CQS_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "ATTRIBUTION": os.environ.get(
            "CQS_MAP_TILE_ATTRIBUTION",
            '© <a href="https://www.openstreetmap.org/copyright">Những người đóng góp OpenStreetMap</a>',
        ),
        "MAX_ZOOM": int(os.environ.get("CQS_MAP_TILE_MAX_ZOOM", 19)),
    },
    # The officers' "Chỉ đường" link to a report's point ({lat}, {lon}: the report's coordinates only).
    "MAP_DIRECTIONS_URL": os.environ.get(
        "CQS_MAP_DIRECTIONS_URL", "https://www.google.com/maps/dir/?api=1&destination={lat},{lon}"
    ),
    # The procedure assistant (docs/assistant.md): the hotline it offers when unsure ("" = the one-stop
    # service centre named from the agency list), and how many questions one address may ask a minute.
    "HOTLINE": os.environ.get("CQS_HOTLINE", ""),
    "ASSISTANT_PER_IP_PER_MINUTE": int(os.environ.get("CQS_ASSISTANT_PER_IP_PER_MINUTE", 30)),
    "RECEIPT_CUTOFF": os.environ.get("CQS_RECEIPT_CUTOFF", "15:00"),
    "OFFICE_CLOSES": os.environ.get("CQS_OFFICE_CLOSES", "17:00"),
    "PROCESSING_SUPPLEMENT_WINDOW_DAYS": 3,
    "UPLOAD_MAX_BYTES": int(os.environ.get("CQS_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)),
    # A whole request with its files (a counter reception with several scans, a civil register list).
    "REQUEST_MAX_BYTES": int(os.environ.get("CQS_REQUEST_MAX_BYTES", 256 * 1024 * 1024)),
    # Images are refused above this many pixels, read from their header before any decoding (a 48 MP phone
    # photo passes; a 20000×20000 PNG of a few kilobytes, 1.6 GB once decoded, does not).
    "UPLOAD_MAX_PIXELS": int(os.environ.get("CQS_UPLOAD_MAX_PIXELS", 50_000_000)),
    # Dashboard figures past their minute are served once more while a thread recomputes them.
    "DASHBOARD_BACKGROUND_REFRESH": os.environ.get("CQS_DASHBOARD_BACKGROUND_REFRESH", "1") == "1",
    # IOC (docs/dashboard.md): agencies with fewer dossiers than this in the period are listed, not ranked;
    # "due soon" means due within this many working days; commune outlines (GeoJSON, features with
    # properties.code = the agency's code) for the on-time map — empty: circles at the communes' points.
    "DASHBOARD_RANKING_MIN_DOSSIERS": int(os.environ.get("CQS_DASHBOARD_RANKING_MIN_DOSSIERS", 10)),
    "DASHBOARD_DUE_SOON_DAYS": int(os.environ.get("CQS_DASHBOARD_DUE_SOON_DAYS", 2)),
    "COMMUNE_OUTLINES": os.environ.get("CQS_COMMUNE_OUTLINES", ""),
    # Register lists uploaded for digitization (civil_records), and the validation processes of large ones
    # (unset: one per CPU but one, at most 4, for files from 8 MB; 0: in the importing process).
    "CIVIL_UPLOAD_MAX_BYTES": int(os.environ.get("CQS_CIVIL_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)),
    "CIVIL_IMPORT_WORKERS": int(os.environ["CQS_CIVIL_IMPORT_WORKERS"])
    if os.environ.get("CQS_CIVIL_IMPORT_WORKERS")
    else None,
    # What one imported file may hold (civil_records.reading.LIMITS, docs/civil_records.md): beyond them a
    # row is refused (a cell, a line, a quote left open) or the file is (rows, an XLSX's decompressed size).
    "CIVIL_CSV_MAX_FIELD_BYTES": int(os.environ.get("CQS_CIVIL_CSV_MAX_FIELD_BYTES", 64 * 1024)),
    "CIVIL_CSV_MAX_LINE_BYTES": int(os.environ.get("CQS_CIVIL_CSV_MAX_LINE_BYTES", 1024 * 1024)),
    "CIVIL_CSV_MAX_RECORD_LINES": int(os.environ.get("CQS_CIVIL_CSV_MAX_RECORD_LINES", 20)),
    "CIVIL_IMPORT_MAX_ROWS": int(os.environ.get("CQS_CIVIL_IMPORT_MAX_ROWS", 2_000_000)),
    "CIVIL_XLSX_MAX_UNPACKED_BYTES": int(os.environ.get("CQS_CIVIL_XLSX_MAX_UNPACKED_BYTES", 1024 * 1024 * 1024)),
    "CIVIL_XLSX_MAX_RATIO": int(os.environ.get("CQS_CIVIL_XLSX_MAX_RATIO", 100)),
    # One line of `cqs import-dossiers` (docs/import-dossiers.md): a longer one is refused, read in pieces.
    "DOSSIER_IMPORT_MAX_LINE_BYTES": int(os.environ.get("CQS_DOSSIER_IMPORT_MAX_LINE_BYTES", 1024 * 1024)),
    # Sign-in throttling (accounts.services.login; docs/operations.md), counted over LOGIN_WINDOW_MINUTES:
    # wrong passwords for one account from one address before that address is refused for it,
    "LOGIN_MAX_FAILURES": 5,
    # wrong passwords from one address, whatever the accounts, before the address is refused,
    "LOGIN_IP_MAX_FAILURES": 20,
    # wrong passwords for one account from every address before each further try must wait
    # (1 s, doubling up to LOGIN_ACCOUNT_DELAY_MAX_SECONDS) — slowed, never locked for its officer.
    "LOGIN_ACCOUNT_SLOW_AFTER": 10,
    "LOGIN_ACCOUNT_DELAY_MAX_SECONDS": 60,
    "LOGIN_WINDOW_MINUTES": 15,
    # Reverse proxies in front of the app (nginx: 1); rate limits then read X-Forwarded-For (core.http.client_ip).
    "TRUSTED_PROXIES": int(os.environ.get("CQS_TRUSTED_PROXIES", 0)),
    # The data bus (exchange.bus, docs/data-bus.md): this installation's instance and member code (the
    # province's electronic identifier), the largest body a call may carry.
    "BUS_INSTANCE": os.environ.get("CQS_BUS_INSTANCE", "VN"),
    "BUS_MEMBER_CODE": os.environ.get("CQS_BUS_MEMBER_CODE", "000.00.00.H01"),
    "BUS_MAX_BODY_BYTES": int(os.environ.get("CQS_BUS_MAX_BODY_BYTES", 1_000_000)),
    # 1: each message-log entry's commit waits for the disk (exchange.bus.log.append explains why it need not).
    "BUS_LOG_SYNCHRONOUS_COMMIT": os.environ.get("CQS_BUS_LOG_SYNCHRONOUS_COMMIT") == "1",
    # How often each process looks for registry changes made by another process (the admin, a load).
    "BUS_REGISTRY_CHECK_SECONDS": float(os.environ.get("CQS_BUS_REGISTRY_CHECK_SECONDS", 5)),
    # Interconnected applications: parts of another system silent this long are asked for their status.
    "INTERCONNECT_POLL_AFTER_MINUTES": int(os.environ.get("CQS_INTERCONNECT_POLL_AFTER_MINUTES", 60)),
    # Days the message log stays in the database before the monthly job moves it to archive files
    # (BUS_LOG_ARCHIVE_DIR, kept and verifiable; 0: never). Two years: past the one-year limit for suing
    # over an administrative decision and the yearly inspection, searchable online meanwhile.
    "BUS_LOG_RETENTION_DAYS": int(os.environ.get("CQS_BUS_LOG_RETENTION_DAYS", 730)),
    # The bearer token Prometheus sends to /metrics (exchange.bus.metrics); empty: only a signed-in
    # province administrator reads it.
    "METRICS_TOKEN": os.environ.get("CQS_METRICS_TOKEN", ""),
    # National systems (exchange.national): "bus" — every call through the data bus to the provider the
    # registry names, at its *_BASE_URL (the real endpoint, or a simulator process in the demo); the old
    # value "http" means the same. "simulator" answers in-process: a test convenience, not a connector.
    "POPULATION_ADAPTER": os.environ.get("CQS_POPULATION_ADAPTER", "simulator"),
    "POPULATION_BASE_URL": os.environ.get("CQS_POPULATION_BASE_URL", ""),
    "NATIONAL_PORTAL_ADAPTER": os.environ.get("CQS_NATIONAL_PORTAL_ADAPTER", "simulator"),
    "NATIONAL_PORTAL_BASE_URL": os.environ.get("CQS_NATIONAL_PORTAL_BASE_URL", ""),
    "PAYMENT_ADAPTER": os.environ.get("CQS_PAYMENT_ADAPTER", "simulator"),
    "PAYMENT_BASE_URL": os.environ.get("CQS_PAYMENT_BASE_URL", ""),
    # Ministries' systems reached over the bus (exchange/connectors/registry/*.json name these settings as
    # their address; empty: the bus answers "not configured"): the police's residence system, Vietnam Social
    # Security, the Ministry of Justice's civil-status database, the national e-document exchange.
    "RESIDENCE_BASE_URL": os.environ.get("CQS_RESIDENCE_BASE_URL", ""),
    "SOCIAL_INSURANCE_BASE_URL": os.environ.get("CQS_SOCIAL_INSURANCE_BASE_URL", ""),
    "CIVIL_STATUS_BASE_URL": os.environ.get("CQS_CIVIL_STATUS_BASE_URL", ""),
    "EDOC_BASE_URL": os.environ.get("CQS_EDOC_BASE_URL", ""),
    # Digital signatures (signing, docs/signatures.md): the RFC 3161 time-stamp authority for PAdES-B-T/B-LT,
    # the trusted root certificates (PEM paths, separated by ":" in the environment) B-LT validates against
    # before embedding OCSP/CRL answers, the profile used when none is asked for, and the national eSign
    # gateway (remote signing over the data bus; empty: not configured).
    "SIGNING_TSA_URL": os.environ.get("CQS_SIGNING_TSA_URL", ""),
    "SIGNING_TRUST_ROOTS": [p for p in os.environ.get("CQS_SIGNING_TRUST_ROOTS", "").split(os.pathsep) if p],
    "SIGNING_DEFAULT_PROFILE": os.environ.get("CQS_SIGNING_DEFAULT_PROFILE", "B-T"),
    "SIGNING_TIMEOUT_SECONDS": float(os.environ.get("CQS_SIGNING_TIMEOUT_SECONDS", 10)),
    # Verification (/xac-thuc/, POST /api/signatures/verify; signing.verify): 1 lets it fetch OCSP/CRL answers
    # from the addresses in the certificates (a network call per check; 0: only what the file carries, B-LT),
    # and how many files one address may check a minute.
    "SIGNING_FETCH_REVOCATION": os.environ.get("CQS_SIGNING_FETCH_REVOCATION", "0") == "1",
    "SIGNING_VERIFY_PER_IP_PER_MINUTE": int(os.environ.get("CQS_SIGNING_VERIFY_PER_IP_PER_MINUTE", 20)),
    "ESIGN_BASE_URL": os.environ.get("CQS_ESIGN_BASE_URL", ""),
    # The open-data portal (opendata app, docs/opendata.md): the largest file a publisher may upload; the
    # most rows a tabular resource loads into the DataStore; cells counting fewer people than this are
    # suppressed in datasets built from personal data; DCAT catalog pages for harvesters; CKAN's rows cap.
    "OPENDATA_UPLOAD_MAX_BYTES": int(os.environ.get("CQS_OPENDATA_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)),
    "OPENDATA_DATASTORE_MAX_ROWS": int(os.environ.get("CQS_OPENDATA_DATASTORE_MAX_ROWS", 2_000_000)),
    "OPENDATA_SMALL_CELL": int(os.environ.get("CQS_OPENDATA_SMALL_CELL", 5)),
    "OPENDATA_CATALOG_PAGE_SIZE": int(os.environ.get("CQS_OPENDATA_CATALOG_PAGE_SIZE", 100)),
    "OPENDATA_MAX_ROWS": int(os.environ.get("CQS_OPENDATA_MAX_ROWS", 1000)),
    # The master person index (persons app, docs/persons.md): the linkage engine by default (duckdb, or spark
    # with the [spark] extra), the folder where DuckDB may spill to disk and the memory it may use, and the
    # number of review pairs one run may queue at most (the most uncertain first).
    "PERSONS_ENGINE": os.environ.get("CQS_PERSONS_ENGINE", "duckdb"),
    "PERSONS_WORK_DIR": os.environ.get("CQS_PERSONS_WORK_DIR", ""),
    "PERSONS_DUCKDB_MEMORY": os.environ.get("CQS_PERSONS_DUCKDB_MEMORY", "8GB"),
    "PERSONS_REVIEW_MAX": int(os.environ.get("CQS_PERSONS_REVIEW_MAX", 20_000)),
    # Spark (local mode): the driver's memory and the shuffle partitions (empty: 2 per core); the largest
    # health-records file an officer may upload.
    "PERSONS_SPARK_MEMORY": os.environ.get("CQS_PERSONS_SPARK_MEMORY", "2g"),
    "PERSONS_SPARK_PARTITIONS": os.environ.get("CQS_PERSONS_SPARK_PARTITIONS", ""),
    "PERSONS_UPLOAD_MAX_BYTES": int(os.environ.get("CQS_PERSONS_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)),
    # Crop-pest surveillance (pests app, docs/pests.md). Smart light traps publish to the MQTT broker; the
    # subscriber (`cqs pests listen`) connects with its own account and a fixed client id (a persistent
    # session: QoS 1 messages wait in the broker while it is away).
    "PESTS_MQTT_URL": os.environ.get("CQS_PESTS_MQTT_URL", "mqtt://127.0.0.1:1883"),
    "PESTS_MQTT_USERNAME": os.environ.get("CQS_PESTS_MQTT_USERNAME", ""),
    "PESTS_MQTT_PASSWORD": os.environ.get("CQS_PESTS_MQTT_PASSWORD", ""),
    "PESTS_MQTT_CLIENT_ID": os.environ.get("CQS_PESTS_MQTT_CLIENT_ID", "cqs-pests-ingest"),
    # A trap is "silent" after this many hours without a message; a message is refused when its window ends
    # more than PESTS_CLOCK_SKEW_MINUTES in the future or began more than PESTS_MAX_AGE_DAYS ago.
    "PESTS_SILENT_AFTER_HOURS": int(os.environ.get("CQS_PESTS_SILENT_AFTER_HOURS", 36)),
    "PESTS_CLOCK_SKEW_MINUTES": int(os.environ.get("CQS_PESTS_CLOCK_SKEW_MINUTES", 30)),
    "PESTS_MAX_AGE_DAYS": int(os.environ.get("CQS_PESTS_MAX_AGE_DAYS", 60)),
    # Trap messages by HTTP per device per minute.
    "PESTS_DEVICE_PER_MINUTE": int(os.environ.get("CQS_PESTS_DEVICE_PER_MINUTE", 60)),
    # Photo identification: the ONNX model and its class list (none shipped; docs/pests.md says how to
    # configure one), and the confidence under which the answer is "sent to an expert".
    "PESTS_MODEL_PATH": os.environ.get("CQS_PESTS_MODEL_PATH", ""),
    "PESTS_MODEL_CLASSES": os.environ.get("CQS_PESTS_MODEL_CLASSES", ""),
    "PESTS_ABSTAIN_BELOW": float(os.environ.get("CQS_PESTS_ABSTAIN_BELOW", 0.6)),
    # Photo submissions per caller address per minute on the farmers' page (each runs up to 5 photos).
    "PESTS_IDENTIFY_PER_IP_PER_MINUTE": int(os.environ.get("CQS_PESTS_IDENTIFY_PER_IP_PER_MINUTE", 6)),
    # Dossiers' electronic results are signed with the issuing agency's key (dossiers.results): 1 refuses to
    # issue one for an agency with no key configured; 0 issues it unsigned, and its authenticity page says so.
    "RESULTS_REQUIRE_SIGNATURE": os.environ.get("CQS_RESULTS_REQUIRE_SIGNATURE", "1") == "1",
    # 1: a finished birth, death or marriage registration is pushed to the civil-status database
    # (dossiers.civil_status_sync; which procedures: dossiers/data/civil_status_procedures.json).
    "CIVIL_STATUS_SYNC": os.environ.get("CQS_CIVIL_STATUS_SYNC", "0") == "1",
    "POPULATION_TOKEN": os.environ.get("CQS_POPULATION_TOKEN", ""),
    "NATIONAL_PORTAL_TOKEN": os.environ.get("CQS_NATIONAL_PORTAL_TOKEN", ""),
    "PAYMENT_TOKEN": os.environ.get("CQS_PAYMENT_TOKEN", ""),
    # Online payment of fees (payments app, docs/operations.md): the merchant secret the platform signs its
    # callbacks to SITE_URL + /thanh-toan/ket-qua/ with (HMAC-SHA256; no secret: every callback is refused and
    # payments are confirmed only by asking the platform), and how long an unpaid order stays open.
    "PAYMENT_SECRET": os.environ.get("CQS_PAYMENT_SECRET", ""),
    "PAYMENT_ORDER_MINUTES": int(os.environ.get("CQS_PAYMENT_ORDER_MINUTES", 30)),
    # The origin of the platform's pay pages when it is not that of PAYMENT_BASE_URL (the pay form may end there).
    "PAYMENT_PAGE_ORIGIN": os.environ.get("CQS_PAYMENT_PAGE_ORIGIN", ""),
    "NATIONAL_BACKOFF_SECONDS": float(os.environ.get("CQS_NATIONAL_BACKOFF_SECONDS", 0.2)),
    "NATIONAL_TIMEOUT_SECONDS": float(os.environ.get("CQS_NATIONAL_TIMEOUT_SECONDS", 5)),
    # Synchronous calls (an officer waits): at most one quick retry, whatever is set here.
    "NATIONAL_RETRIES": int(os.environ.get("CQS_NATIONAL_RETRIES", 1)),
    # Push each dossier's status changes to the national portal over the bus (dossiers.national_sync).
    "NATIONAL_PORTAL_SYNC": os.environ.get("CQS_NATIONAL_PORTAL_SYNC", "") in ("1", "true", "yes", "on"),
    # The outbox (exchange.outbox): one sender per channel by dotted path — a real SMS gateway in
    # production; attempts and back-off (OUTBOX_MAX_ATTEMPTS, OUTBOX_BACKOFF_SECONDS, …) may be set here.
    "OUTBOX_SENDERS": {
        "email": os.environ.get("CQS_EMAIL_SENDER", "chinhquyenso.exchange.senders.EmailSender"),
        # CQS_SMS_ADAPTER below picks the SMS gateway; CQS_SMS_SENDER (a dotted path) replaces it outright.
        "sms": os.environ.get("CQS_SMS_SENDER", "chinhquyenso.exchange.senders.sms_sender"),
    },
    # The Zalo Official Account channel of the assistant (assistant.channels, docs/national-systems.md):
    # replies go out through the outbox, "simulator" (in-process, the default) or "http" (the OA API at
    # ZALO_BASE_URL); the webhook's signature is checked with ZALO_APP_ID and ZALO_SECRET (OA secret key).
    "ZALO_ADAPTER": os.environ.get("CQS_ZALO_ADAPTER", "simulator"),
    "ZALO_BASE_URL": os.environ.get("CQS_ZALO_BASE_URL", "https://openapi.zalo.me"),
    "ZALO_ACCESS_TOKEN": os.environ.get("CQS_ZALO_ACCESS_TOKEN", ""),
    "ZALO_APP_ID": os.environ.get("CQS_ZALO_APP_ID", ""),
    "ZALO_SECRET": os.environ.get("CQS_ZALO_SECRET", ""),
    "ZALO_TIMEOUT_SECONDS": float(os.environ.get("CQS_ZALO_TIMEOUT_SECONDS", 10)),
    # Sign-in with the national identity (accounts.oidc, docs/operations.md "Đăng nhập bằng VNeID"): an
    # OpenID Connect provider (VNeID or the national portal's SSO) found by its discovery document; off while
    # OIDC_DISCOVERY_URL or OIDC_CLIENT_ID is empty. OIDC_ID_CLAIM names the claim with the 12-digit citizen ID.
    "OIDC_PROVIDER_NAME": os.environ.get("CQS_OIDC_PROVIDER_NAME", "VNeID"),
    "OIDC_DISCOVERY_URL": os.environ.get("CQS_OIDC_DISCOVERY_URL", ""),
    "OIDC_CLIENT_ID": os.environ.get("CQS_OIDC_CLIENT_ID", ""),
    "OIDC_CLIENT_SECRET": os.environ.get("CQS_OIDC_CLIENT_SECRET", ""),
    "OIDC_SCOPES": os.environ.get("CQS_OIDC_SCOPES", "openid profile"),
    "OIDC_ID_CLAIM": os.environ.get("CQS_OIDC_ID_CLAIM", "citizen_id"),
    "OIDC_NAME_CLAIM": os.environ.get("CQS_OIDC_NAME_CLAIM", "name"),
    "OIDC_TIMEOUT_SECONDS": float(os.environ.get("CQS_OIDC_TIMEOUT_SECONDS", 10)),
    # Citizens may also sign in with a password (their ID number as user name); 0 once VNeID is the way in.
    "CITIZEN_PASSWORD_LOGIN": os.environ.get("CQS_CITIZEN_PASSWORD_LOGIN", "1") == "1",
    # How long an officer's one-time "set your password" link (registration, reset) works.
    "PASSWORD_LINK_HOURS": int(os.environ.get("CQS_PASSWORD_LINK_HOURS", 48)),
    # Development SMS sender only: 1 writes message bodies (verification codes) to the log.
    "SMS_CONSOLE_BODIES": os.environ.get("CQS_SMS_CONSOLE_BODIES") == "1",
    # Citizens' SMS (exchange.senders.sms_sender, docs/operations.md "Tin nhắn SMS"): "console" (development,
    # nothing leaves), "simulator" (the local gateway process, exchange.sms_simulator) or "http" (a brandname
    # gateway at SMS_BASE_URL with SMS_TOKEN). SMS_UNACCENTED=1 sends texts without diacritics (160 characters
    # a segment instead of 70).
    "SMS_ADAPTER": os.environ.get("CQS_SMS_ADAPTER", "console"),
    "SMS_BASE_URL": os.environ.get("CQS_SMS_BASE_URL", ""),
    "SMS_TOKEN": os.environ.get("CQS_SMS_TOKEN", ""),
    "SMS_BRANDNAME": os.environ.get("CQS_SMS_BRANDNAME", "DVC"),
    "SMS_TIMEOUT_SECONDS": float(os.environ.get("CQS_SMS_TIMEOUT_SECONDS", 10)),
    "SMS_UNACCENTED": os.environ.get("CQS_SMS_UNACCENTED") == "1",
    # The other FEEDBACK_* rules (limits, escalation) are in feedback/conf.py and may be set here.
    "FEEDBACK_IOC_EMAIL": os.environ.get("CQS_FEEDBACK_IOC_EMAIL", ""),
}


# CQS_LOG_FILE: also write every log line to this file (relative: under CQS_DATA_DIR); the console
# then shows warnings and errors only.
LOG_FILE = DATA_DIR / os.environ["CQS_LOG_FILE"] if os.environ.get("CQS_LOG_FILE") else ""
LOGGING = logging_config(LOG_FILE)  # chinhquyenso.core.logs
