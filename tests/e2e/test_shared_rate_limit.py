# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many processes of one user share one rate limit per action: the emulator, at the documented limits, refuses nothing.

The guarantee does not depend on timing: a request's slot is held until one window after its answer, so the next
request of any process arrives at the server more than one window after the one whose slot it takes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ansible_env import clean_environment  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

pytestmark = pytest.mark.nondeterministic  # every test here involves faults, concurrency, signals or timing

WORKER = r"""
import json, os, sys, time
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials
calls, start_at = int(sys.argv[1]), float(sys.argv[2])
warnings = []
api = _client.CvmApi(_credentials.resolve_credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"]),
                     os.environ["TENCENTCLOUD_REGION"], endpoint=os.environ["TENCENTCLOUD_ENDPOINT"], warn=warnings.append)
time.sleep(max(0.0, start_at - time.time()))  # every process starts its burst at the same moment
for _ in range(calls):
    api.call("DescribeKeyPairs", {"Limit": 1})
print(json.dumps({"warnings": warnings}))
"""


def run_workers(collections_path, emu, folder, processes, calls):
    env = clean_environment(folder.parent, PYTHONPATH=collections_path, TENCENTCLOUD_CVM_RATE_LIMIT_DIR=folder, **emu.env())
    start_at = time.time() + 1.5 + processes * 0.1  # after every interpreter has started
    command = [sys.executable, "-c", WORKER, str(calls), str(start_at)]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # pylint: disable=consider-using-with
               for _worker in range(processes)]
    outputs = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    return outputs


def refusals(emu):
    return [r for r in emu.requests()["requests"] if r["error_code"] == "RequestLimitExceeded"]


def test_many_processes_stay_within_one_limit(collections_path, tmp_path):
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:  # documented limits: 10/s for DescribeKeyPairs
        outputs = run_workers(collections_path, emu, tmp_path / "limits", processes=8, calls=5)
        assert all(output["warnings"] == [] for output in outputs)
        log = emu.requests()
        assert log["ok_counts"]["DescribeKeyPairs"] == 40
        assert refusals(emu) == [] and log["counts"]["DescribeKeyPairs"] == 40
    assert [p.name for p in (tmp_path / "limits").iterdir()] and oct((tmp_path / "limits").stat().st_mode & 0o777) == "0o700"


def test_an_unusable_folder_warns_and_still_succeeds(collections_path, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        outputs = run_workers(collections_path, emu, folder, processes=2, calls=3)
        assert emu.requests()["ok_counts"]["DescribeKeyPairs"] == 6
    for output in outputs:
        assert len(output["warnings"]) == 1 and "must be 0700" in output["warnings"][0] and emu.secret_id not in output["warnings"][0]
    assert list(folder.iterdir()) == []
