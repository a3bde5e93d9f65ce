"""The overview's sources table says, per source, whether its message log is written: what
the hub's own /readyz reports (a hub whose commerce source cannot write its log rows here),
and "unknown" when no hub answers where the settings say it serves."""
from __future__ import annotations

from hub.observability import metrics, server
from tests.console.conftest import login
from tests.ports import free_port


def _row(html: str, label: str) -> str:
    table = html[html.index('<table id="sources">'):]
    table = table[:table.index("</table>")]
    return next(r for r in table.split("<tr>") if label in r)


def test_the_sources_table_shows_each_message_log_as_the_hub_reports_it(console):
    app, store, settings = console
    store.save_checkpoint("commerce:old", {"next": 7})
    store.save_checkpoint("ndrc:old", {"next": 3})
    settings["metrics_port"] = free_port()
    health = server.serve(settings)
    metrics.message_log_writable("commerce", "old", False)
    metrics.message_log_writable("ndrc", "old", True)
    try:
        html = login(app, "vic").get("/").text
        assert "NOT WRITABLE" in _row(html, "market regulation") and "forwarding stopped" in _row(html, "market regulation")
        assert "已写入 written" in _row(html, "development and reform") and "NOT WRITABLE" not in _row(html, "development and reform")
        metrics.message_log_writable("commerce", "old", True)
        html = login(app, "vic").get("/").text
        assert "已写入 written" in _row(html, "market regulation")
    finally:
        health.shutdown()
        metrics.message_log_released("commerce", "old")
        metrics.message_log_released("ndrc", "old")
    html = login(app, "vic").get("/").text          # nothing answers there now
    assert "未知 unknown" in _row(html, "market regulation") and "message-log state unknown: no hub answered" in html
