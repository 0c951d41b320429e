# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every EXAMPLES block of every module and of the inventory plugin, run as written against the emulator.

A user copies these blocks. Each module's block becomes the task list of one play, character for character; the
inventory plugin's block is split into its files, and the commented-out ones are uncommented. Only the connection
settings come from outside: the TENCENTCLOUD_* environment of the emulator, and the vault variables that an example's
module_defaults reads the credentials from. The emulator is seeded with the IDs and names the examples use, and the
test checks what each block did there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import stat
import subprocess
import textwrap

import pytest
import yaml

from ansible_env import BIN  # pylint: disable=import-error
from cvm_emulator import seed_instance  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error
from ssh_fleet import requires_sshd

MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py"))
SEPARATOR = "# ---- another file ----"


def examples_of(path):
    """The EXAMPLES string of a plugin file, read without importing it."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["EXAMPLES"]:
            return node.value.value
    raise AssertionError("%s has no EXAMPLES" % path)


def examples_state(without_key_names=()):
    """The instances and key pairs the examples name: three production web servers (one running) and their keys."""
    prod_web = {"env": "prod", "role": "web"}
    instances = [
        seed_instance("ins-1e4r6y8i", "web-a", "STOPPED", "ap-guangzhou-3", prod_web, ["skey-9a8b7c6d"], "Ubuntu Server 22.04 LTS 64bit",
                      None, "10.0.3.21"),
        seed_instance("ins-3e56fg78", "web-b", "STOPPED", "ap-guangzhou-4", prod_web, [], "TencentOS Server 3.1 (TK4)", None, "10.0.4.22"),
        seed_instance("ins-7h8j9k0l", "web-c", "RUNNING", "ap-guangzhou-3", prod_web, [], "Debian 12.0 64bit", "203.0.113.23", "10.0.3.23"),
        seed_instance("ins-2q3w4e5r", "db-a", "STOPPED", "ap-guangzhou-3", {"env": "prod", "role": "db"}, [], "CentOS 7.9 64bit", None,
                      "10.0.3.24"),
    ]
    key_pairs = [{"KeyId": key_id, "KeyName": name, "Description": "", "Region": "ap-guangzhou"}
                 for key_id, name in (("skey-4e5ty7i8", "ops"), ("skey-9a8b7c6d", "alice"), ("skey-6f7g8h9j", "deploy"))
                 if name not in without_key_names]
    return {"regions": ["ap-guangzhou", "ap-shanghai"], "instances": instances, "key_pairs": key_pairs}


@pytest.fixture
def examples_emulator():
    def start(**seed):
        return EmulatorProcess(extra_args=["--operation-latency", "0.2"], state=examples_state(**seed))
    return start


def run(cmd, env, cwd):
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=str(cwd), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, "%s failed (rc=%d)\n%s\n%s" % (cmd[0], proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def no_warning(proc):
    text = proc.stdout + proc.stderr
    assert "WARNING" not in text, text[-3000:]


def run_module_examples(module, emu, ansible_env, project):
    """The module's EXAMPLES as the tasks of one play on localhost, in `project`; returns the finished process."""
    project.mkdir(exist_ok=True)
    play = "- hosts: localhost\n  gather_facts: false\n  tasks:\n" + textwrap.indent(examples_of(REPO / "plugins" / "modules" / (module + ".py")), "    ")
    (project / "examples.yml").write_text(play)
    # The credentials the module_defaults example reads from a vault: connection settings, given from outside.
    vault = {"vault_tencentcloud_secret_id": emu.secret_id, "vault_tencentcloud_secret_key": emu.secret_key}
    return run([BIN / "ansible-playbook", "-i", "localhost,", "-c", "local", "examples.yml", "-e", json.dumps(vault)],
               ansible_env(emu), project)


def counts(emu):
    return emu.requests()["counts"]


