"""docs/adding-an-adapter.md, run: every ```sh tutorial block, in order, in an empty folder, as a
new integrator would type it, then the outcome: the fifth department's records delivered to the
platform and the province (issue 12 item 5). The page cannot rot without this failing.

What the test gives that a person's machine has already: a virtualenv of its own (so that
`pip install -e` does not install the package into the shared one), seeing the hub's packages;
settings for this machine (TONGBAN_CONFIG: the test session's RabbitMQ vhost, a fresh store, free
ports for the simulators, the other departments' adapters off so that only the fifth is
reconciled); and the page's fixed ports replaced by free ones, so that it runs beside a demo.
A command ending in `&` runs in the background and counts as started when it has printed its
first line; each command sees the variables the ones before it exported."""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import yaml

from hub.config import load_settings
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "adding-an-adapter.md"
BLOCK = re.compile(r"^```sh tutorial\n(.*?)^```", re.S | re.M)
PAGE_PORTS = {"18100": "socialsec", "18082": "platform", "18083": "province"}


def commands(text: str) -> list[str]:
    out = []
    for block in BLOCK.findall(text):
        for cmd in re.sub(r"\\\n\s*", " ", block).splitlines():
            if cmd.strip() and not cmd.strip().startswith("#"):
                out.append(cmd.strip())
    return out


def _venv(tmp: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "hub-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")   # the hub's own packages
    tongban = venv / "bin" / "tongban"
    tongban.write_text(f'#!/bin/sh\nexec "{venv}/bin/python" -m hub.cli.main "$@"\n')
    tongban.chmod(0o755)
    return venv


def _settings(tmp: Path, broker_url: str, ports: dict[str, int]) -> Path:
    s = load_settings()
    s.update(broker_url=broker_url, db_url=f"sqlite:///{tmp / 'hub.db'}", metrics_port=0)
    for name in list(s["adapters"]):
        s["adapters"][name]["enabled"] = False
    for key in list(s["sims"]):
        if key.endswith("_port"):
            s["sims"][key] = ports.get(key[:-5]) or free_port()
    s["destinations"]["platform"]["url"] = f"http://127.0.0.1:{ports['platform']}"
    s["destinations"]["province"]["wsdl"] = f"http://127.0.0.1:{ports['province']}/ws/report?wsdl"
    s["catalogue"]["url"] = f"http://127.0.0.1:{s['sims']['catalogue_port']}"
    s["consumer"].update(backoff_initial=0.2, backoff_max=1.0)
    path = tmp / "machine.yaml"
    path.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
    return path


class Shell:
    """Runs one command at a time in bash; exported variables and the folder carry over."""

    def __init__(self, work: Path, env: dict):
        self.work, self.env, self.state = work, env, work.parent / "state.sh"
        self.state.write_text(f"cd {shlex.quote(str(work))}\n")
        self.background: list[subprocess.Popen] = []
        self.timings: list[tuple[str, float]] = []

    def run(self, cmd: str) -> str:
        started = time.monotonic()
        if cmd.endswith("&"):
            out = self._background(cmd[:-1].strip())
        else:
            script = (f"set -eo pipefail; source {self.state}\n{cmd}\nrc=$?; "
                      f"{{ export -p; echo cd {shlex.quote(str(self.work))}; echo cd \"$(pwd)\"; }} > {self.state}.new; "
                      f"mv {self.state}.new {self.state}; exit $rc")
            done = subprocess.run(["bash", "-c", script], env=self.env, capture_output=True, text=True, timeout=600)
            out = done.stdout + done.stderr
            assert done.returncode == 0, f"`{cmd}` exited {done.returncode}:\n{out[-4000:]}"
        self.timings.append((cmd, time.monotonic() - started))
        return out

    def _background(self, cmd: str) -> str:
        log = self.work.parent / f"background-{len(self.background)}.log"
        proc = subprocess.Popen(["bash", "-c", f"source {self.state}\nexec {cmd}"], env=self.env,
                                stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.background.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8", errors="replace")
            if "\n" in text:
                return text
            assert proc.poll() is None, f"`{cmd}` ended at once:\n{text[-3000:]}"
            time.sleep(0.1)
        raise AssertionError(f"`{cmd}` printed nothing in 60 s")

    def stop(self) -> None:
        for proc in self.background:          # only what this test started, by its own ids
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.background:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_the_page_has_commands_for_every_step():
    cmds = commands(PAGE.read_text(encoding="utf-8"))
    assert cmds[0].startswith("tongban adapters new socialsec --style rest")
    for needed in ("pip install -e tongban-socialsec", "tongban mapping try", "tongban run &", "tongban verify"):
        assert any(c.startswith(needed) for c in cmds), needed


def test_the_tutorial_runs_from_nothing_to_records_on_the_platform_and_province(tmp_path, broker_url):
    ports = {name: free_port() for name in PAGE_PORTS.values()}
    work = tmp_path / "socialsec"
    work.mkdir()
    venv = _venv(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(ROOT), VIRTUAL_ENV=str(venv),
               TONGBAN_CONFIG=str(_settings(tmp_path, broker_url, ports)), PIP_DISABLE_PIP_VERSION_CHECK="1")
    shell = Shell(work, env)
    outputs = {}
    try:
        for cmd in commands(PAGE.read_text(encoding="utf-8")):
            for port, name in PAGE_PORTS.items():
                cmd = cmd.replace(port, str(ports[name]))
            outputs[cmd.split(" --")[0]] = shell.run(cmd)
    finally:
        shell.stop()
        subprocess.run(["bash", "-c", "tongban sims down"], env=env, capture_output=True, timeout=60)
        print("\n".join(f"{seconds:6.1f} s  {cmd}" for cmd, seconds in shell.timings))
    verified = outputs["tongban verify"]
    assert "OK: every expected message arrived once" in verified, verified
    assert re.search(r"socialsec\s+platform 9/9\s+province 3/3", verified), verified
    stats = [v for k, v in outputs.items() if k.startswith("curl")]
    assert '"accepted": 9' in stats[0] and '"accepted": 3' in stats[1], stats
    tried = next(v for k, v in outputs.items() if k.startswith("tongban mapping try"))
    assert "materials.1.reused_certificate" in tried and "ok" in tried.splitlines()
    assert (work / "tongban-socialsec" / "docs" / "socialsec.case_event.md").exists()
