# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault draws that do not depend on thread timing.

A fault is decided by the request itself, never by its place among concurrent requests: the key of a draw is
the action, a digest of the body and how many times this same request (action and body) has arrived. So the
same seed gives the same faults to the same logical request (a write and each resend of it), whatever other
threads send meanwhile. A fault plan names faults outright: {action: {occurrence: fault}}, e.g. the first
arrival of every distinct AssociateInstancesKeyPairs request is dropped.
`struck` counts every fault that struck, and every rate-limit refusal, since the process started (no reset clears it):
the test suite's guard (tests/support/nondeterminism_guard.py) reads it to find tests that met one.
May import: constants.
"""

import collections
import hashlib
import random


class FaultDraws:
    """Keyed uniform draws in [0, 1) and the plan's named faults; not thread-safe (the service holds its lock)."""

    def __init__(self, seed=None):
        self.arrivals = collections.Counter()
        self.struck = collections.Counter()
        self.salt = ""
        self.reseed(seed)

    def reseed(self, seed):
        """Start over: the same seed gives the same draws again; no seed, a fresh random salt."""
        self.salt = "seed=%d" % seed if seed is not None else "salt=%x" % random.SystemRandom().getrandbits(64)
        self.arrivals.clear()

    def arrive(self, action, body):
        """Count one arrival of this request; return the key its fault draws use."""
        digest = hashlib.sha256(body or b"").hexdigest()
        self.arrivals[(action, digest)] += 1
        return (action, digest, self.arrivals[(action, digest)])

    def uniform(self, name, key):
        text = "|".join([self.salt, name] + [str(part) for part in key])
        return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64

    def hits(self, name, probability, key, plan):
        """Whether fault `name` strikes the request with this key: named by the plan, or drawn with `probability`."""
        action, _digest, occurrence = key
        if plan.get(action, {}).get(occurrence) == name:
            return self.note(name)
        return self.strikes(name, probability, key)

    def strikes(self, name, probability, key):
        """Whether a draw for fault `name` under this key falls below `probability`."""
        return bool(probability) and self.uniform(name, key) < probability and self.note(name)

    def note(self, name):
        """Count one struck fault (or rate-limit refusal) named `name`; True."""
        self.struck[name] += 1
        return True

    def instance_key(self, action, instance_id):
        """A key for a per-instance draw (an operation's outcome): the n-th such operation of this instance."""
        self.arrivals[(action, instance_id)] += 1
        return (action, instance_id, self.arrivals[(action, instance_id)])
