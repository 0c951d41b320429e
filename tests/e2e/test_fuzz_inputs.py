# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzzed bad input through the real modules against the emulator: types, encodings, sizes, control characters, endpoints, numbers.

Every row runs as a task of one ansible-playbook at -vvvv. For each: the task fails with a message naming the option, no
traceback appears, and the emulator received no write at all (its write_count over the whole run is 0, so 0 for every
row). A password in an endpoint never appears anywhere in the output.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from e2e_support import read_results, result_log_settings  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

# slow: one playbook of 85 failing tasks at -vvvv; one xdist worker runs it once for every row.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz_table")]

ASSOCIATION = "tencentcloud.cvm.cvm_keypair_association"
KEYPAIR = "tencentcloud.cvm.cvm_keypair"
PASSWORD = "CanaryPass99xyz"
EMU = "{emulator}"  # replaced by the emulator's host:port
TMP = "{tmp}"  # replaced by the run's temporary folder (which holds the playbook fuzz.yml)
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbgVJ3vUrsfMpExE4qjX7o2nEh2nJ8Oy9Jf2jyM6vYb fuzz@test"


def row(title, option, module=ASSOCIATION, environment=None, **args):
    base = {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"]} if module == ASSOCIATION else {"name": "fuzz_key"}
    base.update(args)
    return title, module, {k: v for k, v in base.items() if v is not ...}, option, environment


ROWS = [
    # Types
    row("wait_timeout a word", "wait_timeout", wait_timeout="soon"),
    row("wait_timeout a list", "wait_timeout", wait_timeout=[1]),
    row("wait_timeout a mapping", "wait_timeout", wait_timeout={"s": 1}),
    row("wait_timeout a fraction", "wait_timeout", wait_timeout=1.5),
    row("wait_timeout NaN", "wait_timeout", wait_timeout="NaN"),
    row("wait_timeout Infinity", "wait_timeout", wait_timeout="Infinity"),
    row("wait_timeout with a huge exponent", "wait_timeout", wait_timeout="1e999999999"),
    row("api_deadline -Infinity from the environment", "api_deadline", environment={"TENCENTCLOUD_API_DEADLINE": "-Infinity"}),
    row("force_stop not a boolean", "force_stop", force_stop="maybe"),
    row("wait not a boolean", "wait", wait="sometimes"),
    row("instance_ids a mapping", "instance_ids", instance_ids={"ins-a1000004": 1}),
    row("key_ids a number", "key_ids", key_ids=5),
    row("state a list", "state", state=["present"]),
    row("request_timeout a word", "request_timeout", request_timeout="fast"),
    row("api_deadline a boolean", "api_deadline", api_deadline=True),
    row("project_id a word", "project_id", module=KEYPAIR, project_id="zero"),
    row("force a phrase", "force", module=KEYPAIR, state="absent", force="yes please"),
    row("public_key a number", "public_key", module=KEYPAIR, public_key=12345),
    row("name a list", "name", module=KEYPAIR, name=["ops"]),
    # Encodings
    row("instance id with a full-width digit", "instance_ids", instance_ids=["ins-a100000\uff14"]),
    row("instance id with a Cyrillic letter", "instance_ids", instance_ids=["\u0456ns-a1000004"]),
    row("key id with an Arabic-Indic digit", "key_ids", key_ids=["skey-k100000\u0663"]),
    row("instance id with a combining accent", "instance_ids", instance_ids=["ins-a1000004\u0301"]),
    row("name with an accent", "name", module=KEYPAIR, name="cl\u00e9_ops"),
    row("name with a zero-width space", "name", module=KEYPAIR, name="ops\u200bteam"),
    row("region with an accent", "region", region="ap-guangzhou\u00e9"),
    row("endpoint with a non-ASCII host", "endpoint", endpoint="http://cvm.\u4f8b\u5b50.com"),
    row("public_key with non-ASCII", "public_key", module=KEYPAIR, public_key="ssh-ed25519 AAAA\u00e9\u00e9 x"),
    row("public_key a private key", "public_key", module=KEYPAIR, public_key="-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"),
    # Sizes
    row("101 key ids", "key_ids", key_ids=["skey-%08d" % n for n in range(101)]),
    row("name of 26 characters", "name", module=KEYPAIR, name="a" * 26),
    row("name of 100000 characters", "name", module=KEYPAIR, name="b" * 100000),
    row("public_key of a megabyte", "public_key", module=KEYPAIR, public_key="ssh-ed25519 " + "A" * 1000000),
    row("instance id of 5000 characters", "instance_ids", instance_ids=["ins-" + "a" * 5000]),
    row("empty instance list", "instance_ids", instance_ids=[]),
    row("empty name", "name", module=KEYPAIR, name=""),
    row("endpoint of 10000 characters", "endpoint", endpoint="http://" + "h" * 10000),
    # Control characters
    row("instance id ending in a newline", "instance_ids", instance_ids=["ins-a1000004\n"]),
    row("key id ending in a newline", "key_ids", key_ids=["skey-k1000003\n"]),
    row("instance id with a NUL", "instance_ids", instance_ids=["ins-a1000004\x00"]),
    row("instance id after a tab", "instance_ids", instance_ids=["\tins-a1000004"]),
    row("key id with a carriage return", "key_ids", key_ids=["skey-k10000\r03"]),
    row("name with a newline", "name", module=KEYPAIR, name="ops\nteam"),
    row("name ending in a newline", "name", module=KEYPAIR, name="ops_team\n"),
    row("public_key of two lines", "public_key", module=KEYPAIR, public_key=PUBLIC_KEY + "\n" + PUBLIC_KEY),
    row("region ending in a newline", "region", region="ap-guangzhou\n"),
    row("region with an escape", "region", region="ap-\x1bguangzhou"),
    row("endpoint with a newline inside", "endpoint", endpoint="http://" + EMU + "\r\nX-Injected: 1"),
    row("endpoint with a NUL", "endpoint", endpoint="http://127.0.0.1\x00:8400"),
    row("private_key_path ending in a slash", "private_key_path", module=KEYPAIR, private_key_path=TMP + "/keys/"),
    row("private_key_path with a name of 256 bytes", "private_key_path", module=KEYPAIR, private_key_path=TMP + "/" + "k" * 256),
    row("private_key_path with a name of 130 accented letters", "private_key_path", module=KEYPAIR, private_key_path=TMP + "/" + "\u00e9" * 130),
    row("private_key_path naming an existing directory", "private_key_path", module=KEYPAIR, private_key_path=TMP),
    row("private_key_path under a file", "private_key_path", module=KEYPAIR, private_key_path=TMP + "/fuzz.yml/key.pem"),
    row("private_key_path with a NUL", "private_key_path", module=KEYPAIR, private_key_path="/tmp/fuzz\x00key.pem"),
    # Endpoints
    row("endpoint with a password", "endpoint", endpoint="http://admin:%s@%s" % (PASSWORD, EMU)),
    row("endpoint with a password and no scheme", "endpoint", endpoint="admin:%s@%s" % (PASSWORD, EMU)),
    row("endpoint with only a password", "endpoint", endpoint="https://:%s@cvm.tencentcloudapi.com" % PASSWORD),
    row("endpoint with a password before a second scheme", "endpoint", endpoint="admin:%s@%s/https://cvm.tencentcloudapi.com" % (PASSWORD, EMU)),
    row("endpoint with a password and a scheme after it", "endpoint", module=KEYPAIR, endpoint="http://admin:%s@%s/://x" % (PASSWORD, EMU)),
    row("endpoint with a password and a bad instance id", "instance_ids", instance_ids=["ins-1"], endpoint="http://u:%s@%s" % (PASSWORD, EMU)),
    row("endpoint with a foreign scheme", "endpoint", endpoint="ftp://" + EMU),
    row("endpoint with port 0", "endpoint", endpoint="http://127.0.0.1:0"),
    row("endpoint with port 65536", "endpoint", endpoint="http://127.0.0.1:65536"),
    row("endpoint with a path", "endpoint", endpoint="http://%s/v2" % EMU),
    row("endpoint with a query", "endpoint", endpoint="http://%s?x=1" % EMU),
    row("endpoint with a fragment", "endpoint", endpoint="http://%s#top" % EMU),
    row("endpoint without a host", "endpoint", endpoint="https://"),
    row("endpoint with an open bracket", "endpoint", endpoint="http://[::1"),
    row("endpoint of spaces", "endpoint", endpoint="   "),
    row("endpoint with a named port", "endpoint", endpoint="http://127.0.0.1:http"),
    # Numbers
    row("zero wait_timeout", "wait_timeout", wait_timeout=0),
    row("negative wait_timeout", "wait_timeout", wait_timeout=-5),
    row("wait_timeout above one day", "wait_timeout", wait_timeout=86401),
    row("wait_timeout of 10^20", "wait_timeout", wait_timeout=10 ** 20),
    row("request_timeout of 10^30", "request_timeout", request_timeout=10 ** 30),
    row("request_timeout above one day", "request_timeout", request_timeout=86401),
    row("zero request_timeout", "request_timeout", request_timeout=0),
    row("negative api_deadline", "api_deadline", api_deadline=-1),
    row("api_deadline above one day", "api_deadline", api_deadline=86401),
    row("api_deadline from the environment of 10^20", "api_deadline", environment={"TENCENTCLOUD_API_DEADLINE": str(10 ** 20)}),
    row("keypair wait_timeout of 10^20", "wait_timeout", module=KEYPAIR, state="absent", wait_timeout=10 ** 20),
    row("negative project_id", "project_id", module=KEYPAIR, project_id=-1),
    row("project_id of 10^30", "project_id", module=KEYPAIR, project_id=10 ** 30),
]


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory, collections_path):
    """Run every row once, as one playbook at -vvvv; returns (records by row name, stdout + stderr, emulator request log)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    with EmulatorProcess() as emu:
        host = emu.url.partition("://")[2]
        tasks = []
        for name, module, args, _option, environment in ROWS:
            args = json.loads(json.dumps(args).replace(EMU, host).replace(TMP, str(tmp)))
            task = {"name": name, module: args, "ignore_errors": True}
            if environment:
                task["environment"] = environment
            tasks.append(task)
        playbook = tmp / "fuzz.yml"
        playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        env = ansible_environment(tmp, collections_path, emulator=emu, TENCENTCLOUD_CVM_RATE_LIMIT_DIR=tmp / "limits",
                                  **result_log_settings(tmp / "results.json"),
                                  # ansible-core 2.21 refuses to log an argument with a NUL to syslog before any module code runs;
                                  # with that logging off every row reaches the module's own checks. 2.21 also returns invocation
                                  # only when asked.
                                  ANSIBLE_NO_TARGET_SYSLOG="1", ANSIBLE_INJECT_INVOCATION="1")
        proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-vvvv", str(playbook)],
                              env=env, capture_output=True, text=True, timeout=1800, check=False)
        log = emu.requests()
    records = read_results(proc, env)
    return {r["task"]: r for r in records}, proc.stdout + proc.stderr, log


def test_the_fuzz_table_has_at_least_60_rows_of_every_kind():
    assert len(ROWS) >= 60 and len({r[0] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("name, option", [(r[0], r[3]) for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_bad_input_fails_naming_its_option(fuzz_run, name, option):
    records = fuzz_run[0]
    assert name in records, "the row never ran"
    record = records[name]
    assert record["status"] == "failed", record
    msg = record["result"]["msg"]
    assert option in msg, msg
    assert len(msg) < 2000, "a message of %d characters is not clear" % len(msg)
    assert "Traceback" not in json.dumps(record["result"]) and "module_stderr" not in record["result"], record["result"]


def test_no_bad_input_caused_a_write(fuzz_run):
    log = fuzz_run[2]
    assert log["write_count"] == 0, [r for r in log["requests"] if r["action"] not in ("DescribeInstances", "DescribeKeyPairs")]


def test_no_traceback_and_no_password_at_vvvv(fuzz_run):
    records, output, _log = fuzz_run
    assert "fuzz_key" in output  # the output really is verbose
    assert "Traceback" not in output
    for text in (output, json.dumps(records)):
        assert PASSWORD not in text
    for name in ("endpoint with a password", "endpoint with a password and no scheme", "endpoint with only a password",
                 "endpoint with a password and a bad instance id", "endpoint with a password before a second scheme",
                 "endpoint with a password and a scheme after it"):
        result = records[name]["result"]
        assert "***@" in result["msg"] or "instance_ids" in result["msg"]
        assert PASSWORD not in json.dumps(result["invocation"]) and "***@" in result["invocation"]["module_args"]["endpoint"]
