# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials end to end: each source of the chain signs as its own identity, role_arn assumes a role through the
emulator's STS from a playbook, an ad hoc run and the inventory plugin, bad roles fail with 0 writes, nothing secret
shows at -vvvv, and a long run outlives many short role sessions (the emulator's request log is the witness)."""

from __future__ import annotations

import json
import math
import subprocess
import textwrap
import time

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from cvm_emulator import KEY_BINDING_ACTIONS, default_state_document  # pylint: disable=import-error
from e2e_support import binding_writes  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from cvm_emulator import sts as emulated_sts  # pylint: disable=import-error

ROLE = emulated_sts.DEFAULT_ROLE_ARN
SHORT_ROLE = "qcs::cam::uin/100000000001:roleName/short-sessions"
INFO = "tencentcloud.cvm.cvm_keypair_association_info"
BIND = "tencentcloud.cvm.cvm_keypair_association"
# Long-term keys of the state below, one per source, so that the request log tells the sources apart.
KEYS = {name: ("AKID%s%s" % (name.upper(), "0" * (32 - len(name))), "secretOf%s0000000000000000" % name.capitalize())
        for name in ("options", "environment", "tccli", "sdkfile", "untrusted")}
SECRETS = [secret for _id, secret in KEYS.values()] + [emulated_sts.TMP_SECRET_KEY_PREFIX, emulated_sts.TMP_TOKEN_PREFIX]


@pytest.fixture
def emu():
    state = dict(default_state_document(),
                 credentials=[{"secret_id": secret_id, "secret_key": secret_key} for secret_id, secret_key in KEYS.values()])
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"], state=state) as emulator:
        emulator.configure(roles={
            ROLE: {"principals": [KEYS[name][0] for name in ("options", "environment", "tccli", "sdkfile")], "regions": ["ap-guangzhou"],
                   "max_session_seconds": 7200, "external_id": None},
        })
        yield emulator


def env_keys(name):
    return {"TENCENTCLOUD_SECRET_ID": KEYS[name][0], "TENCENTCLOUD_SECRET_KEY": KEYS[name][1]}


def write_tccli_profile(home, name, key, region="ap-guangzhou", mode=0o600):
    """The two files `tccli configure --profile NAME` writes (tests/emulator_tests/test_credentials_tccli.py uses tccli itself)."""
    folder = home / ".tccli"
    folder.mkdir(mode=0o700, exist_ok=True)
    credential = folder / ("%s.credential" % name)
    credential.write_text(json.dumps({"secretId": KEYS[key][0], "secretKey": KEYS[key][1]}, indent=2, sort_keys=True))
    credential.chmod(mode)
    (folder / ("%s.configure" % name)).write_text(json.dumps({"_sys_param": {"output": "json", "region": region}}, indent=2))


def signers(emu, action="DescribeInstances"):
    return [r["secret_id"] for r in emu.requests()["requests"] if r["action"] == action]


def no_secret_in(*texts):
    joined = "\n".join(texts)
    return [secret for secret in SECRETS if secret in joined]


@pytest.mark.parametrize("source", ["options", "environment", "tccli", "sdkfile"])
def test_each_source_of_credentials_signs_as_its_identity(emu, adhoc, tmp_path, source):
    args = {"instance_ids": ["ins-a1000001"]}
    env = {"TENCENTCLOUD_REGION": "ap-guangzhou", "TENCENTCLOUD_ENDPOINT": emu.url, "HOME": str(tmp_path)}
    if source == "options":
        args.update(secret_id=KEYS["options"][0], secret_key=KEYS["options"][1])
    elif source == "environment":
        env.update(env_keys("environment"))
    elif source == "tccli":
        write_tccli_profile(tmp_path, "ops", "tccli")
        env.update(TENCENTCLOUD_PROFILE="ops")
        del env["TENCENTCLOUD_REGION"]  # from ops.configure
    else:
        (tmp_path / ".tencentcloud").mkdir()
        (tmp_path / ".tencentcloud" / "credentials").write_text("[default]\nsecret_id = %s\nsecret_key = %s\n" % KEYS["sdkfile"])
    result = adhoc(emu, args, env=env, credentials=False, module=INFO)
    assert not result.failed, result.result.get("msg")
    assert [item["instance_id"] for item in result.result["instances"]] == ["ins-a1000001"]
    assert set(signers(emu)) == {KEYS[source][0]}
    # The same source as the identity that assumes a role: STS sees it, CVM sees the role's temporary key.
    emu.clear_requests()
    result = adhoc(emu, dict(args, role_arn=ROLE), env=env, credentials=False, module=INFO)
    assert not result.failed, result.result.get("msg")
    records = emu.requests()["requests"]
    issued = [r["issued"]["secret_id"] for r in records if r["action"] == "AssumeRole"]
    assert signers(emu, "AssumeRole") == [KEYS[source][0]] and len(issued) == 1
    assert set(signers(emu)) == set(issued)


def test_a_tccli_profile_wins_over_the_sdk_profile_file(emu, adhoc, tmp_path):
    write_tccli_profile(tmp_path, "ops", "tccli")
    (tmp_path / ".tencentcloud").mkdir()
    (tmp_path / ".tencentcloud" / "credentials").write_text("[default]\nsecret_id = %s\nsecret_key = %s\n" % KEYS["sdkfile"])
    env = {"TENCENTCLOUD_ENDPOINT": emu.url, "HOME": str(tmp_path), "TENCENTCLOUD_PROFILE": "ops"}
    assert not adhoc(emu, {"instance_ids": ["ins-a1000001"]}, env=env, credentials=False, module=INFO).failed
    assert set(signers(emu)) == {KEYS["tccli"][0]}


def test_a_profile_other_users_can_read_is_warned_about(emu, adhoc, tmp_path):
    write_tccli_profile(tmp_path, "ops", "tccli", mode=0o644)
    (tmp_path / ".tccli").chmod(0o755)
    env = {"TENCENTCLOUD_ENDPOINT": emu.url, "HOME": str(tmp_path), "TENCENTCLOUD_PROFILE": "ops"}
    result = adhoc(emu, {"instance_ids": ["ins-a1000001"]}, env=env, credentials=False, module=INFO)
    assert not result.failed
    assert any("can be read by other users" in warning for warning in result.result.get("warnings", []))


def test_role_arn_from_a_playbook_binds_through_the_role_and_shows_no_secret(emu, playbook):
    env = dict(env_keys("environment"), TENCENTCLOUD_REGION="ap-guangzhou", TENCENTCLOUD_ENDPOINT=emu.url)
    rc, tasks, stdout, stderr = playbook(emu, """
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: bind as the role
              tencentcloud.cvm.cvm_keypair_association:
                role_arn: "%s"
                role_session_name: ansible-e2e
                instance_ids: [ins-a1000004]
                key_ids: [skey-k1000003]
        """ % ROLE, verbosity=4, credentials=False, env=env)
    assert rc == 0, stdout + stderr
    assert tasks["bind as the role"]["changed"]
    records = emu.requests()["requests"]
    assume = [r for r in records if r["action"] == "AssumeRole"]
    assert len(assume) == 1 and assume[0]["params"]["RoleSessionName"] == "ansible-e2e"
    assert {r["secret_id"] for r in binding_writes(emu)} == {assume[0]["issued"]["secret_id"]}
    assert no_secret_in(stdout, stderr, json.dumps(tasks)) == []


def test_role_arn_in_the_inventory_plugin(emu, ansible_env, tmp_path):
    path = tmp_path / "roles.cvm.yml"
    path.write_text(textwrap.dedent("""\
        plugin: tencentcloud.cvm.cvm
        regions: [ap-guangzhou]
        role_arn: "%s"
        strict: true
        """ % ROLE))
    run_env = ansible_env(emu, dict(env_keys("environment"), TENCENTCLOUD_ENDPOINT=emu.url), credentials=False)
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path), "--list", "-vvvv"], env=run_env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "ins-a1000001" in proc.stdout
    assert signers(emu, "AssumeRole") == [KEYS["environment"][0]]
    assert set(signers(emu)) == {r["issued"]["secret_id"] for r in emu.requests()["requests"] if r["action"] == "AssumeRole"}
    assert no_secret_in(proc.stdout, proc.stderr) == []


