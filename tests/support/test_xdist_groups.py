# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test runner's `--dist loadgroup` really keeps an xdist_group on one worker.

The costly tables (bad input, fuzz, the collection tarball) build one module fixture for all their rows; split over
the workers, each worker builds it again. pytest 9.2 stores a node's id where pytest-xdist 3.8 no longer renames it,
so the groups were silently ignored: this runs a small suite the way ./scripts/test does and looks at where it ran.
"""

from __future__ import annotations

import os
import subprocess
import sys

GROUPED = """
import os

import pytest

pytestmark = pytest.mark.xdist_group("table")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    with open(os.environ["TRACE"], "a", encoding="utf-8") as trace:
        trace.write("built\\n")
    return True


@pytest.mark.parametrize("row", range(6))
def test_row(table, row):
    with open(os.environ["TRACE"], "a", encoding="utf-8") as trace:
        trace.write("row %s\\n" % os.environ["PYTEST_XDIST_WORKER"])
"""


def test_a_group_runs_on_one_worker_and_builds_its_module_fixture_once(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_grouped.py").write_text(GROUPED, encoding="utf-8")
    trace = tmp_path / "trace.txt"
    env = dict(os.environ, TRACE=str(trace))
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            "3",
            "--dist",
            "loadgroup",
            "--rootdir",
            str(tmp_path),
            "-c",
            str(tmp_path / "pytest.ini"),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = trace.read_text(encoding="utf-8").splitlines()
    workers = {line.split()[1] for line in lines if line.startswith("row ")}
    assert len(lines) == 7, lines  # six rows and, once, the fixture
    assert len(workers) == 1, "the group ran on %d workers: %s" % (len(workers), sorted(workers))
    assert lines.count("built") == 1, lines