def test_cvm_keypair_association_examples(examples_emulator, ansible_env, tmp_path):
    with examples_emulator() as emu:
        run_module_examples("cvm_keypair_association", emu, ansible_env, tmp_path / "project")
        seen = counts(emu)
        # Bound by the first example, kept by the exclusive one, the colleague's key unbound by the fourth;
        # deploy (by name, selected by tag) on every production web server, not on the database.
        for instance_id in ("ins-1e4r6y8i", "ins-3e56fg78", "ins-7h8j9k0l"):
            assert emu.key_ids(instance_id) == ["skey-4e5ty7i8", "skey-6f7g8h9j"], instance_id
        assert emu.key_ids("ins-2q3w4e5r") == []
        assert emu.instance("ins-7h8j9k0l")["InstanceState"] == "RUNNING"  # force-stopped, changed, started again
        assert seen.get("AssociateInstancesKeyPairs", 0) >= 3 and seen.get("DisassociateInstancesKeyPairs", 0) >= 1, seen
        assert seen.get("DescribeKeyPairs", 0) >= 1, seen  # key_names resolved


def adhoc_commands(examples):
    """The shell commands an EXAMPLES block shows in comments ('#   ansible localhost ...', backslash continuations joined)."""
    commands, current = [], None
    for line in examples.splitlines():
        text = line[1:].strip() if line.startswith("#") else None
        if text and (current is not None or text.startswith("ansible localhost ")):
            current = (current or "") + text.rstrip("\\").strip() + " "
            if not text.endswith("\\"):
                commands.append(current.strip())
                current = None
    return commands


def test_cvm_keypair_association_ad_hoc_example(examples_emulator, ansible_env, tmp_path):
    (command,) = adhoc_commands(examples_of(REPO / "plugins" / "modules" / "cvm_keypair_association.py"))
    assert command.startswith("ansible localhost -m tencentcloud.cvm.cvm_keypair_association -a ")
    with examples_emulator() as emu:
        run(["bash", "-c", command], ansible_env(emu), tmp_path)  # the venv's ansible is first on its PATH
        # One write binds the ops key next to the key the instance had.
        (write,) = [r for r in emu.requests()["requests"] if r["action"] == "AssociateInstancesKeyPairs"]
        assert write["params"]["InstanceIds"] == ["ins-1e4r6y8i"] and write["params"]["KeyIds"] == ["skey-4e5ty7i8"]
        assert emu.key_ids("ins-1e4r6y8i") == ["skey-4e5ty7i8", "skey-9a8b7c6d"]


def test_cvm_keypair_examples(examples_emulator, ansible_env, tmp_path):
    # The first example imports files/deploy.pub (next to the playbook) as the key pair deploy, which does not exist yet.
    public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHWQqAKl3q0eJx1Wq6Qx0P3bSgvD1q8b2NVx9dKX5Ylq deploy@example"
    (tmp_path / "project" / "files").mkdir(parents=True)
    (tmp_path / "project" / "files" / "deploy.pub").write_text(public_key + "\n")
    with examples_emulator(without_key_names=("deploy",)) as emu:
        project = tmp_path / "project"
        proc = run_module_examples("cvm_keypair", emu, ansible_env, project)
        pairs = {pair["KeyName"]: pair for pair in emu.state()["key_pairs"]}
        assert sorted(pairs) == ["ci_runner", "deploy", "ops", "ops_team"]  # alice deleted, three made
        assert pairs["deploy"]["PublicKey"].split()[:2] == public_key.split()[:2]
        pem = project / "secrets" / "ops_team.pem"
        assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600 and stat.S_IMODE(os.stat(pem.parent).st_mode) == 0o700
        assert "PRIVATE KEY" in pem.read_text() and pem.read_text().strip() not in proc.stdout
        assert emu.key_ids("ins-1e4r6y8i") == []  # alice was unbound before it was deleted
        seen = counts(emu)
        assert (seen.get("ImportKeyPair"), seen.get("CreateKeyPair"), seen.get("DeleteKeyPairs")) == (1, 2, 1), seen
        assert seen.get("DisassociateInstancesKeyPairs") == 1, seen  # the preview sent nothing


