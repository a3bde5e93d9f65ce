"""Every metric's labels are the allowed ones, and every value a vocabulary name: never a
case number or personal data (the label rule of hub/observability/metrics.py)."""
from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import REGISTRY

from hub.observability import exposition, metrics, state
from tests.metrics_rules import families, label_problems, value


def test_every_hub_metric_declares_only_allowed_labels():
    declared = {c._name: c._labelnames for c in (
        metrics.RECORDS_READ, metrics.MESSAGES_PUBLISHED, metrics.DELIVERIES, metrics.RETRIES, metrics.DEAD_LETTERS,
        metrics.TWINS_COMPARED, metrics.LATENCY, metrics.DELIVERY_DURATION, metrics.CAUGHT_UP,
        metrics.LOG_WRITABLE)}
    ours = {f.name for f in REGISTRY.collect() if f.name.startswith("tongban_")}
    assert ours <= {n.removesuffix("_total") for n in declared}, "a metric outside metrics.py's list"
    for name, labels in declared.items():
        assert set(labels) <= set(metrics.LABELS), (name, labels)


class _Store:
    def breakers(self):
        return [{"destination": "platform", "state": "open"}]

    def hold_summary(self):
        return {"platform": {"retrying": 2, "dead": 1, "parked": 5}, "commerce.new": {"waiting": 1}}


def test_state_gauges_use_only_allowed_labels_and_read_the_store():
    fams = state.store_families(_Store(), ["platform", "province"])
    fams.append(state.lag_family({("commerce", "old"): 100.0}, now=130.0))
    for fam in fams:
        for s in fam.samples:
            assert set(s.labels) <= set(metrics.LABELS), (s.name, s.labels)
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in fams for s in f.samples}
    assert got[("tongban_breaker_state", (("destination", "platform"),))] == 2
    assert got[("tongban_breaker_state", (("destination", "province"),))] == 0
    assert got[("tongban_held_cases_retrying", (("destination", "platform"),))] == 2
    assert got[("tongban_parked_messages", (("destination", "platform"),))] == 5
    assert got[("tongban_held_cases_waiting", (("destination", "commerce.new"),))] == 1
    assert got[("tongban_source_lag_seconds", (("department", "commerce"), ("track", "old")))] == 30


def test_queue_names_map_to_their_destination(monkeypatch):
    listed = [{"name": n, "messages_ready": 3, "messages_unacknowledged": 1} for n in (
        "tongban.to.platform.0of4", "tongban.to.platform.1of4", "tongban.to.commerce.new.2of4", "tongban.to.province",
        "tongban.delay.platform.5s", "tongban.delay.platform.5m", "tongban.dead", "tongban.lock.to.platform.0of4")]
    monkeypatch.setattr(state, "_queues", lambda url: listed)
    got = {(s.name, tuple(s.labels.values())): s.value for f in state.queue_families("amqp://x") for s in f.samples}
    assert got[("tongban_queue_messages", ("platform",))] == 8
    assert got[("tongban_queue_messages", ("commerce.new",))] == 4
    assert got[("tongban_queue_messages", ("province",))] == 4
    assert got[("tongban_retry_queue_messages", ("platform",))] == 8
    assert got[("tongban_dead_letter_queue_messages", ())] == 4


def test_the_rule_check_catches_a_case_number_and_a_foreign_label():
    bad = ('# TYPE tongban_x_total counter\ntongban_x_total{case_no="C-2026-0001"} 1\n'
           '# TYPE tongban_y_total counter\ntongban_y_total{department="张三"} 1\n')
    problems = label_problems(bad, {"C-2026-0001"})
    assert any("case_no" in p for p in problems) and any("张三" in p for p in problems)
    assert any("appears in /metrics" in p for p in problems)


def test_counts_move_and_the_exposition_parses():
    before = families(exposition.render_metrics(None)[0].decode())
    metrics.source_page("commerce", "old", 7, 6, caught_up=True)
    metrics.delivery_batch("platform", {("commerce", "old"): 5}, retried=2)
    metrics.dead_letter("commerce", None, "validate")
    metrics.delivered_one("platform", 0.01, produced=None)
    metrics.compared([SimpleNamespace(department="commerce", verdict="mismatch")])
    text = exposition.render_metrics(None)[0].decode()
    after = families(text)
    moved = {n: value(after, n, **lb) - value(before, n, **lb) for n, lb in (
        ("tongban_records_read_total", {"department": "commerce"}),
        ("tongban_messages_published_total", {"department": "commerce"}),
        ("tongban_deliveries_total", {"destination": "platform"}),
        ("tongban_retries_total", {"destination": "platform"}),
        ("tongban_dead_letters_total", {"stage": "validate"}),
        ("tongban_delivery_duration_seconds_count", {"destination": "platform"}),
        ("tongban_twins_compared_total", {"verdict": "mismatch"}))}
    assert moved == {"tongban_records_read_total": 7, "tongban_messages_published_total": 6,
                     "tongban_deliveries_total": 5, "tongban_retries_total": 2, "tongban_dead_letters_total": 1,
                     "tongban_delivery_duration_seconds_count": 1, "tongban_twins_compared_total": 1}
    assert not label_problems(text)
