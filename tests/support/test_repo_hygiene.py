# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of repo_hygiene.py: what they flag, what they leave alone, and the exemption of changelog fragments.

Run by `nox -s repo-hygiene` before the check itself. The samples are assembled from parts, so that this file does
not hold what it tests for.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import repo_hygiene  # pylint: disable=import-error

HOME, ROOT, WORK, TMP = "/" + "home", "/" + "root", "/" + "work", "/" + "tmp"
ISSUE = "iss" + "ue"
HASH = "#"


def rules_of(text):
    return sorted({rule for _line, rule, _advice, _text in repo_hygiene.findings_in_text(text)})


@pytest.mark.parametrize(
    "text, rule",
    [
        ("see %s/alice/.ssh/config" % HOME, "machine-path"),
        ("cached in %s/.cache/x" % ROOT, "machine-path"),
        ("as %s/shared/docs/api-facts.md says" % WORK, "machine-path"),
        ("(`../sha" + "red/docs/style.md`)", "machine-path"),
        ("/" + "Users/bob/src", "machine-path"),
        ("log: %s/pytest-of-root/pytest-16/x" % TMP, "temp-path"),
        ("kept in %s/tc-ee-test.Olq492/context" % TMP, "temp-path"),
        ("written to %s/tmpa8x_3kq1" % TMP, "temp-path"),
        ("The benchmark command (%s 6)." % ISSUE, "issue-number"),
        ("fixed in %s %s12" % (ISSUE, HASH), "issue-number"),
        ("see %ss 11 and 15" % ISSUE, "issue-number"),
        ("as reported in %s27, the hint" % HASH, "issue-number"),
        ("(%s3)" % HASH, "issue-number"),
        ("The %s's bound assumes" % ISSUE, "issue-without-number"),
        ("as the %s measured: operations take seconds" % ISSUE, "issue-without-number"),
    ],
)
def test_flagged(text, rule):
    assert rules_of(text) == [rule]


@pytest.mark.parametrize(
    "text",
    [
        "ansible-galaxy collection build --output-path %s/build ../.." % TMP,  # a fixed example path
        "python harness.py start --record %s/emu.json" % TMP,
        "private_key_path: %s/k.pem" % TMP,
        "~/.cache/tencentcloud-cvm/ee",
        "the home folder is %s on Linux" % HOME,  # no folder under it
        'graphroot = "$EE_CACHE/storage"',
        "url: https://github.com/org/repo/%ss/new" % ISSUE,  # the tracker, no number
        "known_%ss:" % ISSUE,
        "echo ${#files[@]} files; exit $#",
        "color: %s333; fill:%s000000; &%s39; &%sx27;" % (HASH, HASH, HASH, HASH),
        "# 1. read the instances",
        "# -*- coding: utf-8 -*-",
        "issuer_name(name)",
        "a link to [the guide](docs/guide.md#section-2)",
    ],
)
def test_left_alone(text):
    assert rules_of(text) == []


def test_changelog_fragments_are_exempt_and_other_files_are_not(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "changelogs" / "fragments").mkdir(parents=True)
    (tmp_path / "changelogs" / "fragments" / "fix.yml").write_text("bugfixes:\n  - fixed (%s 12).\n" % ISSUE)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("line one\nsee %s 12\n" % ISSUE)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0%s 12" % ISSUE.encode())
    (tmp_path / "untracked.md").write_text("%s 12\n" % ISSUE)
    subprocess.run(["git", "-C", str(tmp_path), "add", "changelogs", "docs", "logo.png"], check=True)
    assert [(name, line, rule) for name, line, rule, _advice, _text in repo_hygiene.check(tmp_path)] == [("docs/a.md", 2, "issue-number")]
    proc = subprocess.run([sys.executable, repo_hygiene.__file__, str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "docs/a.md:2: issue-number:" in proc.stdout
    (tmp_path / "docs" / "a.md").write_text("line one\n")
    proc = subprocess.run([sys.executable, repo_hygiene.__file__, str(tmp_path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
