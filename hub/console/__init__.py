"""The web console (`tongban console`): server-rendered pages over the store and the
RabbitMQ management API, for operators (dead letters, holds, queues), the handover team
(dual-track) and admins (users, unmasked views).

It reads through hub/ops and the store, never the bus directly (DESIGN.md), and changes
nothing the CLI could not: replay, release, purge, cutover and rollback are the hub/ops and
hub/dualtrack functions the CLI calls, with the console's user as the actor.

    app.py        the Starlette app: routes, static files, a hook for /metrics
    web.py        the guard every route goes through: session, role, CSRF
    sessions.py   login, lock-out, logout;  passwords.py  argon2;  roles.py  who may do what
    views/        one module per page;  charts.py  server-rendered SVG;  labels.py  the words
"""
