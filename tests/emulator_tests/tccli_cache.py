# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cache of downloaded things of the emulator's tests (the pinned tccli wheel and its virtualenv), under $TCCVM_CACHE
or <repo>/.cache/. conftest.py's tccli_wheel and tccli_bin fixtures use it."""

import contextlib
import fcntl
import os
from pathlib import Path

# tests/support is on pytest's pythonpath (pytest.ini).
from shared_constants import REPO  # pylint: disable=import-error

TCCLI_VERSION = "3.1.189.1"  # the pinned tccli whose api.json is the contract and whose CLI is the second client


def cache_dir():
    """The cache folder, made if missing."""
    path = Path(os.environ.get("TCCVM_CACHE") or REPO / ".cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def cache_lock(name):
    """Serialize cache building between concurrent test processes (xdist workers, two terminals)."""
    with open(cache_dir() / (name + ".lock"), "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pip_output_tail(error):
    """The last 20 lines pip wrote, for a failure message."""
    return "\n".join(((error.stdout or "") + (error.stderr or "")).splitlines()[-20:])
