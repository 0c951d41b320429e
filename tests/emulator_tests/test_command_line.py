# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator process: flags, startup line, shutdown, state files, credentials, TLS and scale."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from cvm_emulator import base36  # pylint: disable=import-error
from harness import EmulatorProcess, emulator_command  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

from .hand_signer import raw_error
from .sdk_calls import call, error_of, make_client

EMULATOR, EMULATOR_ENV = emulator_command()  # the command that runs the emulator (before its flags), its environment
EMULATOR_ENV = dict(EMULATOR_ENV, TC_EMULATOR_TOKEN="control-token-of-the-command-line-tests")  # chosen: nothing made up, nothing printed
FLAGS = ("--port", "--host", "--state", "--secret-id", "--secret-key", "--token", "--region", "--operation-latency",
         "--operation-start-delay", "--bind-replaces-keys", "--rate-limit", "--no-rate-limit", "--seed", "--fault-internal-error",
         "--fault-http-502", "--fault-drop", "--fault-lost-response", "--fault-throttle", "--fault-operation-failed",
         "--response-latency", "--tls-cert", "--tls-key", "--generate-instances", "--verbose",
         "--bind-semantics", "--strict-duplicates", "--restart-as-own-operation", "--null-operation-fields", "--key-deletion-lag",
         "--image-key")


def test_help_documents_every_flag():
    text = subprocess.run(EMULATOR + ["--help"], check=True, capture_output=True, text=True, timeout=30, env=EMULATOR_ENV).stdout
    for flag in FLAGS:
        assert flag in text


@pytest.mark.nondeterministic
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_first_line_is_the_url_and_signals_stop_it_cleanly(stop_signal):
    process = subprocess.Popen(EMULATOR + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=EMULATOR_ENV)
    try:
        line = process.stdout.readline()
        assert line.startswith("http://127.0.0.1:") and line.rstrip("\n").rsplit(":", 1)[1].isdigit()
        process.send_signal(stop_signal)
        assert process.wait(10) == 0
        assert process.stdout.read() == "" and process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_without_a_chosen_control_token_the_emulator_makes_one_only_its_user_can_read():
    """No TC_EMULATOR_TOKEN: a random token, written as `export` lines to a file of mode 0600 in a new folder of mode 0700;
    stderr names the file, never the token; the folder is gone after a normal stop."""
    env = {name: value for name, value in EMULATOR_ENV.items() if name != "TC_EMULATOR_TOKEN"}
    process = subprocess.Popen(EMULATOR + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = process.stdout.readline().strip()
        note = process.stderr.readline()  # written before the URL line
        path = note.rsplit("source ", 1)[1].strip()
        folder = os.path.dirname(path)
        assert (os.stat(folder).st_mode & 0o777, os.stat(path).st_mode & 0o777, os.stat(path).st_uid) == (0o700, 0o600, os.geteuid())
        with open(path, encoding="ascii") as handle:
            exports = handle.read()
        token = exports.split("TC_EMULATOR_TOKEN=", 1)[1].split()[0]
        assert len(token) >= 32 and token not in note
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with pytest.raises(urllib.error.HTTPError, match="401"):
            opener.open(urllib.request.Request(url + "/_emulator/health"), timeout=10)
        with opener.open(urllib.request.Request(url + "/_emulator/health", headers={"X-Emulator-Token": token}), timeout=10) as answer:
            assert json.loads(answer.read()) == {"ok": True}
        process.terminate()
        assert process.wait(10) == 0
        assert not os.path.exists(folder)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_harness_start_keeps_its_record_private(tmp_path):
    """The record holds the control token: `harness.py start` refuses a folder others can enter, and writes it 0600."""
    harness = [sys.executable, str(REPO / "tests" / "support" / "harness.py")]
    shared, private = tmp_path / "shared", tmp_path / "private"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private.mkdir(mode=0o700)
    refused = subprocess.run(harness + ["start", "--record", str(shared / "emu.json")], capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 1 and "mode 755" in refused.stderr and list(shared.iterdir()) == []
    started = subprocess.run(harness + ["start", "--no-exports", "--record", str(private / "emu.json")], capture_output=True, text=True,
                             timeout=60, check=False)
    try:
        assert started.returncode == 0, started.stderr
        assert started.stdout.startswith("# emulator: http") and "TC_EMULATOR_TOKEN" not in started.stdout and "export" not in started.stdout
        record = json.loads((private / "emu.json").read_text())
        assert os.stat(private / "emu.json").st_mode & 0o777 == 0o600 and len(record["env"]["TC_EMULATOR_TOKEN"]) >= 32
    finally:
        subprocess.run(harness + ["stop", "--record", str(private / "emu.json")], capture_output=True, timeout=60, check=False)


def test_bad_state_file_fails_at_startup(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"instances": [{"InstanceId": "ins-1122"}]}))
    result = subprocess.run(EMULATOR + ["--port", "0", "--state", str(bad)], capture_output=True, text=True, timeout=30, check=False, env=EMULATOR_ENV)
    assert result.returncode == 2 and result.stdout == "" and "ins-1122" in result.stderr


