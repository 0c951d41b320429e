# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input, table-driven: each row is answered with a clear message naming the bad value, and nothing is written.

All rows run as tasks of one ansible-playbook at -vvvv, with recognisable secrets in the process environment
(as AWX injects them); neither the secret key nor the token may appear anywhere in the output.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from e2e_support import read_results, result_log_settings  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

SECRET_KEY = "CanarySecretKey7f3a9c0000000000"
TOKEN = "CanaryToken-5d1e8b-0000"
SECRET_ID = "AKIDCANARY00000000000000000000000000"

OK_INSTANCES = ["ins-a1000004"]
OK_KEYS = ["skey-k1000003"]
NO_CREDENTIALS = {"TENCENTCLOUD_SECRET_ID": "", "TENCENTCLOUD_SECRET_KEY": "", "TENCENTCLOUD_SECURITY_TOKEN": ""}


def row(name, fragments, environment=None, **args):
    module_args = {"instance_ids": OK_INSTANCES, "key_ids": OK_KEYS}
    module_args.update(args)
    module_args = {k: v for k, v in module_args.items() if v is not ...}
    return name, module_args, fragments, environment


ROWS = [
    row("short instance id", ["'ins-1122'", "8 lowercase letters or digits"], instance_ids=["ins-1122"]),
    row("seven-char instance id", ["'ins-1e4r6y8'"], instance_ids=["ins-1e4r6y8"]),
    row("nine-char instance id", ["'ins-1e4r6y8ii'"], instance_ids=["ins-1e4r6y8ii"]),
    row("upper-case instance id", ["'INS-1E4R6Y8I'"], instance_ids=["INS-1E4R6Y8I"]),
    row("upper-case instance body", ["'ins-1E4R6Y8I'"], instance_ids=["ins-1E4R6Y8I"]),
    row("aws-style instance id", ["'i-0abc12345'"], instance_ids=["i-0abc12345"]),
    row("foreign-prefix instance id", ["'vm-1e4r6y8i'"], instance_ids=["vm-1e4r6y8i"]),
    row("key id given as instance id", ["'skey-k1000003'", "skey-k1000003 looks like key_ids: did you swap"], instance_ids=["skey-k1000003"]),
    row("empty-string instance id", ["''"], instance_ids=[""]),
    row("instance id with a space", ["'ins-a1000004 '"], instance_ids=["ins-a1000004 "]),
    row("several bad instance ids named together", ["'ins-1'", "'ins-2'"], instance_ids=["ins-1", "ins-a1000004", "ins-2"]),
    row("empty instance list", ["instance_ids is empty"], instance_ids=[]),
    row("missing instance_ids", ["instance_ids"], instance_ids=...),
    row("present with empty key list", ["key_ids is empty"], key_ids=[]),
    row("present with no keys option", ["key_ids"], key_ids=...),
    row("short key id", ["'skey-1122'"], key_ids=["skey-1122"]),
    row("upper-case key id", ["'SKEY-K1000003'"], key_ids=["SKEY-K1000003"]),
    row("instance id given as key id", ["'ins-a1000004'", "ins-a1000004 looks like instance_ids: did you swap"], key_ids=["ins-a1000004"]),
    row("foreign-prefix key id", ["'key-k1000003'"], key_ids=["key-k1000003"]),
    row("more than 100 keys", ["101 keys", "at most 100"], key_ids=["skey-%08d" % n for n in range(101)]),
    row("unknown option", ["instance_id"], instance_id="ins-a1000004"),
    row("another unknown option", ["keys"], keys=["skey-k1000003"]),
    row("wait_timeout not a number", ["wait_timeout", "soon"], wait_timeout="soon"),
    row("force_stop not a boolean", ["force_stop", "maybe"], force_stop="maybe"),
    row("instance_ids as a mapping", ["instance_ids"], instance_ids={"ins-a1000004": 1}),
    row("state not a choice", ["state", "bound"], state="bound"),
    row("zero wait_timeout", ["wait_timeout", "got 0"], wait_timeout=0),
    row("negative wait_timeout", ["wait_timeout", "got -5"], wait_timeout=-5),
    row("zero request_timeout", ["request_timeout", "got 0"], request_timeout=0),
    row("zero api_deadline", ["api_deadline must be a whole number of seconds from 1 to 86400 (one day), got 0."], api_deadline=0),
    row("exclusive with absent", ["exclusive=true only applies to state=present"], state="absent", exclusive=True),
    row("endpoint with a foreign scheme", ["'ftp://127.0.0.1'"], endpoint="ftp://127.0.0.1"),
    row("endpoint with a bad port", ["'http://127.0.0.1:99999'"], endpoint="http://127.0.0.1:99999"),
    row("endpoint with a path", ["'http://127.0.0.1:8400/v2'"], endpoint="http://127.0.0.1:8400/v2"),
    row("endpoint that is not a host", ["'not a host'"], endpoint="not a host"),
    row("malformed region", ["'Guangzhou'"], region="Guangzhou"),
    row("unknown region", ["'ap-atlantis'", "UnsupportedRegion"], region="ap-atlantis"),
    row("missing credentials", ["No Tencent Cloud credentials found", "TENCENTCLOUD_SECRET_ID"], environment=NO_CREDENTIALS),
    row("half a key", ["secret_key (TENCENTCLOUD_SECRET_KEY) is missing"], environment=NO_CREDENTIALS, secret_id=SECRET_ID),
    row("wrong secret", ["AuthFailure.SignatureFailure", "secret_key"], secret_key="WrongSecretKey00000000000000000"),
    row("unknown secret id", ["AuthFailure.SecretIdNotFound", "secret_id"], secret_id="AKIDUNKNOWN0000000000000000000000000"),
    row("expired or bad token", ["AuthFailure.TokenFailure", "security_token"], security_token="ExpiredToken-0000"),
    row("missing token", ["AuthFailure.TokenFailure", "security_token"], environment={"TENCENTCLOUD_SECURITY_TOKEN": ""}),
    row("missing ca_bundle file", ["'/nonexistent/ca.pem'"], ca_bundle="/nonexistent/ca.pem"),
    row("unknown instance", ["ins-zzzzzzzz", "not found"], instance_ids=["ins-a1000004", "ins-zzzzzzzz"]),
    row("unknown key", ["skey-zzzzzzzz", "not found"], key_ids=["skey-zzzzzzzz"]),
]


