# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/awx_bind_keys.yml run by ansible-runner, the engine of AWX jobs, against the emulator.

The private data directory is laid out as AWX lays it out for a job: the credential only in env/envvars
(rendered from docs/awx/credential_type.yml's injectors), the job's extra variables in env/extravars, the
inventory in inventory/, the project (playbook, and the collection in its collections/ folder) in project/.
The job's events are what AWX stores and shows: the test reads the result of the binding task from them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible_env import ansible_environment  # pylint: disable=import-error
from awx_support import inject_credential, job_events, load_credential_type, task_result  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error
from cvm_emulator.sts import DEFAULT_ROLE_ARN, TMP_SECRET_KEY_PREFIX, TMP_TOKEN_PREFIX  # pylint: disable=import-error

pytest.importorskip("ansible_runner", reason="ansible-runner is not installed (tests/requirements.txt)")

PLAYBOOK = "awx_bind_keys.yml"
BIND_TASK = "Make the key pairs bound or unbound"
INSTANCES = ["ins-a1000002", "ins-a1000004"]  # web-2 RUNNING, batch-1 STOPPED; neither has a key in the seed
KEY = "skey-k1000003"


def private_data_dir(root, emu, **credential_inputs):
    """A job's private data directory, as AWX writes it before it calls ansible-runner."""
    root.mkdir()
    credential = dict({"secret_id": emu.secret_id, "secret_key": emu.secret_key, "region": emu.region, "endpoint": emu.url},
                      **credential_inputs)
    envvars = inject_credential(load_credential_type(), credential, root)
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "env" / "extravars").write_text(yaml.safe_dump({"cvm_instance_ids": INSTANCES, "cvm_key_ids": [KEY], "cvm_force_stop": True}))
    (root / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 240, "suppress_ansible_output": True}))
    (root / "inventory").mkdir()
    # AWX's "Demo Inventory": localhost, local connection, the Python that runs ansible-playbook (the EE's).
    (root / "inventory" / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n")
    project = root / "project"
    (project / "collections" / "ansible_collections" / "tencentcloud").mkdir(parents=True)
    shutil.copy(REPO / "examples" / PLAYBOOK, project / PLAYBOOK)
    # A project's collections/ folder is on the collections path of its playbooks (AWX installs a project's
    # collections/requirements.yml there); the collection is this checkout.
    (project / "collections" / "ansible_collections" / "tencentcloud" / "cvm").symlink_to(REPO)
    return root


def run_job(pdd, ident, home, cmdline=None, **extra_env):
    """`ansible-runner run` on the directory; returns (rc, the job's events)."""
    if cmdline:
        (pdd / "env" / "cmdline").write_text(cmdline)
    env = ansible_environment(home, **extra_env)  # no collections path: the project's collections/ folder holds the collection
    proc = subprocess.run([sys.executable, "-m", "ansible_runner", "run", str(pdd), "-p", PLAYBOOK, "--ident", ident],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    artifacts = pdd / "artifacts" / ident
    events, stdout = job_events(artifacts)
    assert proc.returncode == 0, "job %s failed (rc=%d)\njob stdout:\n%s\nrunner stderr:\n%s" % (ident, proc.returncode, stdout, proc.stderr)
    assert (artifacts / "status").read_text() == "successful"
    return events


def test_job_binds_keys_then_a_second_job_changes_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        pdd = private_data_dir(tmp_path / "job", emu)

        first = task_result(run_job(pdd, "job-1", home), BIND_TASK)
        assert first["changed"] is True
        assert [(i["instance_id"], i["key_ids"], i["previous_key_ids"], i["changed"]) for i in first["instances"]] == [
            ("ins-a1000002", [KEY], [], True),
            ("ins-a1000004", [KEY], [], True),
        ]
        assert len(first["request_ids"]) == 1
        writes_after_first = emu.write_count()
        assert writes_after_first == 1
        sent = [r for r in emu.requests()["requests"] if r["action"] == "AssociateInstancesKeyPairs"]
        assert [r["request_id"] for r in sent] == first["request_ids"]
        assert sent[0]["secret_id"] == emu.secret_id  # signed with the credential from env/envvars
        assert emu.instance("ins-a1000002")["InstanceState"] == "RUNNING"  # force-stopped, bound, started again
        for instance_id in INSTANCES:
            assert emu.instance(instance_id)["LoginSettings"]["KeyIds"] == [KEY]

        # The same job again, at the highest verbosity a job template offers: no change, no write.
        # ansible-core 2.21 adds the module's options (`invocation`) to a result only when INJECT_INVOCATION
        # asks for it (earlier releases always do, and ignore the variable): ask, so the check below holds
        # on every release.
        second_events = run_job(pdd, "job-2", home, cmdline="-vvvv", ANSIBLE_INJECT_INVOCATION="true")
        second = task_result(second_events, BIND_TASK)
        assert second["changed"] is False
        assert second["request_ids"] == []
        assert all(not i["changed"] and i["key_ids"] == [KEY] for i in second["instances"])
        assert emu.write_count() == writes_after_first
        # The module's options as the job log shows them: the key from the environment is censored.
        assert second["invocation"]["module_args"]["secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

    # The credential was only in env/envvars, and nothing AWX keeps from the jobs repeats the secret.
    assert emu.secret_key in (pdd / "env" / "envvars").read_text()
    leaks = []
    for ident in ("job-1", "job-2"):
        artifacts = pdd / "artifacts" / ident
        kept = [artifacts / "stdout", artifacts / "stderr", artifacts / "status", artifacts / "rc"]
        kept += sorted((artifacts / "job_events").glob("*.json"))
        assert len(kept) > 10
        leaks += [str(path.relative_to(pdd)) for path in kept if path.exists() and emu.secret_key in path.read_text()]
        # ansible-runner's own record of the command keeps the job's environment (secret included), readable
        # only by its owner; AWX deletes the whole private data directory after the job.
        command = artifacts / "command"
        assert os.stat(command).st_mode & 0o077 == 0
    assert leaks == []


def test_a_job_acts_through_the_role_its_credential_names(tmp_path):
    """An AWX-style ansible-runner job whose credential names a CAM role: AssumeRole with the API key, writes as the role."""
    home = tmp_path / "home"
    home.mkdir()
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        pdd = private_data_dir(tmp_path / "job", emu, role_arn=DEFAULT_ROLE_ARN, role_session_name="awx-runner-job")
        result = task_result(run_job(pdd, "job-role", home, cmdline="-vvvv"), BIND_TASK)
        records = emu.requests()["requests"]
    assert result["changed"] is True
    assumed = [r for r in records if r["action"] == "AssumeRole"]
    assert [(r["secret_id"], r["params"]["RoleSessionName"]) for r in assumed] == [(emu.secret_id, "awx-runner-job")]
    assert {r["secret_id"] for r in records if r["action"] != "AssumeRole"} == {assumed[0]["issued"]["secret_id"]}
    kept = [path for path in (pdd / "artifacts" / "job-role").rglob("*") if path.is_file() and path.name != "command"]
    leaks = [str(path) for path in kept for secret in (emu.secret_key, TMP_SECRET_KEY_PREFIX, TMP_TOKEN_PREFIX)
             if secret in path.read_text(errors="replace")]
    assert leaks == []
