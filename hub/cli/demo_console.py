"""`tongban demo --console`: the web console beside the demo, on the demo's own store.

Deny by default holds here too: the demo makes one operator, `demo`, with a fresh random
password that it prints once (an operator sees personal data masked and may replay)."""
from __future__ import annotations

import secrets
import threading


def start(settings: dict, store, out) -> "ConsoleThread":
    from hub.console.app import console_settings
    from hub.console.passwords import hash_password
    conf = console_settings(settings)
    password = secrets.token_urlsafe(9)
    store.add_console_user("demo", "operator", hash_password(password))
    store.audit("tongban demo", "console.user_add", "demo", "tongban demo --console", {"role": "operator"})
    console = ConsoleThread(settings, store, conf["host"], int(conf["port"]))
    console.start()
    print(f"console: http://{conf['host']}:{conf['port']}/  user demo, password {password}", file=out, flush=True)
    return console


class ConsoleThread(threading.Thread):
    def __init__(self, settings: dict, store, host: str, port: int):
        import uvicorn
        from hub.console.app import create_app
        super().__init__(name="console", daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host=host, port=port,
                                                    log_level="warning", access_log=False))

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=10)
