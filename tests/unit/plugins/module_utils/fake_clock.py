# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake monotonic clock of the rate-limiter unit tests (test_client.py, test_shared_limiter.py).

Call it for the time; its sleep() records the wait and advances the time. One clock can drive several limiters
(as if in several processes). Imported by its collection path, which works under ansible-test units and pytest:

    from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock
"""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that starts at `now` and only moves when slept on (or when a test sets .now)."""

    def __init__(self, now=100.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
