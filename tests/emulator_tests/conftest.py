# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the emulator's own tests: a shared emulator reset before each test, an SDK client, and the cached
tccli wheel / virtualenv (under $TCCVM_CACHE or <repo>/.cache/). Tests ask for these by name; what they import
(SDK calls, the hand signer) is in sdk_calls.py and hand_signer.py; the cache's helpers are in tccli_cache.py."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

# tests/support is on pytest's pythonpath (pytest.ini).
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import PROXY_VARIABLES  # pylint: disable=import-error

from .sdk_calls import FAST_LATENCY, make_client
from .tccli_cache import TCCLI_VERSION, cache_dir, cache_lock, pip_output_tail

for _name in PROXY_VARIABLES:  # the emulator is on 127.0.0.1: no proxy may see that traffic
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def tccli_wheel():
    """The pinned tccli wheel, downloaded once with pip into the cache."""
    target = cache_dir() / "wheels"
    pattern = "tccli-%s-*.whl" % TCCLI_VERSION
    with cache_lock("wheels"):
        found = sorted(target.glob(pattern))
        if not found:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                       "tccli==" + TCCLI_VERSION, "-d", str(target)]
            try:
                subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
            except subprocess.CalledProcessError as error:
                pytest.fail("cannot download tccli==%s with pip:\n%s" % (TCCLI_VERSION, pip_output_tail(error)))
            found = sorted(target.glob(pattern))
    assert found, "pip download left no %s in %s" % (pattern, target)
    return found[0]


@pytest.fixture(scope="session")
def api_json(tccli_wheel):
    """tccli/services/cvm/v20170312/api.json of the pinned wheel: the official parameter and object declarations."""
    with zipfile.ZipFile(tccli_wheel) as wheel:
        return json.loads(wheel.read("tccli/services/cvm/v20170312/api.json"))


@pytest.fixture(scope="session")
def tccli_bin():
    """A virtualenv with the pinned tccli (pip install tccli==VERSION), created once under the cache and reused."""
    venv = cache_dir() / ("tccli-%s-py%d.%d" % (TCCLI_VERSION, sys.version_info[0], sys.version_info[1]))
    stamp = venv / ".installed"
    with cache_lock("tccli-venv"):
        if not stamp.exists():
            try:
                subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, text=True, timeout=300)
                # --no-compile: the full SDK tccli pulls in is thousands of modules; compiling them all took 90% of the
                # install (37 s of 40); tccli compiles the few it imports on first use.
                subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                                "--no-compile", "tccli==" + TCCLI_VERSION], check=True, capture_output=True, text=True,
                               timeout=1800)
            except subprocess.CalledProcessError as error:
                pytest.fail("cannot install tccli==%s into %s:\n%s" % (TCCLI_VERSION, venv, pip_output_tail(error)))
            stamp.write_text(TCCLI_VERSION + "\n", encoding="utf-8")
    return venv / "bin" / "tccli"


# ---------------------------------------------------------------------------------------------------------------------
# The emulator and a client.

@pytest.fixture(scope="session")
def shared_emulator():
    with EmulatorProcess(extra_args=["--operation-latency", str(FAST_LATENCY), "--seed", "7"]) as emu:
        yield emu


@pytest.fixture
def emu(shared_emulator):
    """The shared emulator, back to its starting state, config and an empty request log."""
    shared_emulator.reset(everything=True)
    return shared_emulator


@pytest.fixture
def client(emu):
    return make_client(emu)
