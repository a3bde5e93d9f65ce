"""A private three-node RabbitMQ cluster on this machine, for tests that stop broker nodes.

Stopping a node of the shared broker (rabbit@localhost, 5672) would break every other test
run on the machine, so the cluster is three nodes of its own, modelled on
tests/reliability/broker_node.py: own node names (tbc<pid>n<seq><a|b|c>@localhost), AMQP
and distribution ports, data directories, no plugins. They share the Erlang cookie of the
rabbitmq user (/var/lib/rabbitmq/.erlang.cookie) because nodes can only cluster with the
same cookie; the main node has that cookie too, which is why nothing here ever names it.

    with cluster3() as c:          # about 15 s on two cores
        c.urls, c.failover_url     # one vhost of its own, guest allowed
        c.stop_node(2); c.start_node(2)

Everything is stopped and deleted on the way out, whatever happens; nodes left behind by a
run that was SIGKILLed are stopped by the next one (their owner pid is gone)."""
from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from tests.ports import free_port, port_open

PREFIX = "tbc"
_seq = itertools.count()




def available() -> str | None:
    """Why a private cluster cannot be started here, or None when it can."""
    for tool in ("rabbitmqctl", "rabbitmq-server", "epmd"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    return None


class Node:
    def __init__(self, name: str, workdir: str):
        self.name, self.workdir = name, workdir
        self.port, self.dist = free_port(), free_port()
        with open(os.path.join(workdir, "rabbitmq.conf"), "w") as fh:
            fh.write(f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n")
        with open(os.path.join(workdir, "enabled_plugins"), "w") as fh:
            fh.write("[].\n")
        # the packaged wrapper runs the server as the rabbitmq user, which must own all this
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", workdir], check=False, capture_output=True)
        os.chmod(workdir, 0o755)
        self.env = dict(os.environ, RABBITMQ_NODENAME=name, RABBITMQ_NODE_PORT=str(self.port),
                        RABBITMQ_DIST_PORT=str(self.dist),
                        RABBITMQ_CONFIG_FILE=os.path.join(workdir, "rabbitmq"),
                        RABBITMQ_MNESIA_BASE=os.path.join(workdir, "mnesia"),
                        RABBITMQ_LOG_BASE=os.path.join(workdir, "log"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(workdir, "enabled_plugins"),
                        RABBITMQ_PID_FILE=os.path.join(workdir, "pid"),
                        # four VMs on two cores: schedulers that spin when idle steal the CPU
                        # the hub under test needs
                        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none")
        self.app_running = False

    def __repr__(self) -> str:
        return f"<Node {self.name} :{self.port} {'up' if self.app_running else 'down'}>"

    def ctl(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(["rabbitmqctl", "-n", self.name, *args], capture_output=True, text=True,
                                  timeout=timeout, check=True)
        except subprocess.CalledProcessError as e:
            raise RuntimeError(f"rabbitmqctl -n {self.name} {' '.join(args)}: {e.stderr or e.stdout}") from e

    # the Erlang VM ---------------------------------------------------------------------
    def boot(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, capture_output=True,
                       timeout=60)
        # -detached returns before the VM registers with epmd; await_startup gives up on a
        # node it cannot find, so wait for the name first
        short = self.name.split("@")[0]
        deadline = time.monotonic() + 60
        while f"name {short} at port" not in subprocess.run(["epmd", "-names"], capture_output=True,
                                                              text=True).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not register with epmd; see {self.workdir}/log")
            time.sleep(0.2)
        self.ctl("await_startup", "--timeout", "90", timeout=120)
        self.app_running = True

    def halt(self) -> None:
        """Stop the VM and wait for its process to end (the pid file argument makes stop wait)."""
        pidfile = self.env["RABBITMQ_PID_FILE"]
        subprocess.run(["rabbitmqctl", "-n", self.name, "stop", pidfile], capture_output=True, timeout=120)
        self.app_running = False

    # the rabbit application inside it ---------------------------------------------------
    def stop_app(self) -> None:
        self.ctl("stop_app")
        self.app_running = False

    def start_app(self) -> None:
        self.ctl("start_app")   # returns once the app has started
        self.app_running = True

    def url(self, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{vhost}"


class Cluster:
    def __init__(self, nodes: list[Node]):
        self.nodes = nodes
        self.vhost = ""

    @property
    def urls(self) -> list[str]:
        return [n.url(self.vhost) for n in self.nodes]

    @property
    def failover_url(self) -> str:
        """All three as one kombu failover URL, starting at node a."""
        return ";".join(self.urls)

    def new_vhost(self) -> str:
        """A fresh vhost (on whichever node is up: vhosts are cluster-wide), guest allowed."""
        node = next(n for n in self.nodes if n.app_running)
        vhost = f"tongban-cluster-{uuid.uuid4().hex[:8]}"
        node.ctl("add_vhost", vhost)
        node.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        self.vhost = vhost
        return vhost

    def stop_node(self, i: int, full: bool = False) -> None:
        """Stop node i's broker (stop_app; full=True stops its Erlang VM as well)."""
        node = self.nodes[i]
        node.halt() if full else node.stop_app()
        deadline = time.monotonic() + 30
        while port_open(node.port) and time.monotonic() < deadline:
            time.sleep(0.1)

    def start_node(self, i: int) -> None:
        """Start node i again; it rejoins the cluster from its own data directory."""
        node = self.nodes[i]
        if subprocess.run(["rabbitmqctl", "-n", node.name, "ping"], capture_output=True,
                          timeout=60).returncode == 0:
            node.start_app()
        else:
            node.boot()

    def ensure_all_up(self) -> None:
        for i, node in enumerate(self.nodes):
            if not node.app_running:
                self.start_node(i)

    def cluster_status(self) -> str:
        return next(n for n in self.nodes if n.app_running).ctl("cluster_status").stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def reap_orphans() -> None:
    """Stop nodes of ours whose test process is gone (a run that was killed before its finally)."""
    names = subprocess.run(["epmd", "-names"], capture_output=True, text=True).stdout
    for name in re.findall(rf"^name ({PREFIX}(\d+)n\d+[abc]) at port", names, re.M):
        if not _alive(int(name[1])):
            subprocess.run(["rabbitmqctl", "-n", f"{name[0]}@localhost", "stop"], capture_output=True,
                           timeout=120)
    tmp = tempfile.gettempdir()
    for entry in os.listdir(tmp):
        m = re.match(rf"{PREFIX}(\d+)n\d+-", entry)
        if m and not _alive(int(m.group(1))):
            shutil.rmtree(os.path.join(tmp, entry), ignore_errors=True)


@contextmanager
def cluster3():
    reason = available()
    if reason:
        raise RuntimeError(reason)
    reap_orphans()
    base = f"{PREFIX}{os.getpid()}n{next(_seq)}"
    workdir = tempfile.mkdtemp(prefix=f"{base}-")
    nodes: list[Node] = []
    try:
        for letter in "abc":
            sub = os.path.join(workdir, letter)
            os.mkdir(sub)
            nodes.append(Node(f"{base}{letter}@localhost", sub))
        os.chmod(workdir, 0o755)
        with ThreadPoolExecutor(3) as pool:   # boots in parallel: ~5 s each, mostly waiting
            list(pool.map(Node.boot, nodes))
        for node in nodes[1:]:   # one at a time: two joins at once may race on the schema
            node.stop_app()
            node.ctl("join_cluster", nodes[0].name)
            node.start_app()
        cluster = Cluster(nodes)
        cluster.new_vhost()
        yield cluster
    finally:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(Node.halt, nodes))
        if not os.environ.get("TONGBAN_CLUSTER_KEEP"):   # set it to read the nodes' logs afterwards
            shutil.rmtree(workdir, ignore_errors=True)
