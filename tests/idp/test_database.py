"""Database URLs: SQLite gets its folder and WAL-appropriate syncing; others pass unchanged."""

from __future__ import annotations

from pathlib import Path

from idp.database import tortoise_config


def _url(database_url: str) -> str:
    return str(tortoise_config(database_url, {})["connections"]["default"])


def test_sqlite_folder_is_created_and_synchronous_normal_added(tmp_path: Path) -> None:
    url = _url(f"sqlite://{tmp_path}/var/portcullis.sqlite3")
    assert (tmp_path / "var").is_dir()
    assert url == f"sqlite://{tmp_path}/var/portcullis.sqlite3?synchronous=NORMAL"


def test_explicit_synchronous_is_kept(tmp_path: Path) -> None:
    url = _url(f"sqlite://{tmp_path}/p.sqlite3?synchronous=FULL&journal_size_limit=1")
    assert url.endswith("?synchronous=FULL&journal_size_limit=1")


def test_postgres_url_is_unchanged() -> None:
    assert _url("postgres://u:p@db:5432/idp") == "postgres://u:p@db:5432/idp"