# One worker runs every row: the table is one playbook run (a minute of ansible time), made once per worker that needs it.
pytestmark = pytest.mark.xdist_group("bad_input_table")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory, collections_path):
    """Run every row once, as one playbook at -vvvv; returns (results by row name, stdout, stderr, emulator request log)."""
    tmp = tmp_path_factory.mktemp("bad-input")
    tasks = []
    for name, args, _fragments, environment in ROWS:
        task = {"name": name, "tencentcloud.cvm.cvm_keypair_association": args, "ignore_errors": True}
        if environment:
            task["environment"] = environment
        tasks.append(task)
    playbook = tmp / "bad_input.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], indent=1))
    with EmulatorProcess(extra_args=["--secret-id", SECRET_ID, "--secret-key", SECRET_KEY, "--token", TOKEN]) as emu:
        env = ansible_environment(tmp, collections_path, emulator=emu, **result_log_settings(tmp / "results.json"))
        proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-vvvv", str(playbook)],
                              env=env, capture_output=True, text=True, timeout=600, check=False)
        log = emu.requests()
    return {r["task"]: r for r in read_results(proc, env)}, proc.stdout, proc.stderr, log


def test_table_has_at_least_30_rows():
    assert len(ROWS) >= 30 and len({r[0] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("name, args, fragments", [(r[0], r[1], r[2]) for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_refused_with_a_message_naming_it(table_run, name, args, fragments):
    results = table_run[0]
    assert name in results, "the row never ran"
    record = results[name]
    assert record["status"] == "failed", record
    msg = record["result"]["msg"]
    for fragment in fragments:
        assert fragment in msg, msg
    assert "Traceback" not in json.dumps(record["result"])


def test_no_bad_input_caused_a_write(table_run):
    log = table_run[3]
    assert log["write_count"] == 0, [r for r in log["requests"] if r["action"].endswith("KeyPairs") and "Associate" in r["action"]]


def test_secrets_never_show_at_vvvv(table_run):
    results, stdout, stderr = table_run[:3]
    assert "ins-a1000004" in stdout  # the output really is verbose
    for text in (stdout, stderr, json.dumps(results)):
        assert SECRET_KEY not in text
        assert TOKEN not in text
