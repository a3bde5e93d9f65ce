"""Observability: Prometheus metrics, health endpoints, the dead-letter storm summary.

    metrics.py   the hub's own metrics (counters, histograms), updated by hub/runtime
    state.py     gauges read at scrape time from the store and the broker (queue depth,
                 holds, breakers, cursor lag), so every process shows one coherent picture
    exposition.py render_metrics() -> (bytes, content type), single or multi-process
    health.py    /healthz and /readyz checks
    server.py    a small WSGI app (/metrics, /healthz, /readyz) and its thread, for
                 `tongban run`; the console mounts the same app (make_app) or calls
                 render_metrics() itself
    storm.py     a dead-letter storm summarised every few seconds instead of one line each

hub/runtime imports metrics.py only (prometheus-client and nothing of the hub), so
running the hub pulls in no HTTP server."""