def test_cvm_keypair_association_info_examples(examples_emulator, ansible_env, tmp_path):
    with examples_emulator() as emu:
        run_module_examples("cvm_keypair_association_info", emu, ansible_env, tmp_path / "project")
        assert emu.key_ids("ins-1e4r6y8i") == []  # "Unbind it everywhere" used what the info module found
        seen = counts(emu)
        assert seen.get("DisassociateInstancesKeyPairs") == 1 and "AssociateInstancesKeyPairs" not in seen, seen


@requires_sshd
def test_ssh_login_check_examples(ansible_env, tmp_path):
    """In SSH mode every instance's private IP is a loopback address: outside the example's 10.0.0.0/8, so each is refused
    before any login, and named."""
    with EmulatorProcess(extra_args=["--ssh", "--operation-latency", "0.2"], state=examples_state()) as emu:
        proc = run_module_examples("ssh_login_check", emu, ansible_env, tmp_path / "project")
        shown = proc.stdout[proc.stdout.index('"logins.failures"'):]
        for instance_id in ("ins-1e4r6y8i", "ins-3e56fg78", "ins-7h8j9k0l"):  # the production web servers
            assert '"%s": "no address to log in to (127.' % instance_id in shown, shown[:3000]
        assert "is outside the allowed networks 10.0.0.0/8" in shown
        assert "ins-2q3w4e5r" not in shown  # the database server was not selected


def test_every_module_has_an_examples_test():
    assert MODULES == ["cvm_keypair", "cvm_keypair_association", "cvm_keypair_association_info", "ssh_login_check"]


def inventory_example_files():
    """The inventory plugin's EXAMPLES as files: the first as it is, the others uncommented from their plugin line on."""
    parts = examples_of(REPO / "plugins" / "inventory" / "cvm.py").split(SEPARATOR)
    files = [parts[0]]
    for part in parts[1:]:
        lines = part.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("# plugin:"))
        files.append("\n".join(lines[:start] + [re.sub(r"^# ?", "", line) for line in lines[start:]]) + "\n")
    return files


def test_inventory_examples(examples_emulator, ansible_env, tmp_path):
    files = inventory_example_files()
    assert len(files) == 3
    with examples_emulator() as emu:
        listings = []
        for number, text in enumerate(files):
            path = tmp_path / ("example%d.cvm.yml" % number)
            path.write_text(text)
            env = ansible_env(emu, {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1", "ANSIBLE_DEPRECATION_WARNINGS": "1"})
            proc = run([BIN / "ansible-inventory", "-i", path, "--list", "-y"], env, tmp_path)
            no_warning(proc)
            listings.append(yaml.safe_load(proc.stdout))

        def walk(group, into):  # YAML output: a host's variables appear at one of its groups, {} at the others
            for name, variables in (group.get("hosts") or {}).items():
                into.setdefault(name, {}).update(variables or {})
            for child in (group.get("children") or {}).values():
                walk(child, into)
            return into
        everything, web, emulator_file = (walk(listing["all"], {}) for listing in listings)
        # Named by private IP; grouped by tag and key pair; composed ansible_user.
        assert sorted(everything) == ["10.0.3.21", "10.0.3.23", "10.0.3.24", "10.0.4.22"]
        assert sorted(listings[0]["all"]["children"]["tag_role_web"]["hosts"]) == ["10.0.3.21", "10.0.3.23", "10.0.4.22"]
        assert sorted(listings[0]["all"]["children"]["key_skey_9a8b7c6d"]["hosts"]) == ["10.0.3.21"]
        assert everything["10.0.3.21"]["ansible_user"] == "ubuntu" and everything["10.0.3.23"]["ansible_user"] == "root"
        # The production web servers, named by template; the cache file went where the example said (HOME is the test's).
        assert sorted(web) == ["web-a.example.internal", "web-b.example.internal", "web-c.example.internal"]
        assert any((tmp_path / ".cache" / "ansible-cvm-inventory").iterdir())
        assert sorted(emulator_file) == ["ins-1e4r6y8i", "ins-2q3w4e5r", "ins-3e56fg78", "ins-7h8j9k0l"]
        regions = {r["region"] for r in emu.requests()["requests"] if r["action"] == "DescribeInstances"}
        assert regions == {"ap-guangzhou", "ap-shanghai"}
