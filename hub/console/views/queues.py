"""队列 Queues: depth, ready/unacked, rates and consumers per destination and partition,
retry queues, and the dead-letter / unrouted / comparison queues (hub/ops/queues.py)."""
from __future__ import annotations

from hub.ops.queues import grouped_queues

from ..web import console_of, route


def queues(request, user, form):
    ctx = console_of(request)
    return ctx.render(request, user, "queues.html", q=grouped_queues(ctx.settings, ctx.store))


def routes():
    return [route("/queues", queues)]
