"""The web layer's error pages: an unexpected exception is a themed 500 with an error id."""

from __future__ import annotations

import logging
import re

from idp.app import create_app
from idp.settings import Settings


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_unexpected_exception_is_a_themed_500_with_an_error_id_in_the_log(
    settings: Settings,
) -> None:
    application = create_app(settings)

    @application.get("/crash")
    async def crash() -> str:
        raise RuntimeError("detail only for the log")

    async with application.test_app() as test_app:
        records = _Records()
        logging.getLogger("idp.web").addHandler(records)
        try:
            answer = await test_app.test_client().get("/crash")
        finally:
            logging.getLogger("idp.web").removeHandler(records)
        html = await answer.get_data(as_text=True)

    assert answer.status_code == 500
    assert answer.mimetype == "text/html"
    assert "Internal Server Error" not in html
    assert "detail only for the log" not in html
    assert "Something went wrong on our side" in html
    error_id = re.search(r"<code>([0-9a-f]{8})</code>", html)
    assert error_id is not None, html
    crashed = [r for r in records.records if r.getMessage() == "request.crashed"]
    assert [r.error_id for r in crashed] == [error_id.group(1)]  # type: ignore[attr-defined]
    assert crashed[0].exc_info is not None
    assert str(crashed[0].exc_info[1]) == "detail only for the log"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
