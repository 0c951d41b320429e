# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rate limits and injected faults, as the unmodified SDK experiences them."""

import time

import pytest

from .conftest import Emulator, call, error_of, make_client

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
        with Emulator(extra_args=["--seed", "42", "--fault-internal-error", "0.5", "--no-rate-limit"]) as emu:
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
