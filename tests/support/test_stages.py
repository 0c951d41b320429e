# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""./scripts/test's command line (stages.py): stage selection, pytest options and paths, and its refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import stages  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error


def test_a_full_run_is_every_stage_of_a_full_run_in_order_on_every_suite():
    assert stages.parse_args([]) == (list(stages.ALL_STAGES), [], list(stages.PYTEST_PATHS))
    assert stages.ALL_STAGES == ("checks", "minimal", "pytest", "matrix", "molecule", "ee")


def test_quick_x_and_paths_make_one_fast_pytest_run():
    assert stages.parse_args(["--quick", "-x", "--", "tests/support", "tests/unit"]) == (["pytest"], ["-m", "not slow", "-x"], ["tests/support", "tests/unit"])


def test_stages_are_repeatable_in_both_spellings_and_keep_their_order():
    assert stages.parse_args(["--stage", "flaky", "--stage=checks"])[0] == ["flaky", "checks"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--stage", "lint"], "unknown stage: lint (stages: checks minimal pytest matrix molecule ee sanity flaky)"),
        (["--stage"], "--stage needs a NAME"),
        (["--fast"], "unknown argument: --fast (see --help)"),
    ],
)
def test_bad_arguments_are_named(argv, message):
    with pytest.raises(stages.UsageError) as raised:
        stages.parse_args(argv)
    assert str(raised.value) == message


def test_list_and_help_answer_without_preparing_anything(capsys):
    assert stages.parse_args(["--list"]) is None
    assert capsys.readouterr().out.split() == list(stages.ALL_STAGES + stages.EXTRA_STAGES)
    assert stages.parse_args(["--help"]) is None
    assert "Usage: ./scripts/test" in capsys.readouterr().out


def test_an_unknown_stage_fails_before_the_environment_is_prepared():
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "support" / "stages.py"), "--stage", "lint"], capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "error: unknown stage: lint (stages: checks minimal pytest matrix molecule ee sanity flaky)\n"


def nox_sessions(*args):
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "--noxfile", str(REPO / "noxfile.py"), "--list", "--json", *args], capture_output=True, text=True, check=True
    )
    return [session["session"] for session in json.loads(listed.stdout)]


def test_the_matrix_lanes_run_every_ansible_test_session_of_the_noxfile():
    """A release or a sanity session added to noxfile.py and not to the matrix's lanes would silently not run in CI."""
    lanes = ["%s-%s" % (kind, core) for cores in stages.MATRIX_LANES for core in cores for kind in ("units", "integration")]
    assert sorted(lanes) == sorted(nox_sessions("--tags", "units") + nox_sessions("--tags", "integration"))
    assert sorted(stages.SANITY_SESSIONS) == sorted(nox_sessions("--tags", "sanity"))
