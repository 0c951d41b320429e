# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair_association under every combination of the readings the real API leaves open (docs/api-notes.md).

16 cells: bind semantics add|replace x duplicates lenient|strict x restart after ForceStop as its own operation or
not x start delay 0|0.3 s (with a delay, strict cells also show null LatestOperation* meanwhile, lenient ones the
previous operation). Each cell runs one emulator and these cases on disjoint instances:

- present with an unlisted key already bound, an exclusive swap, absent, force_stop on RUNNING instances,
  250 instances (one playbook, then its rerun);
- 250 instances with 30% of the answers lost (the emulator applies the request and drops the answer), then a
  clean rerun.

Each case checks the end state, `changed`, that the rerun sends no write, the number of writes (the minimum, plus
one per bind batch under replace, plus one per lost write answer), that replace semantics is warned about once and
never blamed on another client, and that nothing waits until wait_timeout (no pending instances, and the whole
playbook ends well before one wait_timeout). Operations take 0.1 s, so a cell costs a few ansible runs.
"""

from __future__ import annotations

import itertools
import json
import math
import time

import pytest

from cvm_emulator import KEY_BINDING_ACTIONS  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

K1, K2, K3, K4 = "skey-k1000001", "skey-k1000002", "skey-k1000003", "skey-k1000004"
WAIT_TIMEOUT = 600
SCALE = 250

# case -> (number of instances, state, keys before, module arguments, keys after)
CASES = {
    "present_unlisted": (3, "STOPPED", [K2], {"key_ids": [K3]}, [K2, K3]),
    "exclusive_swap": (3, "STOPPED", [K1, K2], {"key_ids": [K2, K3], "exclusive": True}, [K2, K3]),
    "absent": (3, "STOPPED", [K1, K4], {"key_ids": [K1], "state": "absent"}, [K4]),
    "force_stop_running": (3, "RUNNING", [K1], {"key_ids": [K4], "force_stop": True}, [K1, K4]),
    "scale": (SCALE, "STOPPED", [K2], {"key_ids": [K3]}, [K2, K3]),
}
LOST = ("lost_answers", (SCALE, "STOPPED", [K2], {"key_ids": [K3], "exclusive": True}, [K3]))
LOST_PLAN = {"AssociateInstancesKeyPairs": {"1": "lost_response"}, "DisassociateInstancesKeyPairs": {"1": "lost_response"}}


def batches(n):
    return int(math.ceil(n / 100.0))


def write_bound(case, count, replace):
    """The fewest writes the change needs under add semantics, plus one per bind batch under replace."""
    binds, unbinds = {
        "present_unlisted": (1, 0), "exclusive_swap": (1, 1), "absent": (0, 1), "force_stop_running": (1, 0),
        "scale": (1, 0), "lost_answers": (1, 1),
    }[case]
    minimum = (binds + unbinds) * batches(count)
    return minimum + (binds * batches(count) if replace else 0)


CELLS = list(itertools.product(["add", "replace"], ["lenient", "strict"], ["restart_own_op", "restart_in_op"], [0.0, 0.3]))


def cell_id(cell):
    semantics, duplicates, restart, delay = cell
    return "%s-%s-%s-delay%s" % (semantics, duplicates, restart, delay)


def emulator_args(cell):
    semantics, duplicates, restart, delay = cell
    args = ["--operation-latency", "0.1", "--seed", "11", "--generate-instances", str(sum(c[0] for c in CASES.values()) + LOST[1][0]),
            "--bind-semantics", semantics, "--operation-start-delay", str(delay)]
    if duplicates == "strict":
        args.append("--strict-duplicates")
        if delay:
            args.append("--null-operation-fields")
    if restart == "restart_own_op":
        args.append("--restart-as-own-operation")
    return args


def prepare(emu):
    """Give each case its own generated instances, with their starting state and keys; returns {case: [ids]}."""
    state = emu.state()
    generated = sorted(i["InstanceId"] for i in state["instances"] if (i.get("InstanceName") or "").startswith("gen-"))
    by_id = {i["InstanceId"]: i for i in state["instances"]}
    cases, start = {}, 0
    for name, (count, instance_state, keys, _args, _after) in list(CASES.items()) + [LOST]:
        ids = generated[start:start + count]
        start += count
        cases[name] = ids
        for instance_id in ids:
            by_id[instance_id]["InstanceState"] = instance_state
            by_id[instance_id]["LoginSettings"]["KeyIds"] = list(keys)
    emu.load_state(state)
    return cases


def playbook_text(names):
    tasks = []
    for name in names:
        tasks.append("""
            - name: %s
              tencentcloud.cvm.cvm_keypair_association: "{{ args['%s'] | combine({'instance_ids': cases['%s'], 'wait_timeout': %d}) }}"
              ignore_errors: true""" % (name, name, name, WAIT_TIMEOUT))
    return """
        - hosts: localhost
          gather_facts: false
          tasks:%s
        """ % "".join(tasks)


def run_cases(playbook, emu, cases, specs):
    """Run one playbook with a task per case; return (results by case, writes by case, seconds)."""
    since = emu.requests()["requests"][-1]["seq"] if emu.requests()["requests"] else 0
    started = time.monotonic()
    extra_vars = {"cases": {n: cases[n] for n in specs}, "args": {n: specs[n][3] for n in specs}}
    _rc, tasks, out, err = playbook(emu, playbook_text(specs), extra_vars=extra_vars)
    elapsed = time.monotonic() - started
    missing = [name for name in specs if name not in tasks]
    assert not missing, "no result for %s\n%s\n%s" % (missing, out[-3000:], err[-3000:])
    owner = {instance_id: name for name in specs for instance_id in cases[name]}
    writes = {name: [] for name in specs}
    records = emu.requests(since=since)["requests"]
    for record in records:
        if record["action"] in KEY_BINDING_ACTIONS:
            writes[owner[record["params"]["InstanceIds"][0]]].append(record)
    return tasks, writes, elapsed


def check_end_state(emu, cases, specs):
    state = {i["InstanceId"]: i for i in emu.state()["instances"]}
    for name, (_count, instance_state, _keys, _args, after) in specs.items():
        wrong = {i: state[i]["LoginSettings"]["KeyIds"] for i in cases[name] if sorted(state[i]["LoginSettings"]["KeyIds"] or []) != after}
        assert not wrong, "%s: expected %s, found %s" % (name, after, dict(list(wrong.items())[:5]))
        assert all(state[i]["InstanceState"] == instance_state for i in cases[name]), name  # force-stopped ones run again
        assert emu.operating() == []


def check_first_run(name, result, replace):
    assert not result.get("failed"), "%s: %s" % (name, result.get("msg"))
    assert result["changed"], name
    assert "pending_instance_ids" not in result, name  # nothing was still operating at wait_timeout
    assert all(i["changed"] for i in result["instances"]), name
    warnings = [w for w in result.get("warnings") or [] if "replaced the key pairs" in w]
    assert all("another client" not in w for w in result.get("warnings") or []), name
    # Replace is noticed only where a bind drops keys that must stay; then exactly one warning.
    drops_kept_keys = replace and name in ("present_unlisted", "exclusive_swap", "force_stop_running", "scale")
    assert len(warnings) == (1 if drops_kept_keys else 0), (name, result.get("warnings"))


@pytest.mark.nondeterministic
@pytest.mark.slow
@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_every_case_converges_under_this_reading(cell, playbook):
    replace = cell[0] == "replace"
    with EmulatorProcess(extra_args=emulator_args(cell)) as emu:
        cases = prepare(emu)

        tasks, writes, elapsed = run_cases(playbook, emu, cases, CASES)
        for name, spec in CASES.items():
            check_first_run(name, tasks[name], replace)
            assert len(writes[name]) <= write_bound(name, spec[0], replace), (name, [(w["action"], w["params"]["KeyIds"], w["outcome"])
                                                                                     for w in writes[name]])
        assert elapsed < WAIT_TIMEOUT / 2, "the cases took %.0f s: something waited for wait_timeout" % elapsed
        check_end_state(emu, cases, CASES)

        tasks, writes, _elapsed = run_cases(playbook, emu, cases, CASES)
        for name in CASES:
            assert not tasks[name].get("failed") and not tasks[name]["changed"], (name, tasks[name].get("msg"))
            assert writes[name] == [], name
            assert tasks[name]["request_ids"] == [], name

        name, spec = LOST
        # Every write's first send is applied and its answer lost (the fault plan: by request, never by chance).
        emu.configure(fault_plan=LOST_PLAN)
        tasks, writes, elapsed = run_cases(playbook, emu, cases, dict([LOST]))
        emu.configure(fault_plan={action: {} for action in LOST_PLAN})
        check_first_run(name, tasks[name], replace)
        applied = [w for w in writes[name] if w["outcome"] in ("ok", "lost_response")]
        lost = [w for w in writes[name] if w["outcome"] == "lost_response"]
        assert len(lost) == len({json.dumps(w["params"], sort_keys=True) for w in writes[name]}), "each distinct write lost its first answer"
        assert len(applied) <= write_bound(name, spec[0], replace) + len(lost), [(w["action"], w["outcome"]) for w in writes[name]]
        assert elapsed < WAIT_TIMEOUT / 2
        check_end_state(emu, cases, dict([LOST]))

        tasks, writes, _elapsed = run_cases(playbook, emu, cases, dict([LOST]))
        assert not tasks[name].get("failed") and not tasks[name]["changed"] and writes[name] == []


# -- the other readings, one at a time -------------------------------------------------------------------------------

def test_binding_a_held_key_with_a_new_one_converges_under_replace(adhoc):
    """Under --bind-replaces-keys, bind k2+k3 to ins-a1000005, which has k2 already: the first report of the replace reading."""
    with EmulatorProcess(extra_args=["--bind-replaces-keys", "--operation-latency", "0.1"]) as emu:
        args = {"instance_ids": ["ins-a1000005"], "key_ids": ["skey-k1000002", "skey-k1000003"]}
        run = adhoc(emu, args)
        assert not run.failed and run.changed, run.result.get("msg")
        assert run.result["instances"][0]["key_ids"] == ["skey-k1000002", "skey-k1000003"]
        assert sorted(emu.instance("ins-a1000005")["LoginSettings"]["KeyIds"]) == ["skey-k1000002", "skey-k1000003"]
        assert "another client" not in str(run.result)
        seq = emu.requests()["requests"][-1]["seq"]
        again = adhoc(emu, args)
        assert not again.failed and not again.changed
        assert [r for r in emu.requests(since=seq)["requests"] if r["action"] in KEY_BINDING_ACTIONS] == []


def test_a_failed_force_stop_change_fails_at_once_even_when_the_restart_hides_it(adhoc):
    """The restart is its own operation and the key change FAILED: the module sees a newer finished StartInstances without
    the change and fails at once naming it (or sees the FAILED change itself), never waiting for wait_timeout."""
    with EmulatorProcess(extra_args=["--restart-as-own-operation", "--operation-latency", "0.1"]) as emu:
        emu.configure(operation_failures={"ins-a1000002": "Failed to write the public key"})
        started = time.monotonic()
        run = adhoc(emu, {"instance_ids": ["ins-a1000002"], "key_ids": ["skey-k1000003"], "force_stop": True, "wait_timeout": 60})
        elapsed = time.monotonic() - started
        assert run.failed and "pending_instance_ids" not in run.result
        failure = run.result["failed_instances"][0]
        assert failure["instance_id"] == "ins-a1000002"
        assert "Failed to write the public key" in failure["error_message"] or "StartInstances" in failure["error_message"]
        assert elapsed < 30  # generous; waiting for wait_timeout would take 60 s


KEYPAIR = "tencentcloud.cvm.cvm_keypair"


def test_force_delete_retries_through_the_deletion_lag(adhoc):
    with EmulatorProcess(extra_args=["--key-deletion-lag", "3", "--operation-latency", "0.1"]) as emu:
        run = adhoc(emu, {"name": "deploy", "state": "absent", "force": True, "wait_timeout": 60}, module=KEYPAIR)
        assert not run.failed and run.changed, run.result.get("msg")
        assert [k for k in emu.state()["key_pairs"] if k["KeyName"] == "deploy"] == []
        deletes = [r for r in emu.requests()["requests"] if r["action"] == "DeleteKeyPairs"]
        assert deletes[0]["error_code"] == "InvalidParameterValue.KeyPairNotSupported"  # the lag really happened
        assert deletes[-1]["outcome"] == "ok" and len(deletes) <= 6
        assert len([r for r in emu.requests()["requests"] if r["action"] == "DisassociateInstancesKeyPairs"]) == 1


def test_force_delete_gives_up_after_wait_timeout_saying_why(adhoc):
    with EmulatorProcess(extra_args=["--key-deletion-lag", "300", "--operation-latency", "0.1"]) as emu:
        run = adhoc(emu, {"name": "deploy", "state": "absent", "force": True, "wait_timeout": 3}, module=KEYPAIR)
        assert run.failed and "wait_timeout=3s" in run.result["msg"] and "lags" in run.result["msg"]
        assert run.result["error"]["code"] == "InvalidParameterValue.KeyPairNotSupported"
        assert emu.key_pair("skey-k1000002")["KeyId"] == "skey-k1000002"


def test_a_key_pair_used_by_a_custom_image_gets_its_own_error(adhoc):
    with EmulatorProcess(extra_args=["--image-key", "skey-k1000004"]) as emu:
        run = adhoc(emu, {"name": "bob", "state": "absent"}, module=KEYPAIR)
        assert run.failed and "custom image" in run.result["msg"] and run.result["error"]["code"] == "InvalidKeyPair.NotSupported"
        assert len([r for r in emu.requests()["requests"] if r["action"] == "DeleteKeyPairs"]) == 1  # not retried
        assert emu.key_pair("skey-k1000004")["KeyId"] == "skey-k1000004"
