# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair settles lost answers by reading, with 35% of all answers lost: never a second key pair, never a false failure.

The emulator applies 35% of the requests and then closes the connection without an answer (--fault-lost-response). Each
of 20 reruns creates a key pair (private key to a file), imports one, then deletes both. The emulator refuses a second key
pair of a name (InvalidKeyPairName.Duplicate), so a blind resend would show as a failure; none may.

Why the outcome is the same on every run of this test: the emulator's faults come from a generator seeded with SEED,
drawn once per signed request in the order the requests arrive. cvm_keypair sends its requests one after another, so
the sequence of requests, and with it the sequence of faults, depends only on the seed and on the module's decisions,
which depend only on the answers. Nothing decided by time remains: the emulator's own rate limit is off, there is no
deletion lag, and api_deadline is one day, so only the attempt caps (counts) end retries. The client's backoff jitter
and rate limiter change when requests are sent, never which. The test passing once therefore means it passes every
time; it also checks that the faults really hit writes (LOST_WRITES_AT_LEAST of them).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import textwrap

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import read_results  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

pytestmark = [pytest.mark.nondeterministic, pytest.mark.slow]  # injected faults, 20 ansible-playbook runs

SEED = "4242"
LOST_RATE = "0.35"
RERUNS = 20
LOST_WRITES_AT_LEAST = 10
WRITES = ("CreateKeyPair", "ImportKeyPair", "DeleteKeyPairs")


def public_key(seed):
    name = b"ssh-ed25519"
    blob = len(name).to_bytes(4, "big") + name + (32).to_bytes(4, "big") + hashlib.sha256(seed.encode()).digest()
    return "ssh-ed25519 %s lost@answers" % base64.b64encode(blob).decode()


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    tencentcloud.cvm.cvm_keypair:
      api_deadline: 86400
  tasks:
    - name: create
      tencentcloud.cvm.cvm_keypair: {name: lost_created, private_key_path: "%(pem)s"}
    - name: import
      tencentcloud.cvm.cvm_keypair: {name: lost_imported, public_key: "%(public_key)s"}
    - name: delete created
      tencentcloud.cvm.cvm_keypair: {name: lost_created, state: absent}
    - name: delete imported
      tencentcloud.cvm.cvm_keypair: {name: lost_imported, state: absent}
"""


def named(state, name):
    return [k for k in state["key_pairs"] if k["KeyName"] == name]


def test_lost_answers_on_key_pair_writes_are_settled_by_reading(ansible_env, tmp_path):
    args = ["--seed", SEED, "--fault-lost-response", LOST_RATE, "--no-rate-limit", "--operation-latency", "0.2"]
    with EmulatorProcess(extra_args=args) as emu:
        for rerun in range(RERUNS):
            pem = tmp_path / ("created-%d.pem" % rerun)
            key = public_key("rerun-%d" % rerun)
            path = tmp_path / "lost.yml"
            path.write_text(textwrap.dedent(PLAYBOOK % {"pem": pem, "public_key": key, "url": emu.url}))
            env = ansible_env(emu)
            proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)], env=env,
                                  capture_output=True, text=True, timeout=900, check=False)
            tasks = {r["task"]: r for r in read_results(proc, env)}
            failed = {name: r["result"].get("msg") for name, r in tasks.items() if r["status"] != "ok"}
            assert proc.returncode == 0 and not failed, (rerun, failed, proc.stdout[-2000:])
            assert "Traceback" not in proc.stdout + proc.stderr
            changed = {name: r["result"]["changed"] for name, r in tasks.items()}
            assert changed == {"create": True, "import": True, "delete created": True, "delete imported": True}, rerun
            created, imported = tasks["create"]["result"]["key_pair"], tasks["import"]["result"]["key_pair"]
            assert imported["key_name"] == "lost_imported" and imported["public_key"].split()[:2] == key.split()[:2]
            # The private key on disk belongs to the key pair the module reports (the emulator derives one from the other).
            secret = base64.b64decode("".join(pem.read_text().splitlines()[1:-1]))[-32:]
            assert base64.b64decode(created["public_key"].split()[1])[-32:] == hashlib.sha256(secret).digest()
            deleted = [r["params"]["KeyIds"] for r in emu.requests()["requests"] if r["action"] == "DeleteKeyPairs"
                       and r["outcome"] in ("ok", "lost_response")]
            assert [created["key_id"]] in deleted and [imported["key_id"]] in deleted
            assert named(emu.state(), "lost_created") == [] and named(emu.state(), "lost_imported") == []
        log = emu.requests()["requests"]
    lost_writes = [r for r in log if r["action"] in WRITES and r["outcome"] == "lost_response"]
    assert len(lost_writes) >= LOST_WRITES_AT_LEAST and {r["action"] for r in lost_writes} == set(WRITES), lost_writes
    # Never resent blindly: every write sent after a lost one of the same kind came after a read.
    for before, after in zip(log, log[1:]):
        if before["action"] in WRITES and before["outcome"] == "lost_response":
            assert after["action"] == "DescribeKeyPairs", (before, after)
