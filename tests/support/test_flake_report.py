# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The flake hunt's report groups pytest-repeat's runs by test and names every test that ever failed."""

from __future__ import annotations

import flake_report  # pylint: disable=import-error

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.e2e.test_a" name="test_steady[1-3]"/>
<testcase classname="tests.e2e.test_a" name="test_steady[2-3]"/>
<testcase classname="tests.e2e.test_a" name="test_steady[3-3]"/>
<testcase classname="tests.e2e.test_a" name="test_param[add-x1-1-3]"/>
<testcase classname="tests.e2e.test_a" name="test_param[add-x1-2-3]"><failure message="boom"/></testcase>
<testcase classname="tests.e2e.test_a" name="test_param[add-x1-3-3]"/>
<testcase classname="tests.e2e.test_a" name="test_param[replace-x1-1-3]"/>
<testcase classname="tests.e2e.test_a" name="test_param[replace-x1-2-3]"/>
<testcase classname="tests.e2e.test_a" name="test_param[replace-x1-3-3]"/>
<testcase classname="tests.e2e.test_b" name="test_skipped[1-3]"><skipped message="no sshd"/></testcase>
</testsuite></testsuites>
"""


def test_runs_are_grouped_by_test_and_parameters(tmp_path):
    path = tmp_path / "results.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert dict(flake_report.tally(str(path))) == {
        "tests.e2e.test_a::test_steady": [3, 0],
        "tests.e2e.test_a::test_param[add-x1]": [3, 1],
        "tests.e2e.test_a::test_param[replace-x1]": [3, 0],
    }


def test_a_test_that_failed_once_fails_the_hunt_and_is_named(tmp_path, capsys):
    path = tmp_path / "results.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert flake_report.main(["--count", "3", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FLAKY tests.e2e.test_a::test_param[add-x1]: failed 1 of 3 runs" in out
    assert out.rstrip().endswith("2 passed, 1 failed")


def test_a_clean_hunt_passes_and_an_empty_one_does_not(tmp_path):
    clean = tmp_path / "clean.xml"
    clean.write_text(JUNIT.replace('<failure message="boom"/>', ""), encoding="utf-8")
    assert flake_report.main(["--count", "3", str(clean)]) == 0
    assert flake_report.main(["--count", "4", str(clean)]) == 1  # a test that ran fewer times than asked is no clean result
    empty = tmp_path / "empty.xml"
    empty.write_text('<testsuites><testsuite name="pytest"/></testsuites>', encoding="utf-8")
    assert flake_report.main(["--count", "3", str(empty)]) == 1
