# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command line: the flags (argparse, prog cvm_emulator.py), building the Emulator from them, TLS, and main().
May import: every other module of the package.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading

from .actions import ACTIONS
from .constants import (CONTROL_TOKEN_ENV, DEFAULT_OPERATION_LATENCY, DEFAULT_REGIONS, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, FAULT_PROBABILITIES,
                        INSTANCE_ID_RE, KEY_ID_RE, PLANNED_FAULTS, SECRET_ID_ENV, SECRET_KEY_ENV)
from .control import Emulator
from .resources import load_credentials
from .runtime import Config
from .seed import default_state_document
from .server import EmulatorServer
from .ssh_hosts import SshHosts


def parse_rate_limit(text):
    action, sep, number = text.partition("=")
    if not sep or action not in ACTIONS or not number.isdigit():
        raise argparse.ArgumentTypeError("expected ACTION=N with a known action and N >= 0 (0 = unlimited), got %r" % text)
    return action, int(number)


def parse_fault_plan(text):
    """ACTION:N=FAULT: the N-th arrival of each distinct ACTION request gets FAULT."""
    target, sep, fault = text.partition("=")
    action, colon, occurrence = target.partition(":")
    if not sep or not colon or action not in ACTIONS or not occurrence.isdigit() or int(occurrence) < 1 or fault not in PLANNED_FAULTS:
        raise argparse.ArgumentTypeError("expected ACTION:N=FAULT with a known action, N >= 1 and FAULT one of %s, got %r"
                                         % (", ".join(PLANNED_FAULTS), text))
    return action, int(occurrence), fault


