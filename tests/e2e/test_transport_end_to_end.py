# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport rules end to end: TLS against plain HTTP, a lost answer's wording, plain HTTP to another machine.

Traffic stays on loopback, except in the last test, which runs inside a network namespace of its own (`unshare --net`)
where the documentation address 192.0.2.10 is on that namespace's loopback device: nothing leaves the host.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import read_results  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

BIND = {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"]}


def test_tls_against_plain_http_fails_at_once_saying_use_http(adhoc):
    with EmulatorProcess() as emu:
        plain = emu.url.partition("://")[2]  # host:port alone means HTTPS
        run = adhoc(emu, dict(BIND, endpoint=plain))
        assert run.failed and run.result["error"]["code"] == "ClientNetworkError.NotTls", run.result
        msg = run.result["msg"]
        assert "not TLS" in msg and "http://host:port" in msg and "Gave up" not in msg, msg
        assert emu.requests()["requests"] == []  # the handshake failed: no request ever reached the API


@pytest.mark.nondeterministic  # injected faults
def test_a_lost_answer_says_what_happened_and_what_the_module_did(adhoc):
    with EmulatorProcess(extra_args=["--fault-lost-response", "1.0", "--seed", "7"]) as emu:
        run = adhoc(emu, dict(BIND, api_deadline=86400))
        assert run.failed and run.result["error"]["code"] == "ClientNetworkError.ConnectionDropped"
        msg = run.result["msg"]
        assert "closed after the request was sent" in msg and "re-reading" in msg and "Could not reach" not in msg, msg
        assert emu.requests()["write_count"] == 0  # every read was lost, so nothing was planned, nothing written


DRIVER = r"""
import json, os, subprocess, sys
from harness import EmulatorProcess
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "addr", "add", "192.0.2.10/32", "dev", "lo"], check=True)
command, env = json.loads(sys.argv[1]), json.loads(sys.argv[2])
with EmulatorProcess(extra_args=["--host", "192.0.2.10"]) as emu:
    assert emu.url.startswith("http://192.0.2.10:"), emu.url
    env.update(emu.env())
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    print(json.dumps({"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr, "writes": emu.write_count()}))
"""


@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("ip") is None, reason="needs unshare and ip (root)")
@pytest.mark.parametrize("allow", [False, True])
def test_plain_http_to_another_machine_warns_once_unless_allowed(ansible_env, allow):
    env = ansible_env(None, {"PYTHONPATH": str(REPO / "tests" / "support")})
    task = dict(BIND, allow_insecure_http=allow)
    command = [str(BIN / "ansible"), "localhost", "-m", "tencentcloud.cvm.cvm_keypair_association", "-a", json.dumps(task)]
    proc = subprocess.run(["unshare", "--net", sys.executable, "-c", DRIVER, json.dumps(command), json.dumps(env)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    result = read_results(subprocess.CompletedProcess([], outcome["rc"], outcome["stdout"], outcome["stderr"]), env)[-1]["result"]
    assert not result.get("failed") and result["changed"] and outcome["writes"] == 1, result
    insecure = [w for w in result.get("warnings") or [] if "plain HTTP" in w]
    if allow:
        assert insecure == []
    else:
        assert len(insecure) == 1 and "http://192.0.2.10:" in insecure[0] and "X-TC-Token" in insecure[0] and "private key" in insecure[0]
