"""A RabbitMQ node the broker-restart tests may stop and start.

`rabbitmqctl stop_app` stops a whole node, every vhost on it: on a machine where other
test runs (or the demo) use the main node, restarting it would break them. So these
tests start a node of their own (its own name, port and data directory, no plugins;
about three seconds) and restart that one. Where a second node cannot be started,
TONGBAN_FAULTS_BROKER=shared makes them restart the main node instead: then nothing
else may use it meanwhile (the tests are marked `exclusive_broker`; run them alone).
Whatever happens, the node is started again (`finally`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from tests.ports import free_port, port_open

SHARED = os.environ.get("TONGBAN_FAULTS_BROKER", "private") == "shared"




class BrokerNode:
    def __init__(self, node: str, port: int, workdir: str | None = None):
        self.node, self.port, self.workdir = node, port, workdir
        self.vhosts: list[str] = []

    # --- control -------------------------------------------------------------------
    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["rabbitmqctl", "-n", self.node, *args], capture_output=True, text=True,
                              timeout=timeout, check=True)

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_open(self.port):
                return
            time.sleep(0.2)
        raise RuntimeError(f"RabbitMQ node {self.node} did not listen on {self.port} within {timeout}s")

    @contextmanager
    def down(self):
        """The node's broker stopped for the duration of the block, started again whatever happens."""
        try:
            self.stop_app()
            yield
        finally:
            self.start_app()

    def add_vhost(self) -> str:
        vhost = f"tongban-faults-{uuid.uuid4().hex[:8]}"
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        self.vhosts.append(vhost)
        return vhost

    def url(self, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{vhost}"

    # --- lifecycle -----------------------------------------------------------------
    @classmethod
    def start(cls) -> "BrokerNode":
        if SHARED:
            return cls("rabbit@localhost", 5672)
        name = f"tbfaults{os.getpid()}"
        workdir = tempfile.mkdtemp(prefix=f"{name}-")
        port, dist = free_port(), free_port()
        with open(os.path.join(workdir, "rabbitmq.conf"), "w") as fh:
            fh.write(f"listeners.tcp.default = 127.0.0.1:{port}\nloopback_users = none\n")
        with open(os.path.join(workdir, "enabled_plugins"), "w") as fh:
            fh.write("[].\n")
        # The server runs as the rabbitmq user (the packaged wrapper switches to it).
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", workdir], check=False, capture_output=True)
        os.chmod(workdir, 0o755)
        env = dict(os.environ, RABBITMQ_NODENAME=f"{name}@localhost", RABBITMQ_NODE_PORT=str(port),
                   RABBITMQ_DIST_PORT=str(dist), RABBITMQ_CONFIG_FILE=os.path.join(workdir, "rabbitmq"),
                   RABBITMQ_MNESIA_BASE=os.path.join(workdir, "mnesia"),
                   RABBITMQ_LOG_BASE=os.path.join(workdir, "log"),
                   RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(workdir, "enabled_plugins"),
                   RABBITMQ_PID_FILE=os.path.join(workdir, "pid"))
        subprocess.run(["rabbitmq-server", "-detached"], env=env, check=True, capture_output=True, timeout=60)
        node = cls(f"{name}@localhost", port, workdir)
        try:
            node.wait_ready()
            # the listener opens before the app is fully up; this returns once it is
            node.ctl("await_startup", "--timeout", "60", timeout=90)
        except BaseException:
            node.stop()
            raise
        return node

    def stop(self) -> None:
        if self.workdir is None:   # the shared node: leave it running, only drop our vhosts
            for vhost in self.vhosts:
                subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)
            return
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], capture_output=True, timeout=120)
        if not os.environ.get("TONGBAN_FAULTS_KEEP_NODE"):   # set it to read the node's log afterwards
            shutil.rmtree(self.workdir, ignore_errors=True)


def available() -> str | None:
    """Why the tests cannot restart a broker here, or None when they can."""
    if shutil.which("rabbitmqctl") is None or (not SHARED and shutil.which("rabbitmq-server") is None):
        return "rabbitmqctl / rabbitmq-server not installed"
    return None