def expired_temporary_key(emu):
    """Temporary keys of a role session that has already expired (the base identity of the expired-key case)."""
    from tencentcloud.common import credential  # pylint: disable=import-outside-toplevel
    from tencentcloud.common.common_client import CommonClient  # pylint: disable=import-outside-toplevel
    from tencentcloud.common.profile.client_profile import ClientProfile  # pylint: disable=import-outside-toplevel
    from tencentcloud.common.profile.http_profile import HttpProfile  # pylint: disable=import-outside-toplevel
    scheme, _sep, address = emu.url.partition("://")
    client = CommonClient("sts", emulated_sts.STS_VERSION, credential.Credential(*KEYS["environment"]), emu.region,
                          ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=address)))
    keys = client.call_json("AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "soon-expired", "DurationSeconds": 1})["Response"]["Credentials"]
    time.sleep(2.1)
    return {"TENCENTCLOUD_SECRET_ID": keys["TmpSecretId"], "TENCENTCLOUD_SECRET_KEY": keys["TmpSecretKey"],
            "TENCENTCLOUD_SECURITY_TOKEN": keys["Token"]}


@pytest.mark.parametrize("case, code, hint", [
    ("unknown role", "ResourceNotFound.RoleNotFound", "check role_arn (TENCENTCLOUD_ROLE_ARN)"),
    ("untrusted caller", "UnauthorizedOperation", "may not assume role_arn"),
    ("expired long-term identity", "AuthFailure.TokenFailure", "identity that assumes the role is invalid or expired"),
    ("deleted long-term key", "AuthFailure.SecretIdNotFound", "Check secret_id/secret_key"),
])
@pytest.mark.nondeterministic  # the expired case waits past an expiry (it cannot flip: an expired token stays expired)
def test_a_role_that_cannot_be_assumed_fails_clearly_with_no_write(emu, adhoc, case, code, hint):
    role = ROLE
    env = env_keys("environment")
    if case == "unknown role":
        role = "qcs::cam::uin/100000000001:roleName/no-such-role"
    elif case == "untrusted caller":
        env = env_keys("untrusted")
    elif case == "expired long-term identity":
        env = expired_temporary_key(emu)
    else:
        env = {"TENCENTCLOUD_SECRET_ID": "AKIDDELETED00000000000000000000000000", "TENCENTCLOUD_SECRET_KEY": "deletedSecret0000000000"}
    env.update(TENCENTCLOUD_REGION="ap-guangzhou", TENCENTCLOUD_ENDPOINT=emu.url)
    result = adhoc(emu, {"instance_ids": ["ins-a1000001"], "key_ids": ["skey-k1000003"], "force_stop": True, "role_arn": role}, env=env,
                   credentials=False, module=BIND, verbosity=4)
    assert result.failed
    msg = result.result["msg"]
    assert msg.startswith("Failed to read the instances: assuming the CAM role %s (role_arn) failed: " % role), msg
    assert "(%s)" % code in msg and hint in msg
    assert binding_writes(emu) == []
    assert no_secret_in(result.stdout, result.stderr, json.dumps(result.result)) == []


@pytest.mark.slow
@pytest.mark.nondeterministic  # a 2,000-instance run against 5 s role sessions: timing decides when keys are renewed
def test_a_long_run_outlives_many_short_role_sessions(playbook):
    latency = 12.0  # every operation ends 12 s after its write: the run signs requests for at least that long
    with EmulatorProcess(extra_args=["--generate-instances", "2000", "--operation-latency", str(latency)]) as emu:
        emu.configure(roles={SHORT_ROLE: {"principals": ["*"], "regions": ["*"], "max_session_seconds": 5, "external_id": None}})
        ids = emu.generated_instance_ids()
        rc, tasks, stdout, stderr = playbook(emu, """
            - hosts: localhost
              gather_facts: false
              tasks:
                - name: bind on the fleet through 5 s role sessions
                  tencentcloud.cvm.cvm_keypair_association:
                    role_arn: "%s"
                    role_duration: 5
                    instance_ids: "{{ ids }}"
                    key_ids: [skey-k1000003]
                    force_stop: true
            """ % SHORT_ROLE, extra_vars={"ids": ids})
        records = emu.requests()["requests"]
    assert rc == 0, (tasks, stderr[-2000:])
    assert "TokenFailure" not in stdout + stderr + json.dumps(tasks)
    issued = {r["issued"]["secret_id"]: r["issued"]["expires"] for r in records if r["action"] == "AssumeRole" and r["outcome"] == "ok"}
    cvm = [r for r in records if r["action"] != "AssumeRole"]
    accepted = [r for r in cvm if r["outcome"] == "ok"]
    # Every accepted request, each write among them, was signed by a temporary key STS issued, before its expiry.
    assert accepted and all(r["secret_id"] in issued and r["time"] < issued[r["secret_id"]] for r in accepted)
    assert all(r["outcome"] == "ok" for r in cvm if r["action"] in KEY_BINDING_ACTIONS)
    # Keys live at most 5 s and the run spans at least `latency`: it needed several sessions, each one assumed in time.
    span = max(r["time"] for r in accepted) - min(r["time"] for r in accepted)
    assert span >= latency
    assert len(issued) >= math.ceil(span / 5.0) >= 3
    # A token that expired between signing and the emulator's check (a busy machine) was renewed and the request sent again.
    for refused in (r for r in cvm if r["error_code"] == "AuthFailure.TokenFailure"):
        assert any(r["action"] == refused["action"] and r["seq"] > refused["seq"] and r["outcome"] == "ok" for r in cvm), refused
