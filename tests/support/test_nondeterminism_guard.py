# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guard fails a test that met the emulator's faults or rate limit unless it is marked nondeterministic: an inner
pytest run, with this repository's pytest.ini, of tests that meet them (or not) in their body or in a fixture."""

from __future__ import annotations

import signal
import subprocess
import sys
from xml.etree import ElementTree

import pytest

import harness  # pylint: disable=import-error
import nondeterminism_guard  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO, without_proxies  # pylint: disable=import-error

INNER_TESTS = '''
import pytest
from harness import EmulatorProcess
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client


def describe(emu, times):
    """DescribeInstances `times` times with the real SDK; the codes of its answers."""
    scheme, _sep, address = emu.url.partition("://")
    profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=address, reqTimeout=10))
    client = cvm_client.CvmClient(credential.Credential(emu.secret_id, emu.secret_key), emu.region, profile)
    codes = []
    for _time in range(times):
        try:
            client.call_json("DescribeInstances", {})
            codes.append("ok")
        except TencentCloudSDKException as error:
            codes.append(error.code)
    return codes


@pytest.fixture(scope="module")
def failing():
    with EmulatorProcess(["--fault-internal-error", "1"]) as emu:
        yield emu


def test_unmarked_meets_the_rate_limit():
    # One request a second: the first refusal comes with the first two requests sent within a second.
    with EmulatorProcess(["--rate-limit", "DescribeInstances=1"]) as emu:
        assert any(describe(emu, 1) == ["RequestLimitExceeded"] for _request in range(100))


def test_unmarked_meets_a_fixtures_fault(failing):
    assert describe(failing, 1) == ["InternalError"]


def test_unmarked_meets_a_fault_it_configured():
    with EmulatorProcess() as emu:
        emu.configure(fault_plan={"DescribeInstances": {"1": "internal_error"}})
        assert describe(emu, 2) == ["InternalError", "ok"]  # the same request's first arrival only


@pytest.mark.nondeterministic
def test_marked_meets_a_fault(failing):
    assert describe(failing, 1) == ["InternalError"]


def test_unmarked_meets_none():
    with EmulatorProcess() as emu:
        assert describe(emu, 2) == ["ok", "ok"]


def test_unmarked_fails_for_its_own_reason(failing):
    assert describe(failing, 1) == ["ok"]
'''


def inner_run(tmp_path):
    """{test name: (outcome, message)} of the inner tests, run with the repository's pytest.ini (so the guard)."""
    (tmp_path / "test_inner.py").write_text(INNER_TESTS, encoding="utf-8")
    junit = tmp_path / "results.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(REPO / "pytest.ini"),
            "--rootdir",
            str(REPO),
            "--junitxml",
            str(junit),
            str(tmp_path / "test_inner.py"),
        ],
        capture_output=True,
        text=True,
        env=without_proxies(),
        cwd=str(tmp_path),
        timeout=300,
        check=False,
    )
    assert junit.exists(), proc.stdout + proc.stderr
    results = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        results[case.get("name")] = ("failed", failure.get("message", "") + (failure.text or "")) if failure is not None else ("passed", "")
    return results


@pytest.mark.nondeterministic  # an inner test meets the emulator's rate limit, which counts requests per second
def test_a_test_that_met_faults_or_the_rate_limit_unmarked_fails_and_is_told_how_to_mark_it(tmp_path):
    results = inner_run(tmp_path)
    assert set(results) == {
        "test_unmarked_meets_the_rate_limit",
        "test_unmarked_meets_a_fixtures_fault",
        "test_unmarked_meets_a_fault_it_configured",
        "test_marked_meets_a_fault",
        "test_unmarked_meets_none",
        "test_unmarked_fails_for_its_own_reason",
    }
    expected_faults = {
        "test_unmarked_meets_the_rate_limit": "(rate_limit 1)",
        "test_unmarked_meets_a_fixtures_fault": "(internal_error 1)",
        "test_unmarked_meets_a_fault_it_configured": "(internal_error 1)",
    }
    for name, faults in expected_faults.items():
        outcome, text = results[name]
        assert outcome == "failed", (name, results[name])
        assert faults in text and "@pytest.mark.nondeterministic" in text and "--stage flaky" in text, (name, text)
    assert results["test_marked_meets_a_fault"] == ("passed", "")
    assert results["test_unmarked_meets_none"] == ("passed", "")
    # A test that failed anyway keeps its own failure.
    outcome, text = results["test_unmarked_fails_for_its_own_reason"]
    assert outcome == "failed" and "InternalError" in text and "not marked" not in text


def test_only_faults_struck_between_the_readings_count():
    assert nondeterminism_guard.met_unmarked({"drop": 2}, {"drop": 2, "rate_limit": 1}, marked=False) == {"rate_limit": 1}
    assert nondeterminism_guard.met_unmarked({"drop": 2}, {"drop": 2}, marked=False) == {}
    assert nondeterminism_guard.met_unmarked({}, {"drop": 1}, marked=True) == {}
    # An emulator that did not answer one of the readings: no verdict, rather than a count that only looks new.
    assert nondeterminism_guard.met_unmarked(None, {"drop": 1}, marked=False) == {}
    assert nondeterminism_guard.met_unmarked({"drop": 1}, None, marked=False) == {}


@pytest.mark.nondeterministic  # a signal, and a read that must time out
def test_an_emulator_that_does_not_answer_makes_the_total_unknown(monkeypatch):
    monkeypatch.setattr(harness, "FAULTS_READ_TIMEOUT", 0.5)
    with EmulatorProcess() as emu:
        assert harness.faults_struck() is not None and emu.faults_struck() == {}
        emu.process.send_signal(signal.SIGSTOP)  # alive but silent, as an emulator too busy to answer in time
        try:
            assert emu.faults_struck() is None and harness.faults_struck() is None
        finally:
            emu.process.send_signal(signal.SIGCONT)
        assert emu.faults_struck() == {}
