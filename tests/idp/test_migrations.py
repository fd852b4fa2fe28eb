"""The committed migrations describe the models exactly: nothing is left to generate."""

from __future__ import annotations

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from idp.app import tortoise_config_for
from idp.settings import Settings


async def test_models_and_committed_migrations_agree(settings: Settings) -> None:
    config = tortoise_config_for(settings)
    config["connections"] = {"default": "sqlite://:memory:"}
    async with tortoise_cli_context(config) as context:
        assert context.apps is not None
        writers = await MigrationAutodetector(context.apps, config["apps"]).changes()
    pending = {writer.app_label: [str(op) for op in writer.operations] for writer in writers}
    assert pending == {}, "a model changed without a migration: run `make migrations`"
