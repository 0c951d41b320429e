# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Endpoints that never answer or refuse: the module fails within api_deadline, saying how long, how often and why.

The real module runs through `ansible` at the default request_timeout (30) and api_deadline (60) against a local
socket that accepts connections and never answers (a stuck proxy, a firewall that drops answers), and against a
closed port. The bounds on wall time are generous (the suite must not flake on a loaded machine); the exact
numbers come from the module's own message.
"""

from __future__ import annotations

import socket
import time

import pytest

from e2e_support import GAVE_UP  # pylint: disable=import-error

pytestmark = pytest.mark.nondeterministic  # every test here involves faults, concurrency, signals or timing

SECRET_KEY = "CanarySecretKeyDeadline0000000000"
TOKEN = "CanaryTokenDeadline-0000"
ARGS = {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"]}


@pytest.fixture
def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connecting is refused at once
    return port


def connection_env(port, **extra):
    env = {"TENCENTCLOUD_ENDPOINT": "http://127.0.0.1:%d" % port, "TENCENTCLOUD_REGION": "ap-guangzhou",
           "TENCENTCLOUD_SECRET_ID": "AKIDDEADLINE0000000000000000000000000", "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
           "TENCENTCLOUD_SECURITY_TOKEN": TOKEN}
    env.update(extra)
    return env


def assert_no_secrets(run):
    for text in (run.stdout, run.stderr, repr(run.result)):
        assert SECRET_KEY not in text and TOKEN not in text


def gave_up(msg):
    match = GAVE_UP.search(msg)
    assert match, msg
    return int(match.group(1)), float(match.group(2))


@pytest.mark.slow
def test_hung_endpoint_fails_within_the_deadline_at_the_defaults(hung, adhoc):
    started = time.monotonic()
    run = adhoc(None, ARGS, env=connection_env(hung.port), verbosity=4)
    wall = time.monotonic() - started
    assert_no_secrets(run)
    assert run.failed and not run.changed
    msg = run.result["msg"]
    endpoint = "http://127.0.0.1:%d" % hung.port
    # 20 s of waiting for an answer (two thirds of request_timeout=30), twice, then what the deadline leaves.
    assert msg.startswith("Failed to read the instances: could not reach %s: no answer within " % endpoint), msg
    assert "(ClientNetworkError.Timeout)" in msg and "did not answer in time" in msg and "api_deadline" in msg
    attempts, seconds = gave_up(msg)
    assert attempts == 3 and len(hung.accepted) == 3
    assert 40.0 < seconds <= 60.0
    assert wall < 120, "the old behaviour took 321 s; the deadline is 60 s plus ansible's own start"
    assert run.result["error"] == {"code": "ClientNetworkError.Timeout", "message": run.result["error"]["message"], "request_id": None,
                                   "action": "DescribeInstances"}


def test_a_shorter_deadline_from_the_environment_cuts_the_retries(hung, adhoc):
    run = adhoc(None, ARGS, env=connection_env(hung.port, TENCENTCLOUD_API_DEADLINE="5"), verbosity=4)
    assert_no_secrets(run)
    msg = run.result["msg"]
    # 5 s: a first attempt of 1.7 s connect / 3.3 s answer, a 0.25 s pause, one shortened attempt, then no time is left.
    assert "api_deadline=5s leaves no time for another." in msg, msg
    attempts, seconds = gave_up(msg)
    assert attempts == 2 and len(hung.accepted) == 2
    assert seconds <= 5.0


def test_refusing_endpoint_fails_within_seconds(closed_port, adhoc):
    run = adhoc(None, ARGS, env=connection_env(closed_port), verbosity=4)
    assert_no_secrets(run)
    assert run.failed and not run.changed
    msg = run.result["msg"]
    assert msg.startswith("Failed to read the instances: could not reach http://127.0.0.1:%d: connection refused "
                          "(ClientNetworkError.ConnectionRefused). Gave up after 3 attempts in " % closed_port), msg
    assert "The endpoint refused the connection: check the host and port of endpoint" in msg
    attempts, seconds = gave_up(msg)
    assert attempts == 3
    assert seconds < 10.0  # the backoff between the three tries is 0.25 s, then 0.5 s
