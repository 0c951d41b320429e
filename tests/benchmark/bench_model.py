# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The numbers the benchmark compares against: minimal request counts, the lower bound, and the Terraform model.

Pure functions, standard library only (see docs/performance.md for the reasoning).
"""

import math

BATCH = 100                 # instances per DescribeInstances / Associate call (API maximum)
WRITE_RATE = 10.0           # documented limit, requests/s, AssociateInstancesKeyPairs (the emulator's default)
READ_RATE = 40.0            # documented limit, requests/s, DescribeInstances (the emulator's default)

# The Terraform provider's approach (docs/performance.md, "The Terraform model").
TF_SLEEP = 10.0             # time.Sleep(10 * time.Second) after each bind
TF_RATE = 15.0              # its client-side limit, requests/s
TF_PARALLELISM = 10         # terraform apply -parallelism default: resources worked on at once

# The targets (docs/performance.md, "The targets").
OVERHEAD_TARGET = 1.15      # module run with nothing to change / ansible.builtin.ping, median of pairs
SCALE_TARGET = 1.25         # whole ansible-playbook run / lower bound, at 10,000 instances
SCALE_TARGET_N = 10000
MEMORY_TARGET_MB = 150.0    # peak RSS of the module process, at 10,000 instances


def batches(n, size=BATCH):
    return int(math.ceil(n / float(size))) if n > 0 else 0


def minimal_counts(n):
    """The fewest DescribeInstances reads before the first write, and write calls, for n instances needing one same change."""
    return {"reads_before": batches(n), "writes": batches(n)}


def lower_bound(n, latency, write_rate=WRITE_RATE, read_rate=READ_RATE):
    """max(writes/write_rate, reads_before/read_rate) + latency, with the minimal counts (one distinct change)."""
    writes = reads = batches(n)
    return max(writes / write_rate, reads / read_rate) + latency


def terraform_requests(n):
    """One Associate per instance, then (the sleep being longer than the operation) one DescribeInstances poll each."""
    return 2 * n


def terraform_time(n, latency, sleep=TF_SLEEP, rate=TF_RATE, parallelism=TF_PARALLELISM):
    """T_tf(N) = max(ceil(N / P) * max(S, L), 2N / R).

    Each instance is its own bind call followed by a fixed sleep S and then polling until the operation is over
    (at least S, and at least the latency L when L > S); P instances are worked on at once; and the 2N requests
    (bind + one poll each) cannot go faster than R per second. Time spent in the requests themselves is ignored,
    so this is a lower bound of that approach too.
    """
    chains = int(math.ceil(n / float(parallelism)))
    return max(chains * max(sleep, latency), terraform_requests(n) / rate)
