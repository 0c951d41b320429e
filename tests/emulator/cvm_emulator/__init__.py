# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Local emulator of the Tencent Cloud CVM API (version 2017-03-12) for tests and benchmarks.

It speaks the signed JSON protocol (TC3-HMAC-SHA256) that the unmodified tencentcloud SDK and tccli use,
keeps instances and key pairs in memory, runs the asynchronous operations (LatestOperation*) on a lazy
clock, and can inject faults. An unsigned control API under /_emulator/ lets tests read and change state,
configuration and the request log; every control request must carry the emulator's token (header X-Emulator-Token,
environment variable TC_EMULATOR_TOKEN). In SSH mode the published default credential is refused and no login is root.
Standard library only; see docs/emulator.md for the user guide.

Run it with tests/emulator on PYTHONPATH: `python -m cvm_emulator --port 0` (see cli.py for the flags); tests start
it through tests/support/harness.py. This file is the package's public face, the few names a test or script may
take from `cvm_emulator` itself:

  DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, DEFAULT_REGION   the built-in credentials and region (not secrets)
  ACTIONS                the action table: name -> Action(params, handler, write, default requests/second)
  WRITE_ACTIONS          the names of every action that writes (7: binds, start/stop, the key pair lifecycle)
  KEY_BINDING_ACTIONS    the two binding actions, AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs
  INPUT_OBJECTS          the parameter objects, declared in api.json's terms
  base36                 the counter of generated instance IDs (ins- + base36(n) padded to 8)
  default_state_document, seed_instance   the default seed, and one instance record of it
  main                   the command line

Anything else is imported from the module that owns it (`from cvm_emulator.state import World`). The modules,
each importing only those before it:

  constants       API version, built-in credentials and regions, limits, ID patterns, fault names
  errors          ApiError (Tencent's Response.Error) and ControlError (control API status + message)
  params          parameter declarations in api.json's terms (INPUT_OBJECTS) and request validation
  helpers         small shared helpers: times, IDs, quoting, SSH public keys, tags
  resources       InstanceRecord and KeyPairRecord, instance defaults, loading a state document's parts
  state           the World (instances, key pairs, bindings) and its operations on a lazy clock
  seed            the default seed (the exact IDs docs/emulator.md documents)
  filters         Describe filters, pagination, batch ID checks
  faults          FaultDraws: the keyed draws of injected faults
  actions_common  ApiRequest and EmulatedCvmBase: look-ups, checks, operation timelines shared by the actions
  actions         EmulatedCvm, the action handlers, and the action table ACTIONS
  sts             the emulated STS: AssumeRole, temporary keys with an expiry, the CAM-like role table
  runtime         Config (latency, readings, rate limits, faults), EmulatorRateLimiter, RequestLog
  signing         TC3-HMAC-SHA256 signature verification
  service         ApiService: the signed API pipeline over one lock
  control         Emulator: ApiService plus the control API under /_emulator/
  server          HTTP request handler and threaded (optionally TLS) server
  ssh_hosts       SSH mode: a real sshd per RUNNING Linux instance on loopback, run as an unprivileged login account
  cli             command-line flags, building the Emulator, main()
  __main__        `python -m cvm_emulator`
"""

from .actions import ACTIONS, WRITE_ACTIONS
from .cli import main
from .constants import DEFAULT_REGION, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, KEY_BINDING_ACTIONS
from .helpers import base36
from .params import INPUT_OBJECTS
from .seed import default_state_document, seed_instance

__all__ = [
    "ACTIONS", "DEFAULT_REGION", "DEFAULT_SECRET_ID", "DEFAULT_SECRET_KEY", "INPUT_OBJECTS", "KEY_BINDING_ACTIONS", "WRITE_ACTIONS",
    "base36", "default_state_document", "main", "seed_instance",
]
