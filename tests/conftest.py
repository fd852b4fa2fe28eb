"""Fixtures shared by every test: settings, a fresh database, a started app and its client.

Each test gets a database of its own: an SQLite file under ``tmp_path`` by default, or a new
PostgreSQL database when ``PORTCULLIS_TEST_DATABASE_URL`` names a server (``postgres://...``);
CI runs the suite both ways.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from idp.app import create_app, tortoise_config_for
from idp.database import close_database, migrate_database, open_database
from idp.settings import Settings

BASE_URL = "http://localhost:8080"


async def _create_postgres_database(server_url: str) -> tuple[str, str]:
    import asyncpg

    name = "portcullis_test_" + secrets.token_hex(6)
    connection = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    parts = urlsplit(server_url)
    return name, urlunsplit(parts._replace(path="/" + name))


async def _drop_postgres_database(server_url: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty database that exists for this test only."""
    server = os.environ.get("PORTCULLIS_TEST_DATABASE_URL", "")
    if not server:
        yield f"sqlite://{tmp_path}/portcullis.sqlite3"
        return
    name, url = await _create_postgres_database(server)
    try:
        yield url
    finally:
        await _drop_postgres_database(server, name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a test: localhost base URL, its own database and secret key."""
    return Settings(
        base_url=BASE_URL,
        database_url=database_url,
        redis_url=os.environ.get("PORTCULLIS_TEST_REDIS_URL", ""),
        secret_key_file=str(tmp_path / "secret.key"),
        log_level="WARNING",
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The database migrated and open, without a web app (for tests of the logic)."""
    config = tortoise_config_for(settings)
    await migrate_database(config)
    await open_database(config)
    try:
        yield
    finally:
        await close_database()


@pytest.fixture
async def app(settings: Settings):  # type: ignore[no-untyped-def]
    """The Portcullis app, started (database migrated, master realm created)."""
    from idp.directory import create_realm

    application = create_app(settings)
    async with application.test_app() as test_app:
        await create_realm("master")
        yield test_app.app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A Quart test client that keeps cookies, like one browser."""
    return app.test_client()
