# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nothing another process does to the shared rate limit hangs or crashes a run.

A frozen lock holder, a frozen holder of every slot, a holder killed with -9, a holder in another PID namespace and
corrupted state files: in each case a bind of 10 instances through the module succeeds, and its task takes at most
api_deadline plus the documented fallback bound (_shared_limiter.FALLBACK_AFTER), beyond what starting a module costs
(measured in the same playbook by a task refused before any request). Every stopped process is resumed
and killed in a `finally`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest
from cvm_emulator import base36  # pylint: disable=import-error

from ansible_env import BIN, clean_environment  # pylint: disable=import-error
from e2e_support import read_results  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as shared  # pylint: disable=wrong-import-order

pytestmark = [pytest.mark.nondeterministic]  # other processes, signals and wall-clock bounds

API_DEADLINE = 5
INSTANCES = ["ins-%s" % base36(n).rjust(8, "0") for n in range(1, 11)]  # --generate-instances 10
KEY = "skey-k1000003"
BOUND = API_DEADLINE + shared.FALLBACK_AFTER

HOLDER = r"""
import json, os, signal, sys, time
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as shared
mode, path, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "slots-when-triggered":  # take the slots only when the playbook says so, just before its bind, then stop
    trigger = sys.argv[4]
    print(json.dumps({"pid": os.getpid()}), flush=True)
    while not os.path.exists(trigger):
        time.sleep(0.02)
    limiter = shared.SharedRateLimiter(path, rate, 1.01)
    tokens = [limiter.acquire() for _slot in range(rate)]
    open(trigger + ".ready", "w").close()
    os.kill(os.getpid(), signal.SIGSTOP)
    time.sleep(600)
if mode == "lock":
    held = shared._LockedState(path)
    held.__enter__()
else:
    limiter = shared.SharedRateLimiter(path, rate, 1.01)
    tokens = [limiter.acquire() for _slot in range(rate)]
print(json.dumps({"pid": os.getpid()}), flush=True)
if mode == "slots-then-exit":
    os._exit(0)  # dies with every slot in flight, as a process killed mid-request does
time.sleep(600)
"""


@pytest.fixture
def emu():
    with EmulatorProcess(extra_args=["--operation-latency", "0.2", "--generate-instances", "10"]) as emulator:
        yield emulator


@pytest.fixture
def folder(tmp_path):
    return shared.private_folder(str(tmp_path / "limits"))


def state_path(emu, folder, action):
    return os.path.join(folder, shared.state_file_name(emu.secret_id, emu.region, emu.url, action))


