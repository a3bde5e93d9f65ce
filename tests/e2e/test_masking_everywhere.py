"""No personal number leaves the hub whole: every `tongban` command that shows stored data,
run over a store whose dead letters carry resident IDs (18- and 15-digit, one as a JSON
number), a credit code of authority N and mobile numbers in their payloads, reasons and
headers (unmasked, as a store written before the masking knew them would hold them), and
the log of a hub run (`tongban demo`, which runs the whole hub with bad cases)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import pytest
from stdnum.cn import uscc

from tests.badinput.fakes import commerce_pool
from tests.badinput.harness import pii_in
from tests.conftest import ROOT

ID18 = "330106199003071236"
ID15 = "330106900307123"
ID_NUMBER = 330122198805121003                 # arrives as a JSON number
CODE_N = "N2330106MA2KQ8R39" + uscc.calc_check_digit("N2330106MA2KQ8R390")
CODE_9 = "91330106MA2KQ8R391"
MOBILE = "15867123490"
PLANTED = (ID18, ID15, str(ID_NUMBER), CODE_N, CODE_9, MOBILE)
_CREDIT = re.compile(r"(?<![0-9A-Za-z])[0-9ANY][0-9]\d{6}[0-9A-Z]{10}(?![0-9A-Za-z])")


def leaks(text: str) -> set[str]:
    return {p for p in PLANTED if p in text} | pii_in(text) | set(_CREDIT.findall(text))


def tongban(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def store_env(broker_url, tmp_path):
    from hub.store import Store
    url = f"sqlite:///{tmp_path / 'pii.db'}"
    store = Store.open(url)
    said = f"申请人{ID18}（旧证{ID15}），联系电话{MOBILE}，单位{CODE_N}"
    row = dict(commerce_pool(1)[0])
    row["registration"] = dict(row["registration"], uniscid=CODE_9[:-1] + "0", lerepcertno=ID18)
    row["contactPhone"] = MOBILE
    envelope = {"message_id": str(uuid.uuid4()), "payload": {"applicant": {"id_number": ID_NUMBER,
                                                                         "id_type": "resident_id", "name": "沈嘉怡",
                                                                         "phone": MOBILE, "oldId": ID15}}}
    letters = [("validate", "commerce", None, row), ("deliver", "commerce", "platform", envelope),
               ("map", "commerce", None, {"idno": ID_NUMBER, "zjh": ID15, "note": said})]
    for i, (stage, dept, dest, payload) in enumerate(letters):
        store.add_dead_letter({
            "id": str(uuid.uuid4()), "message_id": str(uuid.uuid4()), "stage": stage, "department": dept,
            "destination": dest, "record_key": f"{ID18}-{i}", "case_no": f"CASE-{i}", "attempts": 3,
            "reason": f"field id_number: {said}", "payload": json.dumps(payload, ensure_ascii=False),
            "headers": {"x-tongban-applicant": ID18, "x-tongban-phone": MOBILE, "x-code": CODE_N}})
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN")}
    env.update(TONGBAN_DB_URL=url, TONGBAN_BROKER_URL=broker_url)
    return env, [r["id"] for r in store.list_dead_letters(limit=None)]


def test_no_cli_command_shows_a_personal_number_whole(store_env):
    env, ids = store_env
    runs = [("dlq", "list"), ("dlq", "list", "--json"), ("dlq", "list", "--stage", "map"),
            *[("dlq", "show", i) for i in ids],
            ("dlq", "replay", *ids, "--reason", f"retry for {ID18} {MOBILE}"),
            ("dlq", "list", "--status", "replayed", "--json"),
            ("dlq", "show", ids[0], "--bogus-flag", ID18),            # argparse's own error quotes it
            ("dlq", "release", f"CASE-{ID18}", "--dest", "platform", "--reason", "x"),
            ("status",), ("status", "--json"), ("verify",), ("verify", "--json"),
            ("dualtrack", "status"), ("dualtrack", "report", "commerce", "--format", "json"),
            ("dualtrack", "timeline", ID18)]
    seen = []
    for args in runs:
        done = tongban(env, *args)
        out = done.stdout + done.stderr
        seen.append(" ".join(args[:2]))
        assert not leaks(out), (args, sorted(leaks(out)), out[-3000:])
    replay_out = tongban(env, "dlq", "list", "--status", "dead", "--json").stdout
    assert not leaks(replay_out)
    # the planted data is there to be found: --unmasked (the one way to see it) shows it
    shown = tongban(env, "dlq", "show", ids[-1], "--unmasked")
    assert shown.returncode == 0 and ID15 in shown.stdout and leaks(shown.stdout)


def test_replay_says_why_a_letter_stays_dead_without_the_id(store_env):
    env, ids = store_env
    done = tongban(env, "dlq", "replay", *ids, "--reason", "fixed")
    result = json.loads(done.stdout)
    whys = " ".join(s["why"] for s in result["skipped"])
    assert result["skipped"] and not leaks(whys), whys
    # Guard: replay printed str(exc), and pydantic's text quotes the input in full.
    assert "input_value" not in whys


def test_the_log_of_a_hub_run_holds_no_personal_number(broker_url):
    env = dict(os.environ, TONGBAN_BROKER_URL=broker_url, TONGBAN_LOG_LEVEL="DEBUG")
    done = subprocess.run([sys.executable, "-m", "hub.cli.main", "demo", "--cases", "8", "--bad", "2",
                           "--applications", "3", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["dead_letters"] >= 1
    assert not leaks(done.stdout + done.stderr), sorted(leaks(done.stdout + done.stderr))[:5]

