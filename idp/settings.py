"""The one typed settings object, read from the environment and an optional TOML file.

Safe defaults live here in code. A TOML file named by ``PORTCULLIS_CONFIG`` overrides them,
and ``PORTCULLIS_*`` environment variables override the file. Secrets never come from the file:
the secret key is read from (or generated into) ``secret_key_file``. Every value is validated
when loaded; a bad one stops start-up with a :class:`ConfigurationError` naming its key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from idp.errors import ConfigurationError

__all__ = ["Settings", "load_settings"]

ENV_PREFIX = "PORTCULLIS_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Portcullis needs to know at start-up.

    ``base_url`` drives every absolute URL: the WebAuthn origin and RP ID, the SAML entity IDs
    and endpoint locations, the OIDC issuer.
    """

    base_url: str = "http://localhost:8080"
    database_url: str = "sqlite://var/portcullis.sqlite3"
    redis_url: str = ""
    secret_key_file: str = "var/secret.key"
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8080
    theme: str = "default"
    enrolment_ttl_seconds: int = 24 * 3600
    transaction_ttl_seconds: int = 600
    challenge_ttl_seconds: int = 300
    sso_session_idle_seconds: int = 8 * 3600
    sso_session_max_seconds: int = 24 * 3600

    @property
    def origin(self) -> str:
        """The WebAuthn origin: scheme, host and port of ``base_url``, without a path."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def rp_id(self) -> str:
        """The WebAuthn relying party ID: the host name of ``base_url``."""
        return urlsplit(self.base_url).hostname or ""

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry ``Secure``: always, except on plain-http localhost."""
        return urlsplit(self.base_url).scheme == "https"


def load_settings(
    environ: Mapping[str, str] | None = None, *, config_file: str | None = None
) -> Settings:
    """Build :class:`Settings` from defaults, a TOML file and ``PORTCULLIS_*`` variables."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}

    path = config_file or environ.get(f"{ENV_PREFIX}CONFIG")
    if path:
        values.update(_read_toml(Path(path)))

    known = {field.name: field for field in fields(Settings)}
    for name in known:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw

    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigurationError(f"unknown setting {unknown[0]!r} in {path}")

    coerced: dict[str, Any] = {k: _coerce(k, known[k].type, v) for k, v in values.items()}
    settings = replace(Settings(), **coerced)
    _validate(settings)
    return settings


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"PORTCULLIS_CONFIG: cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"PORTCULLIS_CONFIG: {path} is not valid TOML: {exc}") from exc


def _coerce(name: str, annotation: object, value: object) -> object:
    if annotation in (int, "int"):
        try:
            return int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError) as exc:
            key = ENV_PREFIX + name.upper()
            raise ConfigurationError(f"{key}: expected an integer, got {value!r}") from exc
    if not isinstance(value, str):
        raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}: expected a string, got {value!r}")
    return value


def _validate(settings: Settings) -> None:
    base = urlsplit(settings.base_url)
    if base.scheme not in ("http", "https") or not base.hostname:
        raise ConfigurationError(
            f"PORTCULLIS_BASE_URL: expected an absolute http(s) URL, got {settings.base_url!r}"
        )
    if base.scheme == "http" and base.hostname not in ("localhost", "127.0.0.1"):
        raise ConfigurationError(
            "PORTCULLIS_BASE_URL: passkeys need https except on localhost, "
            f"got {settings.base_url!r}"
        )
    if base.query or base.fragment or settings.base_url.endswith("/"):
        raise ConfigurationError(
            "PORTCULLIS_BASE_URL: expected no trailing slash, query or fragment, "
            f"got {settings.base_url!r}"
        )
    if settings.database_url.split("://", 1)[0] not in ("sqlite", "postgres", "asyncpg"):
        raise ConfigurationError(
            "PORTCULLIS_DATABASE_URL: expected sqlite://PATH or postgres://..., "
            f"got scheme of {settings.database_url.split('://', 1)[0]!r}"
        )
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigurationError(
            f"PORTCULLIS_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, "
            f"got {settings.log_level!r}"
        )
    if not 0 < settings.port < 65536:
        raise ConfigurationError(f"PORTCULLIS_PORT: expected 1-65535, got {settings.port}")
    for name in ("enrolment_ttl_seconds", "transaction_ttl_seconds", "challenge_ttl_seconds"):
        if getattr(settings, name) <= 0:
            raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}: expected a positive number")
