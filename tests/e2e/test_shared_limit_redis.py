# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rate limit shared through a real redis-server (rate_limit_url): one budget for processes that share no folder, and
every fault of the server (unreachable, lost, slow, wrong password, garbage) turned into one warning and the
single-machine limit. redis-server is started by the fixtures on 127.0.0.1 at a free port (tests/support/redis_setup.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as shared
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import RateLimiter, check_rate_limit_url, SettingsError
from ansible_env import BIN, clean_environment  # pylint: disable=import-error
from fleet import fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from node_fleet import run_nodes  # pylint: disable=import-error
from redis_setup import garbage_server, redis_server, redis_server_with_password, redis_tls_server, silent_server  # noqa: F401 pylint: disable=import-error,unused-import

redis = pytest.importorskip("redis")  # in requirements.txt: the project's venv has it

WINDOW = 1.01
ENDPOINT = "http://127.0.0.1:1"
PASSWORD = "rl-secret-pw"


class Waited(Exception):
    """acquire() had to wait: the budget is used up."""


def refuse_to_wait(_seconds):
    raise Waited()


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    """Every test starts as a new process: no warning given yet, nothing fallen back."""
    monkeypatch.setattr(shared, "_WARNED", set())
    monkeypatch.setattr(shared, "_PRUNED", set())
    monkeypatch.setattr(shared, "_FELL_BACK", set())
    monkeypatch.setattr(shared, "_REDIS_FELL_BACK", set())


@pytest.fixture
def hang_guard():
    """A call that would block forever fails instead (SIGALRM), so a hang is a failure, not a stuck run."""
    def alarm(_signum, _frame):
        raise TimeoutError("blocked on the rate limit server")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def redis_limiter(url, rate=3, secret_id="AKIDx", region="ap-guangzhou", action="DescribeKeyPairs", sleep=refuse_to_wait, password=None):
    client = shared.connect_redis(url, password)
    return shared.RedisRateLimiter(client, shared.state_file_name(secret_id, region, ENDPOINT, action), rate, WINDOW, sleep=sleep,
                                   password=password, shown_url=url)


def made(url, tmp_path, warnings, password=None, local=None, ca_bundle=None):
    local = local or RateLimiter(10)
    limiter = shared.make_limiter("AKIDx", "ap-guangzhou", ENDPOINT, "DescribeKeyPairs", 10, WINDOW, lambda: local,
                                  warn=warnings.append, folder=str(tmp_path / "limits"), url=url, password=password,
                                  shown_url=check_rate_limit_url(url)[1], ca_bundle=ca_bundle)
    return limiter, local


# -- the budget --------------------------------------------------------------------------------------------------------

def test_two_limiters_on_one_server_share_the_rate(redis_server):
    first, second = redis_limiter(redis_server.url), redis_limiter(redis_server.url)
    tokens = [first.acquire(), second.acquire(), first.acquire()]
    with pytest.raises(Waited):
        second.acquire()  # the fourth request of the window waits, whichever limiter sent the three
    for token, owner in zip(tokens, (first, second, first)):
        owner.release(token)
    with pytest.raises(Waited):
        first.acquire()  # answered now: the three still count for one window after their answers


def test_a_request_in_flight_holds_its_slot_and_counts_one_window_after_its_answer(redis_server):
    waits = []
    first = redis_limiter(redis_server.url, rate=1)
    token = first.acquire()
    time.sleep(WINDOW + 0.2)  # in flight for longer than a window: still counted (the server may count it at any moment)

    def answer_then_refuse(seconds):
        waits.append(seconds)
        if len(waits) == 1:
            first.release(token)
            return
        raise Waited()
    second = redis_limiter(redis_server.url, rate=1, sleep=answer_then_refuse)
    with pytest.raises(Waited):
        second.acquire()
    assert waits[0] == pytest.approx(shared.REDIS_POLL, abs=shared.MAX_JITTER + 0.001)  # polled while in flight
    assert waits[1] > 0.5  # then the window of the answer, not of the send long ago


def test_accounts_regions_and_actions_have_budgets_of_their_own(redis_server):
    base = redis_limiter(redis_server.url, rate=1)
    base.acquire()
    for other in (dict(secret_id="AKIDy"), dict(region="ap-shanghai"), dict(action="DescribeInstances")):
        redis_limiter(redis_server.url, rate=1, **other).acquire()  # does not wait
    with pytest.raises(Waited):
        redis_limiter(redis_server.url, rate=1).acquire()


def test_a_pause_holds_back_every_limiter_of_the_server(redis_server):
    first, second = redis_limiter(redis_server.url), redis_limiter(redis_server.url)
    first.pause(2.0)
    with pytest.raises(Waited):
        second.acquire()


def test_the_keys_name_no_account(redis_server):
    redis_limiter(redis_server.url, secret_id="AKIDsecretish").release(redis_limiter(redis_server.url, secret_id="AKIDsecretish").acquire())
    keys = redis.Redis.from_url(redis_server.url).keys("*")
    assert keys and all(b"AKIDsecretish" not in key and key.startswith(shared.KEY_PREFIX.encode()) for key in keys)


def test_the_password_option_opens_a_server_that_requires_one(redis_server_with_password, tmp_path):
    warnings = []
    limiter, local = made(redis_server_with_password.url, tmp_path, warnings, password=PASSWORD)
    limiter.release(limiter.acquire())
    assert warnings == [] and limiter._local is None and limiter is not local  # pylint: disable=protected-access
    assert isinstance(limiter._shared, shared.RedisRateLimiter)  # pylint: disable=protected-access


def test_rediss_with_the_servers_ca_shares_the_budget_over_tls(redis_tls_server, tmp_path, hang_guard):
    warnings = []
    limiter, _local = made(redis_tls_server.url, tmp_path, warnings, ca_bundle=redis_tls_server.ca)
    limiter.release(limiter.acquire())
    assert warnings == [] and isinstance(limiter._shared, shared.RedisRateLimiter) and limiter._local is None  # pylint: disable=protected-access


def test_rediss_without_its_ca_does_not_trust_the_server_and_falls_back(redis_tls_server, tmp_path, hang_guard):
    warnings = []
    limiter, _local = made(redis_tls_server.url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    assert len(warnings) == 1 and "rediss://127.0.0.1:%d" % redis_tls_server.port in warnings[0] and "certificate" in warnings[0].lower(), warnings


# -- faults: one warning naming the URL without its password, the single-machine limit, no hang -------------------------

def assert_one_clean_warning(warnings, shown_port, secret=PASSWORD):
    assert len(warnings) == 1, warnings
    assert "127.0.0.1:%d" % shown_port in warnings[0] and secret not in warnings[0], warnings


def test_unreachable_at_start_falls_back_to_the_folder_with_one_warning(tmp_path, hang_guard):
    port = __import__("redis_setup").free_port()  # nothing listens there
    warnings = []
    url = "redis://:%s@127.0.0.1:%d/0" % (PASSWORD, port)
    limiter, local = made(url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    again, _local = made(url, tmp_path, warnings)  # another action of the same run: no second try, no second warning
    again.release(again.acquire())
    assert_one_clean_warning(warnings, port)
    assert "***@127.0.0.1" in warnings[0]
    assert isinstance(limiter._shared, shared.SharedRateLimiter) and limiter is not local  # pylint: disable=protected-access


def test_a_server_lost_mid_run_falls_back_once_and_every_request_goes_on(redis_server, tmp_path, hang_guard):
    warnings = []
    limiter, _local = made(redis_server.url, tmp_path, warnings)
    for _request in range(3):
        limiter.release(limiter.acquire())
    token = limiter.acquire()
    redis_server.kill()
    limiter.release(token)  # the answer of a request sent before the loss
    for _request in range(5):
        limiter.release(limiter.acquire())
    assert_one_clean_warning(warnings, redis_server.port)
    assert isinstance(limiter._local, shared._FallbackOnError)  # pylint: disable=protected-access  # the folder's limit


def test_a_silent_server_costs_one_timeout_and_falls_back(silent_server, tmp_path, hang_guard):
    warnings = []
    limiter, _local = made(silent_server.url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    assert_one_clean_warning(warnings, silent_server.port)
    assert "Timeout" in warnings[0]


def test_a_wrong_password_falls_back_with_one_warning_that_does_not_show_it(redis_server_with_password, tmp_path, hang_guard):
    warnings = []
    wrong = "not-the-pw-123"
    url = "redis://:%s@127.0.0.1:%d/0" % (wrong, redis_server_with_password.port)
    limiter, _local = made(url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    assert_one_clean_warning(warnings, redis_server_with_password.port, secret=wrong)
    assert "***@127.0.0.1" in warnings[0] and PASSWORD not in warnings[0]


def test_no_password_at_all_falls_back_with_one_warning(redis_server_with_password, tmp_path, hang_guard):
    warnings = []
    limiter, _local = made(redis_server_with_password.url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    assert_one_clean_warning(warnings, redis_server_with_password.port)


def test_a_garbage_answer_falls_back_with_one_warning(garbage_server, tmp_path, hang_guard):
    warnings = []
    limiter, _local = made(garbage_server.url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    assert_one_clean_warning(warnings, garbage_server.port)


def test_an_answer_that_is_not_ours_falls_back(redis_server, tmp_path, hang_guard):
    """Another program wrote a key of ours with another type: the script fails on the server, and the run goes on."""
    name = shared.state_file_name("AKIDx", "ap-guangzhou", ENDPOINT, "DescribeKeyPairs")
    redis.Redis.from_url(redis_server.url).set(shared.KEY_PREFIX + "{" + name[:40] + "}:flight", "not a sorted set")
    warnings = []
    limiter, _local = made(redis_server.url, tmp_path, warnings)
    limiter.release(limiter.acquire())
    assert_one_clean_warning(warnings, redis_server.port)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis//127.0.0.1", "redis://127.0.0.1:6379/0 x", "memcached://:pw-xyz@h"])
def test_a_url_that_is_not_redis_is_refused_naming_it_without_password(url):
    with pytest.raises(SettingsError) as refused:
        check_rate_limit_url(url)
    assert "rate_limit_url" in str(refused.value) and "pw-xyz" not in str(refused.value)


def test_without_the_option_nothing_changes_and_redis_is_not_imported(tmp_path, collections_path):
    code = ("import sys; from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as s, _client as c\n"
            "l = s.make_limiter('AKIDx', 'r', 'e', 'A', 3, 1.01, lambda: c.RateLimiter(3), folder=sys.argv[1])\n"
            "l.release(l.acquire()); print(type(l._shared).__name__, 'redis' in sys.modules)")
    env = clean_environment(tmp_path, PYTHONPATH=collections_path)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "limits")], env=env, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["SharedRateLimiter", "False"]


# -- processes against the emulator -------------------------------------------------------------------------------------

WORKER = r"""
import json, os, sys, time
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials
calls, start_at = int(sys.argv[1]), float(sys.argv[2])
warnings = []
api = _client.CvmApi(_credentials.resolve_credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"]),
                     os.environ["TENCENTCLOUD_REGION"], endpoint=os.environ["TENCENTCLOUD_ENDPOINT"], warn=warnings.append,
                     rate_limit_url=os.environ.get("TENCENTCLOUD_RATE_LIMIT_URL"))
time.sleep(max(0.0, start_at - time.time()))  # every process starts its burst at the same moment
done = 0
for _ in range(calls):
    api.call("DescribeKeyPairs", {"Limit": 1})
    done += 1
    if done == 3:
        open(os.environ["TC_WORKER_MARK"], "a").close()
print(json.dumps({"warnings": warnings, "done": done}))
"""


def start_workers(collections_path, emu, tmp_path, url, processes, calls):
    """Processes with a folder and a TMPDIR each (as on separate machines or pods), sharing only the Redis URL."""
    start_at = time.time() + 1.5 + processes * 0.1
    workers = []
    for number in range(processes):
        home = tmp_path / ("node%d" % number)
        (home / "tmp").mkdir(parents=True)
        env = clean_environment(home, PYTHONPATH=collections_path, TENCENTCLOUD_CVM_RATE_LIMIT_DIR=home / "limits", TMPDIR=home / "tmp",
                                TENCENTCLOUD_RATE_LIMIT_URL=url, TC_WORKER_MARK=home / "mark", **emu.env())
        workers.append(subprocess.Popen([sys.executable, "-c", WORKER, str(calls), str(start_at)], env=env,  # pylint: disable=consider-using-with
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return workers


def finish(workers):
    outputs = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    return outputs


@pytest.mark.nondeterministic
def test_processes_with_separate_folders_share_one_budget_through_redis(collections_path, redis_server, tmp_path):
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:  # documented limits: 10/s for DescribeKeyPairs
        outputs = finish(start_workers(collections_path, emu, tmp_path, redis_server.url, processes=8, calls=5))
        log = emu.requests()
        assert all(output["warnings"] == [] for output in outputs)
        assert log["ok_counts"]["DescribeKeyPairs"] == 40
        assert [r for r in log["requests"] if r["error_code"] == "RequestLimitExceeded"] == [] and log["counts"]["DescribeKeyPairs"] == 40


@pytest.mark.nondeterministic
def test_redis_killed_mid_run_every_request_still_succeeds(collections_path, redis_server, tmp_path):
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        workers = start_workers(collections_path, emu, tmp_path, redis_server.url, processes=4, calls=12)
        deadline = time.monotonic() + 120
        while not all((tmp_path / ("node%d" % number) / "mark").exists() for number in range(4)) and time.monotonic() < deadline:
            time.sleep(0.05)
        redis_server.kill()
        outputs = finish(workers)
        assert emu.requests()["ok_counts"]["DescribeKeyPairs"] == 48
    assert all(output["done"] == 12 for output in outputs)
    warned = [output["warnings"] for output in outputs]
    assert all(len(w) <= 1 for w in warned) and any(len(w) == 1 for w in warned)
    assert all("127.0.0.1:%d" % redis_server.port in w[0] for w in warned if w)


# -- through a module, as a playbook uses it ----------------------------------------------------------------------------

def info_task(name, url, extra=""):
    return """
      - name: %s
        tencentcloud.cvm.cvm_keypair_association_info:
          instance_ids: [ins-a1000004]
          rate_limit_url: %s%s
        ignore_errors: true
    """ % (name, json.dumps(url), extra)


def run_info(playbook, emulator, tasks, env=None):
    rc, results, stdout, stderr = playbook(emulator, """
    - hosts: localhost
      gather_facts: false
      tasks:
    """ + tasks, verbosity=4, env=dict({"ANSIBLE_INJECT_INVOCATION": "1"}, **(env or {})))
    assert rc == 0, stderr
    return results, stdout + stderr + json.dumps(results)


def test_a_module_shares_its_budget_through_redis_and_never_shows_the_password(emulator, playbook, redis_server_with_password):
    url = "redis://:%s@127.0.0.1:%d/0" % (PASSWORD, redis_server_with_password.port)
    results, output = run_info(playbook, emulator, info_task("in url", url)
                               + info_task("in option", redis_server_with_password.url, "\n          rate_limit_password: %s" % PASSWORD))
    for result in results.values():
        assert not result.get("failed") and not result.get("warnings"), result
    assert PASSWORD not in output
    keys = redis.Redis.from_url(redis_server_with_password.url, password=PASSWORD).keys(shared.KEY_PREFIX + "*")
    assert keys  # the requests were counted on the server


def test_a_module_with_a_wrong_password_warns_once_and_succeeds(emulator, playbook, redis_server_with_password):
    url = "redis://:wrong-pw-4567@127.0.0.1:%d/0" % redis_server_with_password.port
    results, output = run_info(playbook, emulator, info_task("wrong", url))
    result = results["wrong"]
    assert not result.get("failed") and [i["instance_id"] for i in result["instances"]] == ["ins-a1000004"], result
    warnings = [w for w in result.get("warnings", []) if "rate limit" in w]
    assert len(warnings) == 1 and "***@127.0.0.1:%d" % redis_server_with_password.port in warnings[0], result
    assert "wrong-pw-4567" not in output


def test_a_module_refuses_a_url_that_is_not_redis_before_any_request(emulator, playbook):
    results, output = run_info(playbook, emulator, info_task("bad", "http://:pw-bad-999@127.0.0.1:6379"))
    result = results["bad"]
    assert result.get("failed") and "rate_limit_url" in result["msg"] and "redis://" in result["msg"], result
    assert "pw-bad-999" not in output
    assert emulator.requests()["counts"] == {}


# -- four nodes on one fleet (tests/support/node_fleet.py) --------------------------------------------------------------

FLEET = 10000  # as docs/performance.md measures it
NODES = 4
OPERATION_SECONDS = 2.0  # real operations take seconds


@pytest.mark.slow
@pytest.mark.nondeterministic
def test_four_nodes_on_10000_instances_share_one_budget_through_redis(collections_path, redis_server, tmp_path):
    document = fleet_state(FLEET)
    with EmulatorProcess(state=document, extra_args=["--operation-latency", str(OPERATION_SECONDS)]) as emu:
        row = run_nodes(emu, document, NODES, tmp_path, collections_path, url=redis_server.url)
    assert row["rcs"] == [0] * NODES and row["failed"] == 0, row
    assert row["bound"] == FLEET == row["instances"], row
    assert row["refused"] <= 0.01 * row["requests"], row
    assert row["warnings"] == [], row


@pytest.mark.slow
@pytest.mark.nondeterministic
def test_redis_killed_while_four_nodes_work_every_instance_is_still_bound(collections_path, redis_server, tmp_path):
    fleet = 2000
    document = fleet_state(fleet)

    def kill_after_the_first_writes(_started):
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and emu.requests()["counts"].get("AssociateInstancesKeyPairs", 0) < NODES:
            time.sleep(0.2)
        redis_server.kill()
    with EmulatorProcess(state=document, extra_args=["--operation-latency", str(OPERATION_SECONDS)]) as emu:
        row = run_nodes(emu, document, NODES, tmp_path, collections_path, url=redis_server.url, during=kill_after_the_first_writes)
    assert redis_server.proc.poll() is not None  # it was killed while the nodes worked
    assert row["rcs"] == [0] * NODES and row["failed"] == 0, row
    assert row["bound"] == fleet == row["instances"], row
    assert 1 <= len(row["warnings"]) and all("127.0.0.1:%d" % redis_server.port in w for w in row["warnings"]), row


# -- the inventory plugin and the event source --------------------------------------------------------------------------

def test_the_inventory_plugin_counts_its_reads_on_redis(emulator, ansible_env, tmp_path, redis_server_with_password):
    path = tmp_path / "fleet.cvm.yml"
    path.write_text("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: [instance_id]\n")
    url = "redis://:%s@127.0.0.1:%d/0" % (PASSWORD, redis_server_with_password.port)
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-vvvv", "-i", str(path), "--list"],
                          env=ansible_env(emulator, {"TENCENTCLOUD_RATE_LIMIT_URL": url}), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and "ins-a1000004" in proc.stdout, proc.stderr
    assert "rate limit" not in proc.stderr and PASSWORD not in proc.stdout + proc.stderr
    assert redis.Redis.from_url(redis_server_with_password.url, password=PASSWORD).keys(shared.KEY_PREFIX + "*")


def test_the_inventory_plugin_refuses_a_url_that_is_not_redis_before_any_request(emulator, ansible_env, tmp_path):
    path = tmp_path / "fleet.cvm.yml"
    path.write_text("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nrate_limit_url: 'ftp://:pw-inv-777@127.0.0.1:1'\n")
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list"],
                          env=ansible_env(emulator, {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode != 0 and "rate_limit_url" in proc.stderr and "***@" in proc.stderr, proc.stderr
    assert "pw-inv-777" not in proc.stdout + proc.stderr
    assert emulator.requests()["counts"] == {}


def test_the_event_source_refuses_a_url_that_is_not_redis_naming_it_without_password():
    from ansible_collections.tencentcloud.cvm.plugins.plugin_utils import _instance_watch as watch  # pylint: disable=import-outside-toplevel
    with pytest.raises(watch.SourceArgumentError) as refused:
        watch.parse_arguments({"region": "ap-guangzhou", "rate_limit_url": "http://:pw-eda-888@127.0.0.1:6379", "secret_id": "AKIDx",
                               "secret_key": "k"})
    assert "rate_limit_url" in str(refused.value) and "pw-eda-888" not in str(refused.value)


def test_the_event_source_builds_its_clients_with_the_redis_url(redis_server):
    from ansible_collections.tencentcloud.cvm.plugins.plugin_utils import _instance_watch as watch  # pylint: disable=import-outside-toplevel
    settings = watch.parse_arguments({"region": "ap-guangzhou", "rate_limit_url": redis_server.url, "secret_id": "AKIDx", "secret_key": "k",
                                      "endpoint": "http://127.0.0.1:1"})
    apis = watch.connect(settings, warn=None)
    assert [api.rate_limit_url for api in apis.values()] == [redis_server.url]


@pytest.mark.parametrize("url, password", [("redis://:pw-url-123@127.0.0.1:1/0", None), ("redis://user:pw-url-123@h", None),
                                           ("redis://127.0.0.1:1/0", "pw-url-123")])
def test_a_library_message_quoting_the_password_is_cut(url, password):
    text = shared._hide("AuthenticationError: pw-url-123 refused for redis://user:pw-url-123@h", url, password)  # pylint: disable=protected-access
    assert "pw-url-123" not in text and "***" in text
