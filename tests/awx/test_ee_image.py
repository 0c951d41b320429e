# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWX-style jobs inside the built execution environment image, against the emulator on the host.

Run by scripts/ee-test after it has built the image (TC_EE_IMAGE names it; without it the module is
skipped). Each job is what AWX hands to ansible-runner: a private data directory with the credential
only in env/envvars (rendered from docs/awx/credential_type.yml), the extra variables in
env/extravars, the examples playbook in project/, and ansible-runner starts the image with podman
(process isolation). The collection and the SDK come from the image alone: the project has no copy.

The artifacts directory. ansible-runner creates <private data dir>/artifacts/<job> mode 0700, owned by
the user running it (here root). The image runs as its own user (ansible-builder's USER 1000), and
rootful podman maps no user: uid 1000 is not the owner, so the job cannot write its events and fails.
AWX avoids it in two ways: on a VM it runs podman rootless as the awx user and passes --user=root,
so the container's root IS the directory's owner; on Kubernetes it streams the directory into the
pod (ansible-runner transmit | worker | process) where the image's user creates it. Neither makes
host root the job's user. The test uses the convention the EE images themselves follow (their /runner
is owned by group 0 and group-writable, for OpenShift's arbitrary uids with gid 0) and that
ansible-runner relies on (it adds --group-add=root for podman): the job's folders are made group 0,
group-writable before the job. The job's container then runs as uid 1000, and the test checks that
the event files it wrote are owned by uid 1000, not by root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_env import clean_environment  # pylint: disable=import-error
from awx_support import inject_credential, job_events, load_credential_type, task_result  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error
from cvm_emulator.sts import DEFAULT_ROLE_ARN, TMP_SECRET_KEY_PREFIX, TMP_TOKEN_PREFIX  # pylint: disable=import-error

IMAGE = os.environ.get("TC_EE_IMAGE")
pytestmark = pytest.mark.skipif(not IMAGE, reason="needs the EE image built by scripts/ee-test (TC_EE_IMAGE)")
CONTAINER_LABEL = os.environ.get("TC_EE_CONTAINER_LABEL", "tencentcloud-cvm.ee-test=pytest")

PLAYBOOK = "awx_bind_keys.yml"
BIND_TASK = "Make the key pairs bound or unbound"
INSTANCES = ["ins-a1000002", "ins-a1000004"]  # web-2 RUNNING, batch-1 STOPPED; neither has a key in the seed
KEY = "skey-k1000003"
GROUP_SHARED = 0o2770  # rwx for owner and group 0, setgid so what the job adds stays group 0


def share_with_group_zero(path):
    os.chown(path, -1, 0)
    os.chmod(path, GROUP_SHARED)


def private_data_dir(root, emu, **credential_inputs):
    """A job's private data directory as AWX writes it, readable and writable for the image's user via group 0."""
    root.mkdir()
    # The job's container reaches the emulator on the host's loopback (--network=host): same URL.
    credential = dict({"secret_id": emu.secret_id, "secret_key": emu.secret_key, "region": emu.region, "endpoint": emu.url},
                      **credential_inputs)
    envvars = inject_credential(load_credential_type(), credential, root, container_root="/runner")
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "env" / "extravars").write_text(yaml.safe_dump({"cvm_instance_ids": INSTANCES, "cvm_key_ids": [KEY], "cvm_force_stop": True}))
    (root / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 240, "suppress_ansible_output": True}))
    (root / "inventory").mkdir()
    (root / "inventory" / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n")
    (root / "project").mkdir()
    shutil.copy(REPO / "examples" / PLAYBOOK, root / "project" / PLAYBOOK)
    # env/: the job reads extravars (ansible-playbook -e @/runner/env/extravars); everything else there,
    # the credential's envvars above all, only the runner on the host reads (it passes --env-file).
    os.chown(root / "env", -1, 0)
    os.chmod(root / "env", 0o750)
    for path in (root / "env").iterdir():
        os.chown(path, -1, 0)
        os.chmod(path, 0o640 if path.name == "extravars" else 0o600)
    for path in (root, root / "inventory", root / "project", root / "artifacts"):
        path.mkdir(exist_ok=True)
        share_with_group_zero(path)
    for path in (root / "inventory" / "hosts", root / "project" / PLAYBOOK):
        os.chmod(path, 0o640)
        os.chown(path, -1, 0)
    return root


def runner(pdd, ident, home):
    """`ansible-runner run --process-isolation` with podman on the directory; returns the finished process."""
    cmd = [sys.executable, "-m", "ansible_runner", "run", str(pdd), "-p", PLAYBOOK, "--ident", ident,
           "--process-isolation", "--process-isolation-executable", "podman", "--container-image", IMAGE,
           "--container-option=--network=host", "--container-option=--label=%s" % CONTAINER_LABEL]
    # umask 077: ansible-runner writes the job's environment, secret included, to artifacts/<job>/env.list
    # (podman's --env-file) and to artifacts/<job>/command; they must be readable by their owner only.
    return subprocess.run(cmd, env=clean_environment(home), capture_output=True, text=True, timeout=300, check=False, umask=0o077)


def run_job(pdd, ident, home, cmdline=None):
    """One successful job; returns (its events, what ansible-runner printed)."""
    if cmdline:
        (pdd / "env" / "cmdline").write_text(cmdline)
    artifacts = pdd / "artifacts" / ident
    # The folders the job's container writes to; ansible-runner would create them 0700 (see the docstring).
    for path in (artifacts, artifacts / "job_events"):
        path.mkdir(exist_ok=True)
        share_with_group_zero(path)
    proc = runner(pdd, ident, home)
    events, stdout = job_events(artifacts)
    assert proc.returncode == 0, "job %s failed (rc=%d)\njob stdout:\n%s\nrunner stdout:\n%s\nrunner stderr:\n%s" % (
        ident, proc.returncode, stdout, proc.stdout, proc.stderr)
    assert (artifacts / "status").read_text() == "successful"
    return events, proc.stdout + proc.stderr


def test_jobs_in_the_image_bind_once_then_change_nothing_and_leak_no_secret(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    runner_output = []
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        pdd = private_data_dir(tmp_path / "job", emu)

        events, output = run_job(pdd, "job-1", home)
        runner_output.append(output)
        first = task_result(events, BIND_TASK)
        assert first["changed"] is True
        assert [(i["instance_id"], i["key_ids"], i["changed"]) for i in first["instances"]] == [
            ("ins-a1000002", [KEY], True),
            ("ins-a1000004", [KEY], True),
        ]
        # The emulator logged the write, signed with the credential of env/envvars.
        sent = [r for r in emu.requests()["requests"] if r["action"] == "AssociateInstancesKeyPairs"]
        assert [r["request_id"] for r in sent] == first["request_ids"]
        assert len(sent) == 1 and sent[0]["secret_id"] == emu.secret_id
        writes_after_first = emu.write_count()
        assert writes_after_first == 1
        for instance_id in INSTANCES:
            assert emu.instance(instance_id)["LoginSettings"]["KeyIds"] == [KEY]

        # The same job again, at the highest verbosity a job template offers: no change, no write. ansible-core 2.21
        # returns the module's arguments (invocation) only when asked (INJECT_INVOCATION): ask, to see secret_key masked there.
        events, output = run_job(pdd, "job-2", home, cmdline="-vvvv -e ansible_inject_invocation=true")
        runner_output.append(output)
        second = task_result(events, BIND_TASK)
        assert second["changed"] is False
        assert second["request_ids"] == []
        assert emu.write_count() == writes_after_first
        assert second["invocation"]["module_args"]["secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

    # The jobs ran as the image's user, not as root: what ansible made inside the container (its fact
    # cache in the artifacts) belongs to uid 1000. (The final event files are written by ansible-runner
    # on the host, from the partial ones the callback wrote in the container.)
    for ident in ("job-1", "job-2"):
        made_in_container = pdd / "artifacts" / ident / "fact_cache"
        assert made_in_container.stat().st_uid == 1000, "%s: owned by uid %d, not the image's user 1000" % (
            made_in_container, made_in_container.stat().st_uid)

    # The secret: only in env/envvars. Not in any event, stdout, stderr or other artifact of either job,
    # nor in what ansible-runner printed, except ansible-runner's own two records of the job's
    # environment: `command` (command line and environment) and `env.list` (the --env-file podman reads).
    # Those are checked apart (owner-only) and documented in docs/awx/README.md.
    assert emu.secret_key in (pdd / "env" / "envvars").read_text()
    leaks = [text[:80] for text in runner_output if emu.secret_key in text]
    for ident in ("job-1", "job-2"):
        artifacts = pdd / "artifacts" / ident
        runner_records = (artifacts / "command", artifacts / "env.list")
        files = [path for path in artifacts.rglob("*") if path.is_file() and path not in runner_records]
        assert len(list((artifacts / "job_events").glob("*.json"))) > 10
        assert (artifacts / "stdout").stat().st_size > 0
        leaks += [str(path.relative_to(pdd)) for path in files if emu.secret_key.encode() in path.read_bytes()]
        for record in runner_records:
            assert record.stat().st_mode & 0o077 == 0, "%s must be readable by its owner only" % record
    assert leaks == []


def test_the_image_user_cannot_write_artifacts_that_ansible_runner_makes_0700(tmp_path):
    """Why the folders are shared with group 0: left to ansible-runner (0700, owned by root), the job fails."""
    home = tmp_path / "home"
    home.mkdir()
    with EmulatorProcess() as emu:
        pdd = private_data_dir(tmp_path / "job", emu)
        proc = runner(pdd, "job-0700", home)
        writes = emu.write_count()
    artifacts = pdd / "artifacts" / "job-0700"
    assert oct(artifacts.stat().st_mode & 0o777) == oct(0o700) and artifacts.stat().st_uid == 0
    stdout = (artifacts / "stdout").read_text()
    assert proc.returncode != 0, stdout
    # The first thing the job writes there (its fact cache; then the callback cannot even load).
    assert "Permission denied: '/runner/artifacts/job-0700/" in stdout, stdout
    assert writes == 0


def test_a_job_in_the_image_acts_through_an_assumed_role(tmp_path):
    """The credential's API key assumes a CAM role (the emulator's STS) and the job writes with the role's temporary keys."""
    home = tmp_path / "home"
    home.mkdir()
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        pdd = private_data_dir(tmp_path / "job", emu, role_arn=DEFAULT_ROLE_ARN, role_session_name="awx-ee-job")
        events, output = run_job(pdd, "job-role", home, cmdline="-vvvv")
        result = task_result(events, BIND_TASK)
        records = emu.requests()["requests"]
    assert result["changed"] is True
    assumed = [r for r in records if r["action"] == "AssumeRole"]
    assert [(r["secret_id"], r["params"]["RoleSessionName"], r["outcome"]) for r in assumed] == [(emu.secret_id, "awx-ee-job", "ok")]
    sent = [r for r in records if r["action"] == "AssociateInstancesKeyPairs"]
    assert [r["secret_id"] for r in sent] == [assumed[0]["issued"]["secret_id"]] and sent[0]["has_token"]
    # Neither the API key's secret nor the role's temporary secret key or token shows in the job's events or output.
    artifacts = pdd / "artifacts" / "job-role"
    texts = [output] + [path.read_text(errors="replace") for path in artifacts.rglob("*") if path.is_file()
                        and path.name not in ("command", "env.list")]
    for secret in (emu.secret_key, TMP_SECRET_KEY_PREFIX, TMP_TOKEN_PREFIX):
        assert not any(secret in text for text in texts), secret
