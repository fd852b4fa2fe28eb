"""Operations endpoints: liveness, readiness and the Prometheus counters."""

from __future__ import annotations

import pytest
from quart.testing import QuartClient
from tortoise import Tortoise
from tortoise.exceptions import DBConnectionError


async def test_liveness_and_readiness_answer_up(client: QuartClient) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert live.status_code == ready.status_code == 200
    assert (await ready.get_json()) == {"status": "UP"}


async def test_readiness_is_down_when_the_database_fails(
    client: QuartClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = Tortoise.get_connection("default")

    async def unreachable(*_: object, **__: object) -> None:
        raise DBConnectionError("connection refused")

    monkeypatch.setattr(connection, "execute_query", unreachable)

    ready = await client.get("/health/ready")

    assert ready.status_code == 503
    assert (await ready.get_json()) == {"status": "DOWN"}


async def test_metrics_are_prometheus_text(client: QuartClient) -> None:
    metrics = await client.get("/metrics")

    text = await metrics.get_data(as_text=True)
    assert metrics.status_code == 200
    assert metrics.mimetype == "text/plain"
    assert "# TYPE portcullis_logins_total counter" in text
