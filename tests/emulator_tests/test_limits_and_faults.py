# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rate limits and injected faults, as the unmodified SDK experiences them."""

import subprocess
import time

import pytest

from harness import EmulatorProcess, emulator_command  # pylint: disable=import-error

from .sdk_calls import call, error_of, make_client

pytestmark = pytest.mark.nondeterministic  # every test here involves faults, concurrency, signals or timing

BIND = "AssociateInstancesKeyPairs"


def codes_of_burst(client_, action, params, count):
    codes = []
    for attempt in range(count):
        try:
            call(client_, action, params)
            codes.append("ok")
        except Exception as error:  # pylint: disable=broad-exception-caught
            codes.append(getattr(error, "code", repr(error)))
    return codes


def test_eleven_rapid_binds_hit_the_default_limit(emu, client):
    codes = codes_of_burst(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]}, 11)
    assert "RequestLimitExceeded" in codes
    assert codes[0] == "ok"  # later ones are refused as busy or throttled; none is applied twice
    assert emu.requests()["counts"][BIND] == 11


def test_the_window_slides(emu, client):
    emu.configure(rate_limits={"DescribeKeyPairs": 2})
    assert codes_of_burst(client, "DescribeKeyPairs", {}, 3) == ["ok", "ok", "RequestLimitExceeded"]
    time.sleep(1.05)
    assert codes_of_burst(client, "DescribeKeyPairs", {}, 1) == ["ok"]


def test_limits_change_at_run_time(emu, client):
    emu.configure(rate_limits={"DescribeInstances": 3})
    assert codes_of_burst(client, "DescribeInstances", {}, 4) == ["ok"] * 3 + ["RequestLimitExceeded"]
    emu.configure(rate_limits={"DescribeInstances": None})
    assert codes_of_burst(client, "DescribeInstances", {}, 50) == ["ok"] * 50
    assert emu.config()["rate_limits"]["DescribeInstances"] is None


def test_internal_error_applies_nothing(emu, client):
    emu.configure(faults={"internal_error": 1.0})
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "InternalError" and error.requestId
    assert emu.operating() == [] and emu.instance("ins-a1000004")["LatestOperation"] == "StopInstances"
    assert emu.requests()["requests"][-1]["outcome"] == "error"


def test_http_502_is_a_server_network_error(emu, client):
    emu.configure(faults={"http_502": 1.0})
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "ServerNetworkError"
    assert emu.operating() == []
    assert emu.requests()["requests"][-1]["outcome"] == "http_502"


def test_dropped_connection_is_a_client_network_error(emu, client):
    emu.configure(faults={"drop": 1.0})
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "ClientNetworkError"
    assert emu.operating() == []
    log = emu.requests()
    assert log["requests"][-1]["outcome"] == "dropped"
    assert log["write_count"] == 1 and log["ok_counts"] == {}


