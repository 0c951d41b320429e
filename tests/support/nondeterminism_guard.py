# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pytest plugin (pytest.ini loads it) that keeps the flake hunt's marker honest: a test that met an injected
fault or a rate-limit refusal of the emulator, in its own body or in a fixture it set up, fails unless it is marked
`nondeterministic`, so that ./scripts/test --stage flaky repeats it. Marking by hand alone would let a new fault
test slip out of the hunt unnoticed.

It compares the emulator's fault counters (harness.faults_struck(): GET /_emulator/faults of every emulator this
process started) before the test's setup and after its call; when an emulator does not answer a reading, that test
gets no verdict. It sees only emulators started through
harness.EmulatorProcess in the pytest process; concurrency, forks, timing and randomness of other kinds are
still marked by hand (pytest.ini names the marker).
"""

import pytest

from harness import faults_struck  # pylint: disable=import-error

MARKER = "nondeterministic"
_BEFORE = pytest.StashKey[dict]()


def met_unmarked(before, after, marked):
    """The faults struck between two readings ({name: count}), when the test is not marked; else {}. A reading of
    None (an emulator did not answer) gives no verdict: an unknown count must not fail a test."""
    if marked or before is None or after is None:
        return {}
    return {name: count - before.get(name, 0) for name, count in sorted(after.items()) if count > before.get(name, 0)}


def message(nodeid, struck):
    faults = ", ".join("%s %d" % (name, count) for name, count in struck.items())
    return (
        "%s met the emulator's injected faults or rate limit (%s) but is not marked %s: add "
        "@pytest.mark.%s (or pytestmark) so that ./scripts/test --stage flaky repeats it" % (nodeid, faults, MARKER, MARKER)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_BEFORE] = faults_struck()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and report.passed and _BEFORE in item.stash:
        struck = met_unmarked(item.stash[_BEFORE], faults_struck(), item.get_closest_marker(MARKER) is not None)
        if struck:
            report.outcome = "failed"
            report.longrepr = message(item.nodeid, struck)
    return report
