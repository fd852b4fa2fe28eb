"""Settings: defaults, environment and TOML overrides, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.errors import ConfigurationError
from idp.settings import Settings, load_settings


def test_defaults_run_on_localhost_with_sqlite() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.origin == "http://localhost:8080"
    assert settings.rp_id == "localhost"
    assert settings.database_url.startswith("sqlite://")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "portcullis.toml"
    config.write_text('base_url = "https://id.example.com"\nport = 9000\n')
    environ = {"PORTCULLIS_CONFIG": str(config), "PORTCULLIS_PORT": "9100"}
    settings = load_settings(environ)
    assert settings.base_url == "https://id.example.com"
    assert settings.port == 9100
    assert settings.rp_id == "id.example.com"
    assert settings.secure_cookies


def test_origin_keeps_the_port_and_drops_the_path() -> None:
    settings = load_settings({"PORTCULLIS_BASE_URL": "https://id.example.com:8443/auth"})
    assert settings.origin == "https://id.example.com:8443"
    assert settings.rp_id == "id.example.com"


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"PORTCULLIS_BASE_URL": "id.example.com"}, "PORTCULLIS_BASE_URL"),
        ({"PORTCULLIS_BASE_URL": "http://id.example.com"}, "PORTCULLIS_BASE_URL"),
        ({"PORTCULLIS_BASE_URL": "https://id.example.com/"}, "PORTCULLIS_BASE_URL"),
        ({"PORTCULLIS_PORT": "eighty"}, "PORTCULLIS_PORT"),
        ({"PORTCULLIS_PORT": "70000"}, "PORTCULLIS_PORT"),
        ({"PORTCULLIS_LOG_LEVEL": "LOUD"}, "PORTCULLIS_LOG_LEVEL"),
        ({"PORTCULLIS_DATABASE_URL": "mysql://db"}, "PORTCULLIS_DATABASE_URL"),
    ],
)
def test_invalid_setting_names_its_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        load_settings(environ)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "portcullis.toml"
    config.write_text('base_ulr = "https://id.example.com"\n')
    with pytest.raises(ConfigurationError, match="base_ulr"):
        load_settings({"PORTCULLIS_CONFIG": str(config)})


def test_broken_toml_names_the_config_key(tmp_path: Path) -> None:
    config = tmp_path / "portcullis.toml"
    config.write_text("base_url = \n")
    with pytest.raises(ConfigurationError, match="PORTCULLIS_CONFIG"):
        load_settings({"PORTCULLIS_CONFIG": str(config)})