def test_lost_response_is_applied_but_unanswered(emu, client):
    emu.configure(faults={"lost_response": 1.0})
    error = error_of(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "ClientNetworkError"
    record = emu.requests()["requests"][-1]
    assert record["outcome"] == "lost_response"
    assert emu.instance("ins-a1000004")["LatestOperationRequestId"] == record["request_id"]
    emu.wait_idle()
    assert emu.instance("ins-a1000004")["LoginSettings"]["KeyIds"] == ["skey-k1000003"]


def test_throttle_fault(emu, client):
    emu.configure(faults={"throttle": 1.0})
    assert error_of(client, "DescribeInstances").code == "RequestLimitExceeded"


def test_operation_failed_fault(emu, client):
    emu.configure(faults={"operation_failed": 1.0})
    request_id = call(client, BIND, {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})["RequestId"]
    emu.wait_idle()
    done = emu.instance("ins-a1000004")
    assert (done["LatestOperationState"], done["LatestOperationRequestId"]) == ("FAILED", request_id)
    assert done["LatestOperationErrorMsg"] and done["LoginSettings"]["KeyIds"] is None


def test_response_latency(emu, client):
    emu.configure(faults={"response_latency_ms": 300})
    started = time.monotonic()
    call(client, "DescribeKeyPairs")
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    emu.state()
    assert time.monotonic() - started < 0.3  # never on the control API


def test_faults_never_touch_the_control_api(emu):
    emu.configure(faults={name: 1.0 for name in ("internal_error", "http_502", "drop", "lost_response", "throttle")})
    assert len(emu.state()["instances"]) == 6
    assert emu.requests()["requests"] == []


def test_struck_faults_are_counted_by_name_and_no_reset_clears_the_count(emu, client):
    """GET /_emulator/faults: what the suite's nondeterminism guard reads (tests/support/nondeterminism_guard.py)."""
    before = emu.faults_struck()
    emu.configure(faults={"throttle": 1.0})
    assert error_of(client, "DescribeInstances").code == "RequestLimitExceeded"
    emu.configure(faults={"throttle": 0.0}, fault_plan={"DescribeKeyPairs": {"1": "internal_error"}},
                  rate_limits={"DescribeInstances": 1})
    assert codes_of_burst(client, "DescribeKeyPairs", {}, 2) == ["InternalError", "ok"]
    # One request a second: the first refusal comes with the first two requests sent within a second.
    assert any(codes_of_burst(client, "DescribeInstances", {}, 1) == ["RequestLimitExceeded"] for _request in range(100))
    emu.reset(everything=True)
    after = emu.faults_struck()
    assert {name: count - before.get(name, 0) for name, count in after.items() if count != before.get(name, 0)} == {
        "throttle": 1, "internal_error": 1, "rate_limit": 1}


def test_bad_fault_configuration_is_refused(emu):
    with pytest.raises(Exception, match="between 0 and 1"):
        emu.configure(faults={"drop": 1.5})
    with pytest.raises(Exception, match="unknown"):
        emu.configure(faults={"meteor": 0.1})
    assert emu.config()["faults"]["drop"] == 0.0


def test_seeded_faults_are_reproducible():
    """Each request draws its faults independently; the same --seed gives the same sequence."""
    sequences = []
    for run in range(2):
        with EmulatorProcess(extra_args=["--seed", "42", "--fault-internal-error", "0.5", "--no-rate-limit"]) as emu:
            client = make_client(emu)
            outcomes = []
            for attempt in range(20):
                try:
                    call(client, "DescribeKeyPairs")
                    outcomes.append("ok")
                except Exception as error:  # pylint: disable=broad-exception-caught
                    outcomes.append(error.code)
            sequences.append(outcomes)
    assert sequences[0] == sequences[1]
    assert {"ok", "InternalError"} == set(sequences[0])


def _outcome(client_, action, params=None):
    try:
        call(client_, action, params or {})
        return "ok"
    except Exception as error:  # pylint: disable=broad-exception-caught
        return getattr(error, "code", repr(error))


def test_a_requests_faults_do_not_depend_on_what_else_arrived_first():
    """Draws are keyed by the request (action, body, its own arrival count), so interleaving other requests changes nothing."""
    requests = [("DescribeKeyPairs", {"KeyIds": ["skey-k100000%d" % n]}) for n in range(1, 5)] * 3
    runs = []
    for order in (requests, list(reversed(requests))):
        with EmulatorProcess(extra_args=["--seed", "5", "--fault-internal-error", "0.5", "--no-rate-limit"]) as emu:
            client_ = make_client(emu)
            seen = {}
            for action, params in order:
                seen.setdefault(params["KeyIds"][0], []).append(_outcome(client_, action, params))
            runs.append(seen)
    assert runs[0] == runs[1]
    assert {"ok", "InternalError"} == {outcome for outcomes in runs[0].values() for outcome in outcomes}


def test_the_fault_plan_names_faults_by_arrival_of_the_same_request():
    plan = ["--fault-plan", "DescribeKeyPairs:1=internal_error", "--fault-plan", "DescribeKeyPairs:2=http_502",
            "--fault-plan", "DescribeKeyPairs:4=throttle"]
    with EmulatorProcess(extra_args=plan + ["--no-rate-limit"]) as emu:
        client_ = make_client(emu)
        first = [_outcome(client_, "DescribeKeyPairs") for attempt in range(5)]
        assert first == ["InternalError", "ServerNetworkError", "ok", "RequestLimitExceeded", "ok"]
        # Another body is another request, with arrivals of its own.
        assert _outcome(client_, "DescribeKeyPairs", {"KeyIds": ["skey-k1000001"]}) == "InternalError"
        assert _outcome(client_, "DescribeInstances") == "ok"  # other actions have no plan
        assert emu.config()["fault_plan"] == {"DescribeKeyPairs": {"1": "internal_error", "2": "http_502", "4": "throttle"}}
        emu.configure(fault_plan={"DescribeKeyPairs": {}})
        assert _outcome(client_, "DescribeKeyPairs", {"KeyIds": ["skey-k1000002"]}) == "ok"


@pytest.mark.parametrize("plan, message", [
    ({"Nope": {"1": "drop"}}, "unknown action"),
    ({"DescribeKeyPairs": {"0": "drop"}}, "whole numbers from 1"),
    ({"DescribeKeyPairs": {"1": "meteor"}}, "fault_plan faults are"),
    ({"DescribeKeyPairs": ["drop"]}, "must be an object"),
])
def test_bad_fault_plans_are_refused_and_change_nothing(emu, plan, message):
    with pytest.raises(Exception, match=message):
        emu.configure(fault_plan=plan)
    assert emu.config()["fault_plan"] == {}


def test_bad_fault_plan_flags_are_refused_at_startup():
    command, env = emulator_command()
    done = subprocess.run(command + ["--fault-plan", "DescribeKeyPairs=drop"], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 2 and "expected ACTION:N=FAULT" in done.stderr
