# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A newcomer's first steps from a clone, run as the documents write them.

The shell lines of the README's section "Use it from a clone" are read from README.md and run, in the checkout,
by a shell with a fresh HOME and no collections path, the project venv standing for "ansible-core and
requirements.txt installed". The ad hoc example of docs/emulator.md runs the same way after the README's link
lines, against an emulator this test starts (its URL replaces the example's port).
"""

from __future__ import annotations

import re
import subprocess

from ansible_env import clean_environment  # pylint: disable=import-error
from e2e_support import binding_writes  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

EXAMPLE_URL = "http://127.0.0.1:41234"


def section(markdown, heading):
    """The text of a '## heading' section, up to the next heading of the same or a higher level."""
    match = re.search(r"^## %s\n(.*?)(?=^#{1,2} )" % re.escape(heading), markdown, re.S | re.M)
    assert match, "README.md has no section '## %s'" % heading
    return match.group(1)


def code_blocks(text, language):
    return re.findall(r"^```%s\n(.*?)^```" % language, text, re.S | re.M)


def newcomer_env(home):
    """A shell as a newcomer's: their HOME, ansible from the venv on PATH, no collections path, no proxy."""
    return clean_environment(home, ANSIBLE_NOCOLOR="1", VIRTUAL_ENV=None, XDG_CACHE_HOME=None)


def shell(script, env):
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=str(REPO), env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, "rc=%d\n%s\n%s\n%s" % (proc.returncode, script, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc


def readme_blocks():
    blocks = code_blocks(section((REPO / "README.md").read_text(), "Use it from a clone"), "sh")
    assert len(blocks) == 2, blocks  # the link lines, then the example against the emulator
    return blocks


def test_the_readme_clone_section_runs_an_example_against_the_emulator(tmp_path):
    link, example = readme_blocks()
    assert "ansible_collections/tencentcloud/cvm" in link and "ANSIBLE_COLLECTIONS_PATH" in link
    assert "examples/bind_keys.yml" in example
    # Without the link lines, a clone cannot be used: the failure the section exists for.
    proc = subprocess.run(["bash", "-c", example], cwd=str(REPO), env=newcomer_env(tmp_path), capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode != 0 and "tencentcloud.cvm.cvm_keypair_association" in proc.stdout + proc.stderr
    proc = shell(link + example, newcomer_env(tmp_path))
    assert (tmp_path / ".ansible" / "clones" / "ansible_collections" / "tencentcloud" / "cvm").resolve() == REPO
    # The playbook's own assert passed: previewed, bound, and the rerun sent no write.
    assert "Bound skey-k1000003 with 1 call(s); the rerun sent no write." in proc.stdout
    assert re.search(r"localhost\s*: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", proc.stdout), proc.stdout


def test_the_emulator_docs_ad_hoc_example_runs_from_a_clone(tmp_path):
    link, _example = readme_blocks()
    lines = [line[2:] for block in code_blocks((REPO / "docs" / "emulator.md").read_text(), "console") for line in block.splitlines()
             if line.startswith("$ ")]
    adhoc = [i for i, line in enumerate(lines) if line.startswith("ansible localhost -m tencentcloud.cvm.")]
    assert len(adhoc) == 1, lines
    commands = lines[adhoc[0] - 3:adhoc[0] + 1]  # the three exports and the ad hoc command
    assert [c.split()[0] for c in commands] == ["export", "export", "export", "ansible"], commands
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        script = link + "\n".join(command.replace(EXAMPLE_URL, emu.url) for command in commands) + "\n"
        assert emu.url in script
        proc = shell(script, newcomer_env(tmp_path))
        assert "CHANGED" in proc.stdout, proc.stdout
        assert [w["params"]["InstanceIds"] for w in binding_writes(emu)] == [["ins-a1000004"]]
        assert emu.key_ids("ins-a1000004") == ["skey-k1000003"]