def probability(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a probability is between 0 and 1, got %s" % text)
    return value


def seconds(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a number of seconds is not negative, got %s" % text)
    return value


def key_id(text):
    if not KEY_ID_RE.match(text):
        raise argparse.ArgumentTypeError("expected a key pair ID like skey-xxxxxxxx, got %r" % text)
    return text


def instance_id(text):
    if not INSTANCE_ID_RE.match(text):
        raise argparse.ArgumentTypeError("expected an instance ID like ins-xxxxxxxx, got %r" % text)
    return text


def build_parser():
    parser = argparse.ArgumentParser(
        prog="cvm_emulator.py",
        description="Local emulator of the Tencent Cloud CVM API 2017-03-12 (key pairs, instances, start/stop). "
                    "Prints the URL it listens on as the first line of stdout. The control API (/_emulator/) needs the token of "
                    "the environment variable %s in the header X-Emulator-Token; without that variable a random token is made "
                    "and written to a file only this user can read (its path goes to stderr). See docs/emulator.md." % CONTROL_TOKEN_ENV)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free port (default: 0)")
    parser.add_argument("--state", metavar="FILE", help="JSON state document to start from instead of the default seed")
    parser.add_argument("--secret-id", metavar="ID", help="SecretId accepted instead of the default %s" % DEFAULT_SECRET_ID)
    parser.add_argument("--secret-key", metavar="KEY", help="SecretKey of --secret-id (never printed or logged)")
    parser.add_argument("--token", metavar="TOKEN", help="security token that --secret-id requires (X-TC-Token)")
    parser.add_argument("--region", action="append", metavar="REGION",
                        help="a known region (repeatable); default: %s" % ", ".join(DEFAULT_REGIONS))
    parser.add_argument("--operation-latency", type=float, default=DEFAULT_OPERATION_LATENCY, metavar="SECONDS",
                        help="how long Associate/Disassociate/Start/Stop operations stay OPERATING (default: %(default)s)")
    parser.add_argument("--operation-start-delay", type=float, default=0.0, metavar="SECONDS",
                        help="for this long after a write is accepted, DescribeInstances still shows the previous "
                             "LatestOperation* (the instance already counts as busy) (default: 0)")
    parser.add_argument("--bind-replaces-keys", action="store_true",
                        help="AssociateInstancesKeyPairs replaces the instance's keys instead of adding to them "
                             "(the same as --bind-semantics replace)")
    parser.add_argument("--bind-semantics", choices=("add", "replace"),
                        help="reading: whether AssociateInstancesKeyPairs adds the keys (default) or replaces the instance's keys")
    parser.add_argument("--strict-duplicates", action="store_true",
                        help="reading: binding a key an instance has (add semantics) or unbinding one it lacks fails the whole call "
                             "with UnsupportedOperation.KeyPairBindDuplicate / KeyPairNotBoundToInstance")
    parser.add_argument("--restart-as-own-operation", action="store_true",
                        help="reading: after a ForceStop key change on a RUNNING instance, the restart shows as a StartInstances "
                             "operation of its own, with a new RequestId (also after a FAILED change)")
    parser.add_argument("--null-operation-fields", action="store_true",
                        help="reading: LatestOperation* are null on instances never operated (since start) and during "
                             "--operation-start-delay")
    parser.add_argument("--key-deletion-lag", type=seconds, default=0.0, metavar="SECONDS",
                        help="reading: for this long after a key is unbound from an instance (or the instance is terminated), "
                             "DeleteKeyPairs of the key fails with InvalidParameterValue.KeyPairNotSupported and "
                             "AssociatedInstanceIds still lists the instance (default: 0)")
    parser.add_argument("--image-key", action="append", type=key_id, default=[], metavar="KEY_ID",
                        help="reading: this key pair is used by a custom image, so DeleteKeyPairs fails with "
                             "InvalidKeyPair.NotSupported (repeatable)")
    parser.add_argument("--rate-limit", action="append", type=parse_rate_limit, default=[], metavar="ACTION=N",
                        help="requests per second accepted for ACTION (repeatable; 0 = unlimited): a request is refused with "
                             "RequestLimitExceeded when N requests of ACTION were accepted in the previous 1.0 s. Defaults: 40 for "
                             "DescribeInstances, 10 for every other action")
    parser.add_argument("--no-rate-limit", action="store_true", help="disable all rate limits")
    parser.add_argument("--seed", type=int, help="seed of the fault draws and of new key IDs")
    for name, text in (("internal-error", "answer InternalError (HTTP 200), nothing applied"),
                       ("http-502", "answer HTTP 502 with a small non-JSON body, nothing applied"),
                       ("drop", "close the connection without a response, nothing applied"),
                       ("lost-response", "apply the request, then close the connection without a response"),
                       ("throttle", "answer RequestLimitExceeded"),
                       ("operation-failed", "an accepted Associate/Disassociate operation ends FAILED, keys unchanged")):
        parser.add_argument("--fault-" + name, type=probability, default=0.0, metavar="P",
                            help="probability (0..1, per request) to %s (default: 0)" % text)
    parser.add_argument("--fault-plan", action="append", type=parse_fault_plan, default=[], metavar="ACTION:N=FAULT",
                        help="the N-th arrival of every distinct ACTION request (same body) gets FAULT, one of %s "
                             "(repeatable); faults are keyed by the request, never by arrival order among threads"
                             % ", ".join(PLANNED_FAULTS))
    parser.add_argument("--response-latency", type=float, default=0.0, metavar="MS", help="delay added to every API response (default: 0)")
    parser.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM); needs --tls-key")
    parser.add_argument("--tls-key", metavar="FILE", help="private key (PEM) of --tls-cert")
    parser.add_argument("--generate-instances", type=int, default=0, metavar="N",
                        help="add N STOPPED Linux instances (ins-<base36 counter>, gen-00001..., tag bench=true) to the seed")
    parser.add_argument("--ssh", action="store_true",
                        help="SSH mode: each RUNNING Linux instance answers SSH (port 22; user cvm-login when run as root, else the "
                             "emulator's own user, never root) on its own loopback address, its private IP, with the public keys of its "
                             "key pairs; CreateKeyPair makes real key pairs (needs sshd). The published default credential is refused: "
                             "give %s/%s or a --state file's credentials, else a random one is made" % (SECRET_ID_ENV, SECRET_KEY_ENV))
    parser.add_argument("--sshd", metavar="PATH", default=None,
                        help="the OpenSSH server for --ssh (default: sshd on PATH, else /usr/sbin/sshd)")
    parser.add_argument("--ssh-slot", type=int, choices=range(100, 200), metavar="N",
                        help="with --ssh, use addresses 127.N.x.x (100-199); default: the first slot no other emulator holds")
    parser.add_argument("--fault-key-injection", action="append", type=instance_id, default=[], metavar="INSTANCE_ID",
                        help="SSH mode: this instance's guest agent is broken; key binds and unbinds still end SUCCESS, "
                             "but its authorized keys stay as they were (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="one line per API request on stderr (secrets never shown)")
    return parser


def startup_credentials(args, state_document, environ=None):
    """The starting credential: --secret-id/--secret-key, else TC_EMULATOR_SECRET_ID/_KEY from the environment, else none
    when the state file lists some, else the published default one (outside SSH mode) or a random one (SSH mode).
    Returns (credentials, generated): generated is the random credential's (id, key), or None."""
    environ = os.environ if environ is None else environ
    if bool(args.secret_id) != bool(args.secret_key):
        raise SystemExit("--secret-id and --secret-key go together")
    env_id, env_key = environ.get(SECRET_ID_ENV) or None, environ.get(SECRET_KEY_ENV) or None
    if bool(env_id) != bool(env_key):
        raise SystemExit("%s and %s go together" % (SECRET_ID_ENV, SECRET_KEY_ENV))
    if args.ssh and args.secret_key:
        raise SystemExit("SSH mode takes no --secret-key: a command line is visible to every local user (ps); give the credential "
                         "in the environment (%s, %s) or in the --state file" % (SECRET_ID_ENV, SECRET_KEY_ENV))
    credentials, generated = {}, None
    if args.secret_id:
        credentials[args.secret_id] = {"secret_key": args.secret_key, "token": args.token or None}
    elif env_id:
        credentials[env_id] = {"secret_key": env_key, "token": args.token or None}
    elif "credentials" not in state_document and args.ssh:
        generated = ("AKIDEMU" + secrets.token_hex(15).upper(), secrets.token_urlsafe(24))
        credentials[generated[0]] = {"secret_key": generated[1], "token": args.token or None}
    elif "credentials" not in state_document:
        credentials[DEFAULT_SECRET_ID] = {"secret_key": DEFAULT_SECRET_KEY, "token": args.token or None}
    if "credentials" in state_document:
        credentials.update(load_credentials(state_document["credentials"]))
    if args.ssh and any(secret_id == DEFAULT_SECRET_ID or value["secret_key"] == DEFAULT_SECRET_KEY for secret_id, value in credentials.items()):
        raise SystemExit("SSH mode refuses the emulator's published default credential (%s): anyone could sign with it and bind "
                         "keys to instances one logs in to; leave the credentials out and the emulator makes a random one" % DEFAULT_SECRET_ID)
    return credentials, generated


def write_secrets_file(token, generated):
    """Write what the emulator made up (the control token, the SSH-mode credential) as shell exports to a file only this user
    can read (0600 in a new 0700 folder); returns its path. The secrets themselves are never printed."""
    folder = tempfile.mkdtemp(prefix="cvm-emulator-secrets-")
    path = os.path.join(folder, "env")
    lines = ["export %s=%s\n" % (CONTROL_TOKEN_ENV, token)]
    if generated:
        lines.append("export TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s\n" % generated)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as handle:
        handle.writelines(lines)
    return path


def build_emulator(args, control_token=None):
    """The Emulator the flags describe; also returns the random credential made for SSH mode (id, key), or None."""
    if args.state:
        with open(args.state, encoding="utf-8") as handle:
            state_document = json.load(handle)
    else:
        state_document = default_state_document()
    credentials, generated = startup_credentials(args, state_document)
    state_document = dict(state_document, credentials=[dict(secret_id=key, **value) for key, value in credentials.items()])
    rate_limits = {name: None for name in ACTIONS} if args.no_rate_limit else {}
    rate_limits.update({action: limit or None for action, limit in args.rate_limit})
    faults = {name: getattr(args, "fault_" + name) for name in FAULT_PROBABILITIES}
    faults["response_latency_ms"] = args.response_latency
    readings = {"strict_duplicates": args.strict_duplicates, "restart_as_own_operation": args.restart_as_own_operation,
                "null_operation_fields": args.null_operation_fields, "key_deletion_lag": args.key_deletion_lag,
                "image_key_ids": args.image_key, "key_injection_failures": args.fault_key_injection}
    if args.bind_semantics:
        readings["bind_semantics"] = args.bind_semantics
    fault_plan = {}
    for action, occurrence, fault in args.fault_plan:
        fault_plan.setdefault(action, {})[occurrence] = fault
    config = Config(args.operation_latency, args.operation_start_delay, args.bind_replaces_keys, rate_limits, faults, args.seed, readings,
                    fault_plan)
    ssh = SshHosts(args.sshd or shutil.which("sshd", path="/usr/sbin:" + os.environ.get("PATH", "")) or "/usr/sbin/sshd",
                   args.ssh_slot) if args.ssh else None
    try:
        return Emulator(state_document, credentials, args.region or DEFAULT_REGIONS, config, args.generate_instances, args.verbose, ssh,
                        control_token), generated
    except Exception:
        if ssh is not None:
            ssh.close()
        raise


def tls_context(args):
    if not args.tls_cert and not args.tls_key:
        return None
    if not (args.tls_cert and args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    return context


def main(argv=None):
    args = build_parser().parse_args(argv)
    token = os.environ.get(CONTROL_TOKEN_ENV) or None
    try:
        emulator, generated = build_emulator(args, token or secrets.token_urlsafe(32))
    except (OSError, ValueError) as error:
        sys.stderr.write("cvm_emulator: cannot load the state: %s\n" % error)
        return 2
    secrets_file = None
    if token is None or generated:  # made up here: the starting user finds them in a file only they can read
        secrets_file = write_secrets_file(emulator.control_token, generated)
        sys.stderr.write("cvm_emulator: the control token (header X-Emulator-Token)%s: source %s\n"
                         % (" and the SSH-mode credential" if generated else "", secrets_file))
        sys.stderr.flush()
    stop = threading.Event()  # handlers go in before the URL is printed: a caller may signal right after reading it
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    context = tls_context(args)
    server = EmulatorServer((args.host, args.port), emulator, context)
    host = "[%s]" % args.host if ":" in args.host else args.host
    sys.stdout.write("%s://%s:%d\n" % ("https" if context else "http", host, server.server_address[1]))
    sys.stdout.flush()
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    emulator.close()
    if secrets_file:
        shutil.rmtree(os.path.dirname(secrets_file), ignore_errors=True)
    return 0
