"""Read Accord's configuration from the environment, typed, in one place.

Every setting Accord reads is declared in ``SETTINGS`` below and documented in
``docs/configuration.md``; a test fails when one is missing from the docs.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from accord.domain import compliance


class ConfigurationError(Exception):
    """The environment holds a value Accord cannot start with."""


# name -> one-line description (kept in step with docs/configuration.md by a test)
SETTINGS: dict[str, str] = {
    "ACCORD_DATA_DIR": "Folder for the SQLite database, the SMTP sink's mailbox, generated files.",
    "ACCORD_DATABASE_URL": "Database URL: sqlite:///path or postgresql://user:pass@host:port/name.",
    "ACCORD_SECRET_KEY": "Django secret key; required unless ACCORD_DEBUG or ACCORD_DEMO is set.",
    "ACCORD_DEBUG": "1 to run in debug mode (never in production).",
    "ACCORD_DEMO": "1 when running the demo (allows the built-in demo secret key).",
    "ACCORD_ALLOWED_HOSTS": "Comma-separated host names the web app answers to.",
    "ACCORD_PORT": "Port for `make demo` / `accord serve` (default 8000).",
    "ACCORD_TIME_ZONE": "Operator time zone for display and the default as-of date (IANA name).",
    "ACCORD_SMTP_HOST": "SMTP server host for outbound email.",
    "ACCORD_SMTP_PORT": "SMTP server port.",
    "ACCORD_SMTP_USER": "SMTP user name (optional).",
    "ACCORD_SMTP_PASSWORD": "SMTP password (optional).",
    "ACCORD_SMTP_TLS": "1 to use STARTTLS.",
    "ACCORD_EMAIL_FROM": "From address of outbound email.",
    "ACCORD_SMS_PROVIDER": "SMS provider adapter: 'fake' (demo) or 'twilio'.",
    "ACCORD_TWILIO_ACCOUNT_SID": "Twilio account SID (user name of the API's Basic auth).",
    "ACCORD_TWILIO_AUTH_TOKEN": "Twilio auth token: API password and webhook signing key.",
    "ACCORD_TWILIO_FROM": "Sender number (E.164) of outbound SMS, unless a messaging service.",
    "ACCORD_TWILIO_MESSAGING_SERVICE_SID": "Twilio messaging service that sends instead of FROM.",
    "ACCORD_TWILIO_BASE_URL": "Base URL of the Twilio-compatible API (https://api.twilio.com).",
    "ACCORD_TWILIO_TIMEOUT": "Seconds to wait for the SMS provider's answer (default 10).",
    "ACCORD_SMS_HELP_PHONE": "Phone number given in the answer to a texted HELP.",
    "ACCORD_DISPATCH_MAX_ATTEMPTS": "Send attempts of one message before it is parked (default 5).",
    "ACCORD_SECURE_COOKIES": "1 to mark session and CSRF cookies Secure (behind HTTPS).",
    "ACCORD_PUBLIC_URL": "Address customers reach Accord at; messages link to its portal.",
    "ACCORD_SPARK_MASTER": "Spark master for `accord run --engine spark` (default local[2]).",
    "ACCORD_COLLECTOR_NAME": "The debt collector's name on validation notices.",
    "ACCORD_COLLECTOR_ADDRESS": "The collector's mailing address for disputes, lines split by '|'.",
    "ACCORD_COLLECTOR_PHONE": "The collector's telephone number on validation notices.",
    "ACCORD_COLLECTOR_HOURS": "When the collector answers the phone, as printed on notices.",
    "ACCORD_COLLECTOR_EMAIL": "Address where the collector accepts disputes electronically.",
    "ACCORD_CREDITOR_NAME": "The creditor of the accounts in collection, named on notices.",
    "ACCORD_CONTACT_POLICIES": "Policy packs the live contact checks apply, comma-separated.",
    "ACCORD_OPERATOR_POLICY_FILE": "JSON file of the operator's contact settings (optional).",
}

DEMO_SECRET_KEY = "accord-demo-only-not-secret"  # noqa: S105 - refused outside demo/debug


@dataclasses.dataclass(frozen=True, kw_only=True)
class Database:
    """A parsed database URL."""

    engine: str  # "sqlite" or "postgresql"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Environment:
    """Accord's typed configuration."""

    data_dir: Path
    database: Database
    secret_key: str
    debug: bool
    demo: bool
    allowed_hosts: tuple[str, ...]
    port: int
    time_zone: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_tls: bool
    email_from: str
    sms_provider: str
    secure_cookies: bool
    public_url: str = "http://127.0.0.1:8000"
    spark_master: str = "local[2]"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_base_url: str = "https://api.twilio.com"
    twilio_timeout: float = 10.0
    sms_help_phone: str = ""
    dispatch_max_attempts: int = 5
    collector_name: str = "Accord Collections"
    collector_address: tuple[str, ...] = ("100 Example Street", "Springfield 01234")
    collector_phone: str = "+1 555 0100"
    collector_hours: str = "08:00-20:00"
    collector_email: str = ""
    creditor_name: str = ""
    contact_policies: tuple[str, ...] = ("us-reg-f",)
    operator_policy_file: str = ""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _lines(value: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (value or "").split("|") if line.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _max_attempts(env: Mapping[str, str]) -> int:
    value = _int(env, "ACCORD_DISPATCH_MAX_ATTEMPTS", 5)
    if not 1 <= value <= 50:
        raise ConfigurationError(f"ACCORD_DISPATCH_MAX_ATTEMPTS must be 1-50, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= 300:
        raise ConfigurationError(f"{name} must be between 0 and 300 seconds, got {raw!r}")
    return value


def parse_contact_policies(value: str | None) -> tuple[str, ...]:
    """Return the policy packs named in ``ACCORD_CONTACT_POLICIES`` (default ``us-reg-f``).

    Raises ``ConfigurationError`` for an unknown pack or an empty list.
    """
    if value is None or not value.strip():
        return ("us-reg-f",)
    names = tuple(dict.fromkeys(name.strip().lower() for name in value.split(",") if name.strip()))
    known = [pack.value for pack in compliance.PolicyPack]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise ConfigurationError(
            f"ACCORD_CONTACT_POLICIES names unknown policy packs {unknown}; "
            f"choose from {', '.join(known)}"
        )
    return names


def parse_database_url(url: str) -> Database:
    """Parse ``sqlite:///path`` or ``postgresql://user:pass@host:port/name``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative or sqlite:////absolute
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise ConfigurationError(f"sqlite URL needs a path: {url!r}")
        return Database(engine="sqlite", name=path)
    if parsed.scheme in {"postgres", "postgresql"}:
        name = parsed.path.lstrip("/")
        if not name:
            raise ConfigurationError(f"PostgreSQL URL needs a database name: {url!r}")
        return Database(
            engine="postgresql",
            name=unquote(name),
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            host=parsed.hostname or "",
            port=str(parsed.port or ""),
        )
    raise ConfigurationError(
        f"ACCORD_DATABASE_URL must start with sqlite:/// or postgresql://, got {parsed.scheme!r}"
    )


def load(env: Mapping[str, str] | None = None) -> Environment:
    """Build the configuration from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("ACCORD_DATA_DIR") or "var").expanduser().resolve()
    debug = _flag(env.get("ACCORD_DEBUG"))
    demo = _flag(env.get("ACCORD_DEMO"))
    secret_key = env.get("ACCORD_SECRET_KEY", "")
    if not secret_key:
        if not (debug or demo):
            raise ConfigurationError(
                "ACCORD_SECRET_KEY is not set. Set it to a long random value "
                "(or ACCORD_DEBUG=1 / ACCORD_DEMO=1 for local use only)."
            )
        secret_key = DEMO_SECRET_KEY
    url = env.get("ACCORD_DATABASE_URL") or f"sqlite:///{data_dir / 'accord.sqlite3'}"
    hosts = tuple(
        h.strip() for h in env.get("ACCORD_ALLOWED_HOSTS", "").split(",") if h.strip()
    ) or ("127.0.0.1", "localhost", "testserver")
    return Environment(
        data_dir=data_dir,
        database=parse_database_url(url),
        secret_key=secret_key,
        debug=debug,
        demo=demo,
        allowed_hosts=hosts,
        port=_int(env, "ACCORD_PORT", 8000),
        time_zone=env.get("ACCORD_TIME_ZONE") or "UTC",
        smtp_host=env.get("ACCORD_SMTP_HOST") or "127.0.0.1",
        smtp_port=_int(env, "ACCORD_SMTP_PORT", 8025),
        smtp_user=env.get("ACCORD_SMTP_USER", ""),
        smtp_password=env.get("ACCORD_SMTP_PASSWORD", ""),
        smtp_tls=_flag(env.get("ACCORD_SMTP_TLS")),
        email_from=env.get("ACCORD_EMAIL_FROM") or "Accord <collections@accord.invalid>",
        sms_provider=(env.get("ACCORD_SMS_PROVIDER") or "fake").strip().lower(),
        secure_cookies=_flag(env.get("ACCORD_SECURE_COOKIES")),
        public_url=(
            env.get("ACCORD_PUBLIC_URL") or f"http://127.0.0.1:{_int(env, 'ACCORD_PORT', 8000)}"
        ).rstrip("/"),
        spark_master=env.get("ACCORD_SPARK_MASTER") or "local[2]",
        twilio_account_sid=env.get("ACCORD_TWILIO_ACCOUNT_SID", "").strip(),
        twilio_auth_token=env.get("ACCORD_TWILIO_AUTH_TOKEN", "").strip(),
        twilio_from=env.get("ACCORD_TWILIO_FROM", "").strip(),
        twilio_messaging_service_sid=env.get("ACCORD_TWILIO_MESSAGING_SERVICE_SID", "").strip(),
        twilio_base_url=(env.get("ACCORD_TWILIO_BASE_URL") or "https://api.twilio.com").rstrip("/"),
        twilio_timeout=_seconds(env, "ACCORD_TWILIO_TIMEOUT", 10.0),
        sms_help_phone=env.get("ACCORD_SMS_HELP_PHONE", "").strip(),
        dispatch_max_attempts=_max_attempts(env),
        collector_name=env.get("ACCORD_COLLECTOR_NAME") or "Accord Collections",
        collector_address=_lines(env.get("ACCORD_COLLECTOR_ADDRESS"))
        or ("100 Example Street", "Springfield 01234"),
        collector_phone=env.get("ACCORD_COLLECTOR_PHONE") or "+1 555 0100",
        collector_hours=env.get("ACCORD_COLLECTOR_HOURS") or "08:00-20:00",
        collector_email=env.get("ACCORD_COLLECTOR_EMAIL", "").strip(),
        # No creditor is guessed outside the demo: a notice naming the wrong one misleads.
        creditor_name=(env.get("ACCORD_CREDITOR_NAME") or "").strip()
        or ("Example Bank" if demo or debug else ""),
        contact_policies=parse_contact_policies(env.get("ACCORD_CONTACT_POLICIES")),
        operator_policy_file=(env.get("ACCORD_OPERATOR_POLICY_FILE") or "").strip(),
    )