def test_state_file_with_several_credentials_and_regions(tmp_path):
    state = {
        "credentials": [{"secret_id": "AKIDfirst", "secret_key": "first-key"},
                        {"secret_id": "AKIDsecond", "secret_key": "second-key", "token": "tok"}],
        "regions": ["ap-guangzhou", "ap-tokyo"],
        "instances": [{"InstanceId": "ins-t0000001", "InstanceName": "tokyo-1", "Region": "ap-tokyo",
                       "LoginSettings": {"KeyIds": ["skey-t0000001"]}}],
        "key_pairs": [{"KeyId": "skey-t0000001", "KeyName": "tokyo_key", "Region": "ap-tokyo"}],
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    with EmulatorProcess(state=str(path)) as emu:
        assert (emu.secret_id, emu.secret_key) == ("AKIDfirst", "first-key")
        assert call(make_client(emu, region="ap-tokyo"), "DescribeKeyPairs")["KeyPairSet"][0]["AssociatedInstanceIds"] == ["ins-t0000001"]
        assert call(make_client(emu, "AKIDsecond", "second-key", "tok", region="ap-tokyo"), "DescribeInstances")["TotalCount"] == 1
        assert call(make_client(emu), "DescribeInstances")["TotalCount"] == 0
        assert error_of(make_client(emu, region="ap-shanghai"), "DescribeInstances").code == "UnsupportedRegion"
        default = make_client(emu, "AKIDEMULATOR000000000000000000000000", "emulatorSecretKey0000000000000000")
        assert error_of(default, "DescribeInstances").code == "AuthFailure.SecretIdNotFound"  # the state file replaced it


def test_credential_flags_replace_the_default_and_verbose_hides_secrets():
    args = ["--secret-id", "AKIDflag", "--secret-key", "flag-secret-key", "--token", "flag-token", "--verbose",
            "--region", "ap-guangzhou", "--bind-replaces-keys", "--rate-limit", "DescribeInstances=2", "--operation-latency", "0.05"]
    with EmulatorProcess(extra_args=args, state={"instances": [], "key_pairs": []}) as emu:
        assert (emu.secret_id, emu.secret_key, emu.token) == ("AKIDflag", "flag-secret-key", "flag-token")
        assert emu.env()["TENCENTCLOUD_SECURITY_TOKEN"] == "flag-token"
        client = make_client(emu, token="flag-token")
        assert call(client, "DescribeInstances")["TotalCount"] == 0
        assert raw_error(emu, "DescribeInstances", token="flag-token", region="ap-shanghai")["Code"] == "UnsupportedRegion"
        default = make_client(emu, "AKIDEMULATOR000000000000000000000000", "emulatorSecretKey0000000000000000")
        assert error_of(default, "DescribeInstances").code == "AuthFailure.SecretIdNotFound"
        config = emu.config()
        assert config["bind_replaces_keys"] is True and config["rate_limits"]["DescribeInstances"] == 2
        assert config["operation_latency"] == 0.05
        time.sleep(0.1)
        log = emu.stderr_text()
    assert "action=DescribeInstances" in log and "has_token=true" in log and "AKIDflag" in log
    assert "flag-secret-key" not in log and "flag-token" not in log


def test_reading_flags_set_their_config_fields():
    args = ["--bind-semantics", "replace", "--strict-duplicates", "--restart-as-own-operation", "--null-operation-fields",
            "--key-deletion-lag", "2.5", "--image-key", "skey-k1000004", "--image-key", "skey-k1000003"]
    with EmulatorProcess(extra_args=args) as emu:
        config = emu.config()
        assert (config["bind_semantics"], config["bind_replaces_keys"], config["strict_duplicates"], config["restart_as_own_operation"],
                config["null_operation_fields"], config["key_deletion_lag"], config["image_key_ids"]) == (
            "replace", True, True, True, True, 2.5, ["skey-k1000004", "skey-k1000003"])
        emu.reset(everything=True)  # the flags are the starting config that a full reset goes back to
        assert emu.config() == config


@pytest.mark.parametrize("args", [["--bind-semantics", "merge"], ["--key-deletion-lag", "-1"], ["--image-key", "key-1"]])
def test_bad_reading_flags_are_refused_at_startup(args):
    proc = subprocess.run(EMULATOR + ["--port", "0"] + args, capture_output=True, text=True, timeout=30, check=False, env=EMULATOR_ENV)
    assert proc.returncode == 2 and args[0] in proc.stderr


def test_no_rate_limit_flag():
    with EmulatorProcess(extra_args=["--no-rate-limit"]) as emu:
        assert set(emu.config()["rate_limits"].values()) == {None}
        client = make_client(emu)
        for attempt in range(15):
            call(client, "DescribeKeyPairs")


def cpu_seconds(pid):
    """CPU time (user + system) the process has used: unlike wall time, other load on the machine does not inflate it."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_generated_instances_scale():
    # The bounds are on the emulator's own CPU time, not wall time: a busy machine once made a 15 s wall bound fail.
    with EmulatorProcess(extra_args=["--generate-instances", "10000", "--operation-latency", "0.05"]) as big:
        assert cpu_seconds(big.process.pid) < 15
        client = make_client(big)
        assert call(client, "DescribeInstances", {"Limit": 1})["TotalCount"] == 10006
        first = call(client, "DescribeInstances", {"Filters": [{"Name": "tag:bench", "Values": ["true"]}], "Limit": 2})
        assert first["TotalCount"] == 10000
        generated = first["InstanceSet"][0]
        assert (generated["InstanceId"], generated["InstanceName"], generated["InstanceState"]) == ("ins-00000001", "gen-00001", "STOPPED")
        ids = ["ins-%s" % base36(n).rjust(8, "0") for n in range(9901, 10001)]
        timings = []
        for attempt in range(5):
            began = cpu_seconds(big.process.pid)
            response = call(client, "DescribeInstances", {"InstanceIds": ids, "Limit": 100})
            timings.append(cpu_seconds(big.process.pid) - began)
        assert response["TotalCount"] == 100 and response["InstanceSet"][-1]["InstanceName"] == "gen-10000"
        assert min(timings) < 0.25, timings
        call(client, "AssociateInstancesKeyPairs", {"InstanceIds": ids, "KeyIds": ["skey-k1000003"]})
        big.wait_idle()
        assert len(big.key_pair("skey-k1000003")["AssociatedInstanceIds"]) == 100


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_tls(self_signed):
    cert, key = self_signed
    with EmulatorProcess(tls=(str(cert), str(key))) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        with pytest.raises(TencentCloudSDKException) as caught:
            call(make_client(emu), "DescribeInstances")
        assert caught.value.code == "ClientNetworkError"
        assert call(make_client(emu, certification=str(cert)), "DescribeInstances")["TotalCount"] == 6
        assert emu.state()["instances"][0]["InstanceId"] == "ins-a1000001"  # the harness's control calls use HTTPS too
        assert emu.env()["TENCENTCLOUD_CA_BUNDLE"] == str(cert)