@pytest.fixture
def start_holder(collections_path, tmp_path):
    """start(mode, path, rate, prefix=(), trigger=None): a process holding the shared limit's lock or slots (HOLDER)."""
    def start(mode, path, rate, prefix=(), trigger=None):
        env = clean_environment(tmp_path, PYTHONPATH=collections_path)
        extra = [trigger] if trigger else []
        proc = subprocess.Popen(list(prefix) + [sys.executable, "-c", HOLDER, mode, path, str(rate)] + extra, env=env,  # pylint: disable=consider-using-with
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()  # the holder holds what it should once it has printed
        assert line, proc.stderr.read()
        proc.said = json.loads(line)
        return proc
    return start


def end(proc):
    """Resume (if stopped) and kill a holder; always called in a finally."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        except ProcessLookupError:
            pass
    proc.communicate(timeout=30)


def run_bind(ansible_env, tmp_path, emu, folder, pre_tasks=""):
    """One playbook: optional tasks, then bind (or unbind, alternating) the key to the 10 instances; the results with durations."""
    text = textwrap.dedent("""
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: warm up
          tencentcloud.cvm.cvm_keypair_association: {instance_ids: [ins-1], key_ids: [%s]}
          ignore_errors: true
        - name: startup
          tencentcloud.cvm.cvm_keypair_association: {instance_ids: [ins-1], key_ids: [%s]}
          ignore_errors: true
    """ % (KEY, KEY)) + textwrap.indent(textwrap.dedent(pre_tasks), "    ")
    path = tmp_path / "bind.yml"
    path.write_text(text)
    env = ansible_env(emu, {"TENCENTCLOUD_CVM_RATE_LIMIT_DIR": folder, "TENCENTCLOUD_API_DEADLINE": str(API_DEADLINE)})
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    return proc, read_results(proc, env)


def bind_task(name, state="present"):
    return """
    - name: %s
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: %s
        key_ids: [%s]
        state: %s
    """ % (name, json.dumps(INSTANCES), KEY, state)


def assert_bound_in_time(proc, records, name="bind"):
    (record,) = [r for r in records if r["task"] == name]
    assert record["status"] == "ok", (record["result"].get("msg"), proc.stdout[-3000:])
    assert "Traceback" not in proc.stdout + proc.stderr
    # What starting a module costs on this machine now (a task refused before any request and before any limiter, after
    # a first one that built the module's payload) is outside the module's control: the bound applies to the rest.
    (startup,) = [r for r in records if r["task"] == "startup"]
    assert startup["status"] == "failed" and "ins-1" in startup["result"]["msg"]
    spent = record["duration"] - startup["duration"]
    print("%s: %.1f s after %.1f s of startup (bound %.1f s)" % (name, spent, startup["duration"], BOUND))  # -rP shows the margin
    assert spent <= BOUND, "the bind took %.1f s beyond startup, more than api_deadline + fallback bound = %.1f s" % (spent, BOUND)
    return record


def test_a_frozen_lock_holder_costs_at_most_the_fallback_bound_and_one_warning(ansible_env, tmp_path, emu, folder, start_holder):
    holder = start_holder("lock", state_path(emu, folder, "DescribeInstances"), 40)
    try:
        os.kill(holder.pid, signal.SIGSTOP)
        proc, records = run_bind(ansible_env, tmp_path, emu, folder, bind_task("bind"))
    finally:
        end(holder)
    record = assert_bound_in_time(proc, records)
    warnings = record["result"].get("warnings") or []
    assert len(warnings) == 1 and "stayed locked for 5 s" in warnings[0] and shared.FOLDER_ENV in warnings[0], warnings
    assert all(emu.key_ids(i) == [KEY] for i in INSTANCES)


TRIGGER = """
- name: the holder takes every slot now, then stops itself
  ansible.builtin.shell: "touch {0} && for i in $(seq 600); do [ -e {0}.ready ] && exit 0; sleep 0.05; done; exit 1"
  changed_when: false
"""


@pytest.mark.parametrize("action, rate", [("DescribeInstances", 40), ("AssociateInstancesKeyPairs", 10)])
def test_a_frozen_holder_of_every_slot_is_waited_on_at_most_the_fallback_bound(ansible_env, tmp_path, emu, folder, action, rate, start_holder):
    trigger = str(tmp_path / "take-the-slots")
    holder = start_holder("slots-when-triggered", state_path(emu, folder, action), rate, trigger=trigger)
    try:
        proc, records = run_bind(ansible_env, tmp_path, emu, folder, TRIGGER.format(trigger) + textwrap.dedent(bind_task("bind")))
        with open("/proc/%d/stat" % holder.pid, encoding="ascii") as handle:
            assert handle.read().rpartition(")")[2].split()[0] == "T"  # it held the slots, stopped, all along
    finally:
        end(holder)
    (taken,) = [r for r in records if r["task"].startswith("the holder takes")]
    assert taken["status"] == "ok", taken
    assert_bound_in_time(proc, records)
    assert all(emu.key_ids(i) == [KEY] for i in INSTANCES)
    assert [r for r in emu.requests()["requests"] if r["error_code"] == "RequestLimitExceeded"] == []


def test_slots_of_a_holder_killed_with_9_are_free_at_once(ansible_env, tmp_path, emu, folder, start_holder):
    holder = start_holder("slots", state_path(emu, folder, "DescribeInstances"), 40)
    try:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        proc, records = run_bind(ansible_env, tmp_path, emu, folder, bind_task("bind"))
    finally:
        end(holder)
    record = assert_bound_in_time(proc, records)
    assert not record["result"].get("warnings")


def test_slots_of_a_holder_in_another_pid_namespace_are_free_once_it_is_gone(ansible_env, tmp_path, emu, folder, start_holder):
    path = state_path(emu, folder, "DescribeInstances")
    holder = start_holder("slots-then-exit", path, 40, prefix=["unshare", "--pid", "--fork", "--kill-child"])
    try:
        holder.wait(timeout=30)
        assert holder.said["pid"] == 1  # pid 1 is always alive on the host: no PID can tell whether its slots still count
        with open(path, "rb") as handle:
            assert len(shared.parse_state(handle.read())[0]["slots"]) == 40
        proc, records = run_bind(ansible_env, tmp_path, emu, folder, bind_task("bind"))
    finally:
        end(holder)
    record = assert_bound_in_time(proc, records)
    assert not record["result"].get("warnings")


# Written over the state files before each bind; the file names are those of the actions a bind uses.
CORRUPTED = [
    '{"slots":[["t",1,null,null]]}',
    '{"paused_until":0,"slots":[["1-2-3",1,1000.0,null]]}',
    '{"paused_until":0,"slots":[["1-2-3",-1,1000.0,null]]}',
    '{"paused_until":0,"slots":[["1-2-3",99999999999999999999999999,1000.0,null]]}',
    '{"paused_until":0,"slots":[["1-2-3","12",1000.0,null]]}',
    '{"paused_until":NaN,"slots":[]}',
    '{"paused_until":Infinity,"slots":[]}',
    '{"paused_until":1e400,"slots":[]}',
    '{"paused_until":"0","slots":[]}',
    '{"paused_until":0,"slots":[["0123456789abcdef",NaN,null]]}',
    '{"paused_until":0,"slots":[["0123456789abcdef",1000.0,true]]}',
    '{"paused_until":0,"slots":{}}',
    '[]',
    'null',
    '{"paused_until":0,"slots":[[',
    '[' * 100000,
]
# Well-formed, with times no process of this boot wrote: used as they are (no warning), never waited on.
ABSURD = ['{"paused_until":1e300,"slots":[]}', '{"paused_until":0,"slots":[["0123456789abcdef",1e300,null]]}']


@pytest.mark.slow
def test_corrupted_state_files_are_replaced_and_never_stop_a_bind(ansible_env, tmp_path, emu, folder):
    actions = ("DescribeInstances", "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")
    sources = []
    for number, content in enumerate(CORRUPTED + ABSURD):
        source = tmp_path / ("corrupt-%d" % number)
        source.write_text(content)
        sources.append(str(source))
    big = tmp_path / "corrupt-50mb"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB of zero bytes
    sources.insert(len(CORRUPTED), str(big))
    corrupted = len(CORRUPTED) + 1
    tasks = ""
    for number, source in enumerate(sources):
        tasks += textwrap.dedent("""
        - name: corrupt %d
          ansible.builtin.copy:
            src: %s
            dest: "{{ item }}"
            mode: "0600"
          loop: %s
        """) % (number, source, json.dumps([state_path(emu, folder, action) for action in actions]))
        tasks += textwrap.dedent(bind_task("bind %d" % number, "present" if number % 2 == 0 else "absent"))
    proc, records = run_bind(ansible_env, tmp_path, emu, folder, tasks)
    for number in range(len(sources)):
        record = assert_bound_in_time(proc, records, "bind %d" % number)
        assert record["result"]["changed"]
        warnings = record["result"].get("warnings") or []
        if number < corrupted:
            assert len(warnings) == 1 and "was replaced" in warnings[0], (number, warnings)
        else:
            assert warnings == [], (number, warnings)
    assert len(sources) % 2 == 1 and all(emu.key_ids(i) == [KEY] for i in INSTANCES)  # the last bind (an even one) bound the key
    for action in actions:
        with open(state_path(emu, folder, action), "rb") as handle:
            assert shared.parse_state(handle.read())[1] == ""


def put_odd_entries(folder, tmp_path, emu, monkeypatch):
    """A FIFO (stray, and in the place of a state file a bind uses), a folder, a socket and a link to a FIFO in the folder."""
    monkeypatch.chdir(folder)  # a socket's name must be short
    elsewhere = str(tmp_path / ("fifo-elsewhere-%d" % len(os.listdir(tmp_path))))
    os.mkfifo("zz.rate")
    state = state_path(emu, folder, "DescribeInstances")
    if os.path.lexists(state):
        os.unlink(state)
    os.mkfifo(state)
    os.mkdir("d.rate")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("s.slot")
    sock.close()
    os.mkfifo(elsewhere)
    os.symlink(elsewhere, "l.rate")
    return ["zz.rate", "d.rate", "s.slot", "l.rate"]


def test_a_fifo_and_other_odd_entries_in_the_folder_never_hang_a_module_or_the_inventory(ansible_env, tmp_path, emu, folder, monkeypatch):
    names = put_odd_entries(folder, tmp_path, emu, monkeypatch)
    proc, records = run_bind(ansible_env, tmp_path, emu, folder, bind_task("bind"))
    (record,) = [r for r in records if r["task"] == "bind"]
    assert record["status"] == "ok" and record["result"]["changed"], (record["result"].get("msg"), proc.stdout[-3000:])
    warnings = [w for r in records for w in r["result"].get("warnings") or []]
    assert len(warnings) == 1 and "not a regular file" in warnings[0] and shared.FOLDER_ENV in warnings[0], warnings
    assert all(name in warnings[0] for name in names)
    assert all(emu.key_ids(i) == [KEY] for i in INSTANCES)
    assert [n for n in os.listdir(folder) if n in names] == []

    put_odd_entries(folder, tmp_path, emu, monkeypatch)
    config = tmp_path / "odd.cvm.yml"
    config.write_text("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: [instance_id]\n")
    listing = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(config), "--list"], env=ansible_env(emu, {
        "TENCENTCLOUD_CVM_RATE_LIMIT_DIR": folder, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}),
        capture_output=True, text=True, timeout=600, check=False)
    assert listing.returncode == 0, listing.stderr
    assert set(INSTANCES) <= set(json.loads(listing.stdout)["_meta"]["hostvars"])
    assert "not a regular file" in listing.stderr and "zz.rate" in listing.stderr


LOCKS_HOLDER = r"""
import fcntl, os, sys
fds = [os.open(path, os.O_RDWR | os.O_CREAT, 0o600) for path in sys.argv[1:]]
for fd in fds:
    fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
os.kill(os.getpid(), __import__("signal").SIGSTOP)
"""

# A bind then an unbind of the 10 instances through the real client (real SDK, real HTTP, the real shared limiter) in one
# process, as one module run does; the only addition is a count of the lock waits and of how each ended.
COUNTED_RUN = r"""
import json, os, sys
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials, _key_changes, _shared_limiter as shared
waits = []
real = shared.lock_within
def counted(fd, seconds, *args, **kwargs):
    took = real(fd, seconds, *args, **kwargs)
    waits.append(took)
    return took
shared.lock_within = counted
warnings = []
api = _client.CvmApi(_credentials.sdk_credential.Credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"]),
                     os.environ["TENCENTCLOUD_REGION"], endpoint=os.environ["TENCENTCLOUD_ENDPOINT"], warn=warnings.append, api_deadline=5)
instances, key = json.loads(sys.argv[1]), sys.argv[2]
results = {}
for state in ("present", "absent"):
    outcome = _key_changes.converge_bindings(api, _key_changes.BindingGoal([key], instance_ids=instances, state=state))
    results[state] = {"failure": outcome.failure and str(outcome.failure.message or outcome.failure.error), "written": len(outcome.written)}
print(json.dumps({"waits": waits, "results": results, "warnings": warnings, "fell_back": shared.fell_back()}))
"""


def test_a_stopped_holder_of_every_state_file_lock_costs_one_fallback_wait_in_all(ansible_env, tmp_path, emu, folder, collections_path):
    actions = ("DescribeInstances", "DescribeKeyPairs", "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")
    env = ansible_env(emu, {"TENCENTCLOUD_CVM_RATE_LIMIT_DIR": folder, "PYTHONPATH": collections_path})
    paths = [state_path(emu, folder, action) for action in actions]
    holder = subprocess.Popen([sys.executable, "-c", LOCKS_HOLDER] + paths,  # pylint: disable=consider-using-with
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline() == "held\n"
        run = subprocess.run([sys.executable, "-c", COUNTED_RUN, json.dumps(INSTANCES), KEY], env=env, capture_output=True, text=True,
                             timeout=600, check=False)
        with open("/proc/%d/stat" % holder.pid, encoding="ascii") as handle:
            assert handle.read().rpartition(")")[2].split()[0] == "T"  # it held every lock, stopped, all along
    finally:
        end(holder)
    assert run.returncode == 0, run.stderr
    said = json.loads(run.stdout)
    assert said["results"] == {"present": {"failure": None, "written": 10}, "absent": {"failure": None, "written": 10}}, said
    assert said["waits"] == [False] and said["fell_back"], said  # one lock wait, which ran out; no state file was tried after it
    assert len(said["warnings"]) == 1 and "stayed locked" in said["warnings"][0], said["warnings"]
    assert all(emu.key_ids(i) == [] for i in INSTANCES)
