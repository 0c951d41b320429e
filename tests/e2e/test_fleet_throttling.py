# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""100 hosts from the inventory plugin, one module process per host, 50 forks, the emulator at the documented limits.

Before the rate limit was shared between processes, each fork paced only itself: about 9% of the requests were
refused for rate (docs/performance.md). Now every instance ends bound, no task fails and at most 1% is refused.
The heaviest test of the suite: about 100 module processes on the controller (roughly a minute on 2 cores).
"""

from __future__ import annotations

import re
import textwrap

import pytest

from fleet import fleet_key_id, fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

pytestmark = pytest.mark.nondeterministic  # every test here involves faults, concurrency, signals or timing

HOSTS = 100
FORKS = 50
OPERATION_SECONDS = 2.0  # real operations take seconds, so the forks overlap for real

PER_HOST = """
- name: Bind the fleet key, one task per host
  hosts: all
  gather_facts: false
  tasks:
    - name: bind
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: ["{{ instance_id }}"]
        region: "{{ region }}"
        key_ids: [%s]
      delegate_to: localhost
"""


@pytest.mark.slow
def test_per_host_tasks_with_50_forks_are_not_throttled(playbook, tmp_path):
    key_id = fleet_key_id(0)
    with EmulatorProcess(state=fleet_state(HOSTS), extra_args=["--operation-latency", str(OPERATION_SECONDS)]) as emu:
        inventory = tmp_path / "fleet.cvm.yml"
        inventory.write_text(textwrap.dedent("""
            plugin: tencentcloud.cvm.cvm
            hostnames: [instance_id]
        """))
        rc, tasks, stdout, stderr = playbook(emu, PER_HOST % key_id, inventory=str(inventory), forks=FORKS)
        assert rc == 0, stdout[-3000:] + stderr[-3000:]
        recap = re.findall(r"^(ins-\S+)\s+: ok=1\s+changed=1\s+unreachable=0\s+failed=0\s", stdout, re.MULTILINE)
        assert len(set(recap)) == HOSTS, stdout[-3000:]
        state = emu.state()["instances"]
        assert len(state) == HOSTS and all(item["LoginSettings"]["KeyIds"] == [key_id] for item in state)
        log = emu.requests()
        refused = [r for r in log["requests"] if r["error_code"] == "RequestLimitExceeded"]
        total = sum(log["counts"].values())
        assert log["counts"]["AssociateInstancesKeyPairs"] >= HOSTS
        assert len(refused) <= 0.01 * total, "%d of %d requests refused for rate" % (len(refused), total)
        assert tasks["bind"]["changed"]
