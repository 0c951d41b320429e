# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How many requests cvm_keypair_association sends (the request target of docs/performance.md): counted in the emulator's request log, never timed.

For N generated STOPPED instances (`--generate-instances N`) that all need the same key:
- exactly ceil(N/100) DescribeInstances reads before the first write, and ceil(N/100) write calls;
- polling reads: at least one read per changed instance after its write (ceil(N/100) calls at best), and at most
  MAX_POLL_ROUNDS rounds of one read per write (a round reads the instances of the writes that are due together,
  so it never needs more calls than writes);
- nothing to change (a rerun) and check mode: zero writes, and only the ceil(N/100) reads.
Times are measured by ./scripts/bench (docs/performance.md), not here: counts are deterministic, times are not.
"""

from __future__ import annotations

import contextlib
import math

import pytest

from cvm_emulator import KEY_BINDING_ACTIONS  # pylint: disable=import-error
from e2e_support import binding_writes  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

KEY = "skey-k1000003"          # default seed key pairs; generated instances start with no key
OTHER_KEY = "skey-k1000004"
LATENCY = "0.2"                # short, so the tests are quick; the counts do not depend on it
MAX_POLL_ROUNDS = 3


def batches(n):
    return int(math.ceil(n / 100.0))


class Log:
    """The emulator's request log so far, split at the first write."""

    def __init__(self, emu):
        records = sorted(emu.requests()["requests"], key=lambda r: r["seq"])
        self.writes = [r for r in records if r["action"] in KEY_BINDING_ACTIONS]
        first = self.writes[0]["seq"] if self.writes else float("inf")
        reads = [r for r in records if r["action"] == "DescribeInstances"]
        self.reads_before = [r for r in reads if r["seq"] < first]
        self.polls = [r for r in reads if r["seq"] > first]
        self.counts = {}
        for r in records:
            self.counts[r["action"]] = self.counts.get(r["action"], 0) + 1
        self.failures = [r for r in records if r["outcome"] != "ok"]


@pytest.fixture
def generated():
    """Start an emulator with n generated instances; stopped at the end of the test."""
    with contextlib.ExitStack() as stack:

        def start(n):
            emu = stack.enter_context(EmulatorProcess(extra_args=["--generate-instances", str(n), "--operation-latency", LATENCY]))
            ids = emu.generated_instance_ids()
            assert len(ids) == n
            return emu, ids

        yield start


@pytest.mark.parametrize("n", [1, 100, 101, 250])
def test_check_mode_reads_once_and_writes_nothing(generated, adhoc, n):
    emu, ids = generated(n)
    run = adhoc(emu, {"instance_ids": ids, "key_ids": [KEY]}, check=True)
    assert not run.failed and run.changed, run.result
    log = Log(emu)
    assert log.writes == [] and binding_writes(emu) == []
    assert len(log.reads_before) == log.counts["DescribeInstances"] == batches(n)
    assert sum(1 for i in run.result["instances"] if i["changed"]) == n


@pytest.mark.parametrize("n", [1, 100, 101, 250])
def test_bind_sends_the_minimal_reads_and_writes_then_nothing_on_rerun(generated, adhoc, n):
    emu, ids = generated(n)
    run = adhoc(emu, {"instance_ids": ids, "key_ids": [KEY]})
    assert not run.failed and run.changed, run.result

    log = Log(emu)
    assert len(log.reads_before) == batches(n)
    assert [w["action"] for w in log.writes] == ["AssociateInstancesKeyPairs"] * batches(n)
    assert all(w["outcome"] == "ok" and w["params"]["KeyIds"] == [KEY] for w in log.writes)
    assert sorted(i for w in log.writes for i in w["params"]["InstanceIds"]) == ids  # each instance in exactly one write
    assert log.counts.get("DescribeKeyPairs", 0) <= 1
    assert batches(n) <= len(log.polls) <= MAX_POLL_ROUNDS * len(log.writes), "polling reads: %d for %d writes" % (
        len(log.polls), len(log.writes))
    assert log.failures == []  # no throttling, no errors at this size
    assert len(run.result["request_ids"]) == batches(n)

    emu.clear_requests()
    again = adhoc(emu, {"instance_ids": ids, "key_ids": [KEY]})
    assert not again.failed and not again.changed, again.result
    log = Log(emu)
    assert log.writes == [] and binding_writes(emu) == []
    assert len(log.reads_before) == log.counts["DescribeInstances"] == batches(n)


def test_each_distinct_change_costs_its_own_batches(generated, adhoc):
    """250 instances, 150 of which already have KEY: binding [KEY, OTHER_KEY] is two distinct changes,
    (OTHER_KEY) for 150 instances and (KEY, OTHER_KEY) for 100: ceil(150/100) + ceil(100/100) = 3 writes."""
    emu, ids = generated(250)
    first = adhoc(emu, {"instance_ids": ids[:150], "key_ids": [KEY]})
    assert not first.failed and first.changed, first.result
    emu.clear_requests()

    run = adhoc(emu, {"instance_ids": ids, "key_ids": [KEY, OTHER_KEY]})
    assert not run.failed and run.changed, run.result
    log = Log(emu)
    assert len(log.reads_before) == batches(250)
    by_change = {}
    for w in log.writes:
        assert w["action"] == "AssociateInstancesKeyPairs" and len(w["params"]["InstanceIds"]) <= 100
        by_change.setdefault(tuple(sorted(w["params"]["KeyIds"])), []).extend(w["params"]["InstanceIds"])
    assert sorted(by_change) == [(KEY, OTHER_KEY), (OTHER_KEY,)]
    assert sorted(by_change[(OTHER_KEY,)]) == ids[:150] and sorted(by_change[(KEY, OTHER_KEY)]) == ids[150:]
    assert len(log.writes) == batches(150) + batches(100)
    assert batches(250) <= len(log.polls) <= MAX_POLL_ROUNDS * len(log.writes)
