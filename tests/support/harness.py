# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one launcher of the CVM emulator (tests/emulator/): every test suite, benchmark, script and the molecule scenario
starts and stops it through this module. Where the emulator lives and the command line that runs it are known to
emulator_command() alone.

From Python (tests/support is on pytest's pythonpath, pytest.ini):

    from harness import EmulatorProcess
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        env = emu.env()                               # TENCENTCLOUD_SECRET_ID/_SECRET_KEY/_REGION/_ENDPOINT for a client
        emu.configure(faults={"drop": 0.1})
        ...

From a shell or a playbook (scripts/lib.sh's tc_with_emulator, extensions/molecule/default/):

    python tests/support/harness.py start --record FILE [EMULATOR FLAGS...]
        starts the emulator detached (its own session, output in FILE.stdout and FILE.stderr), waits until it answers,
        writes FILE (JSON: pid, url, env, command; mode 0600, its folder must be 0700: the env holds the control token and the
        credentials) and prints `export` lines for its URL, credentials and control token TC_EMULATOR_TOKEN (after a comment
        line `# emulator: URL (pid N)`)
    python tests/support/harness.py stop --record FILE [--tail-stderr] [--fail-if-running]
        stops the emulator FILE names (only if that process is still the one started), removes FILE and its output;
        prints "stopped", "killed" or "not running"

Every control call carries the emulator's control token (header X-Emulator-Token): the harness makes a new random token
for each emulator and hands it over in the environment variable TC_EMULATOR_TOKEN, never on a command line. In SSH mode
(--ssh) the emulator refuses the published default credential: unless the flags or the state give one, the harness makes
a random credential and hands it over the same way (TC_EMULATOR_SECRET_ID/_KEY). env() gives clients both.

Standard library only. The emulator runs with proxies removed from its environment; control calls go straight to it
(proxies ignored). See docs/emulator.md.
"""

import argparse
import collections
import json
import os
import secrets
import shlex
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from shared_constants import EMULATOR_REGION, EMULATOR_SECRET_ID, EMULATOR_SECRET_KEY, REPO, without_proxies  # pylint: disable=import-error

EMULATOR_DIR = REPO / "tests" / "emulator"
CONTROL_TOKEN_ENV = "TC_EMULATOR_TOKEN"  # the emulator's control token, in its environment and in its clients'
CONTROL_TOKEN_HEADER = "X-Emulator-Token"  # ... and in every control request
SECRET_ID_ENV, SECRET_KEY_ENV = "TC_EMULATOR_SECRET_ID", "TC_EMULATOR_SECRET_KEY"  # the credential it accepts, handed over

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
FAULTS_READ_TIMEOUT = 5.0

# The emulators this process started and has not stopped, and the faults the stopped ones had struck: what
# faults_struck() adds up for tests/support/nondeterminism_guard.py.
_RUNNING: set = set()
_STRUCK_BY_STOPPED: collections.Counter = collections.Counter()


def faults_struck():
    """Faults (and rate-limit refusals) struck so far by every emulator this process started, by name: those of
    emulators still running, read from each (GET /_emulator/faults), plus those of emulators already stopped.
    None when a running emulator did not answer: the total is then unknown, not smaller."""
    total = collections.Counter(_STRUCK_BY_STOPPED)
    for emulator in list(_RUNNING):
        struck = emulator.faults_struck()
        if struck is None:
            return None
        total.update(struck)
    return total


def emulator_command(python=None):
    """The command line that runs the emulator (before its flags) and the environment to run it in: the only place
    that knows where the emulator lives and how it is started."""
    env = without_proxies()
    for name in (CONTROL_TOKEN_ENV, SECRET_ID_ENV, SECRET_KEY_ENV):  # never an outer emulator's: each gets its own
        env.pop(name, None)
    # The emulator is the package tests/emulator/cvm_emulator/, run with its parent folder on PYTHONPATH.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EMULATOR_DIR), env.get("PYTHONPATH")]))
    return [python or sys.executable, "-m", "cvm_emulator"], env


class EmulatorError(RuntimeError):
    """The emulator did not start, or a control call failed."""


def _flag_value(args, flag):
    """The value following `flag` (or given as flag=value) in an argument list, else None."""
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


class EmulatorProcess:  # pylint: disable=too-many-instance-attributes,too-many-public-methods  # the control API's client
    """A running emulator process, seen from the test side (the emulator itself is cvm_emulator.control.Emulator);
    use it as a context manager (or call start() and stop())."""

    def __init__(self, extra_args=None, state=None, tls=None, python=None):
        """extra_args: emulator flags; state: None (default seed), a state document dict or a path to one;
        tls: None, or (cert_file, key_file) to serve HTTPS with that certificate."""
        self.extra_args = [str(arg) for arg in extra_args or []]
        self.state_source = state
        self.tls = tls
        self.python = python or sys.executable
        self.process = None
        self.command_line = None
        self.url = None
        self._state_file = None
        self._stderr_file = None
        self._opener = None
        self._drain = None
        state_document = self._state_document()
        credentials = state_document.get("credentials") or []
        flag_id = _flag_value(self.extra_args, "--secret-id")
        self.control_token = secrets.token_urlsafe(32)
        self.ssh_mode = "--ssh" in self.extra_args
        self._handed_credential = False  # a credential made here, handed to the emulator in its environment (SSH mode)
        if flag_id:
            self.secret_id, self.secret_key = flag_id, _flag_value(self.extra_args, "--secret-key")
            self.token = _flag_value(self.extra_args, "--token")
        elif credentials:
            self.secret_id, self.secret_key = credentials[0]["secret_id"], credentials[0]["secret_key"]
            self.token = credentials[0].get("token")
        elif self.ssh_mode:  # the published defaults would let anyone bind a key and log in
            self.secret_id, self.secret_key = "AKIDEMU" + secrets.token_hex(15).upper(), secrets.token_urlsafe(24)
            self.token = _flag_value(self.extra_args, "--token")
            self._handed_credential = True
        else:
            self.secret_id, self.secret_key = EMULATOR_SECRET_ID, EMULATOR_SECRET_KEY
            self.token = _flag_value(self.extra_args, "--token")
        self.region = EMULATOR_REGION

    def _state_document(self):
        if isinstance(self.state_source, dict):
            return self.state_source
        if self.state_source:
            with open(self.state_source, encoding="utf-8") as handle:
                return json.load(handle)
        return {}

    # -- lifecycle ---------------------------------------------------------------------------------------------------

    @property
    def endpoint(self):
        return self.url

    @property
    def tls_cert(self):
        return self.tls[0] if self.tls else None

    def command(self):
        """The emulator's command line: its flags, and its starting state (a dict is written to a temporary file)."""
        command = emulator_command(self.python)[0] + ["--port", "0"]
        if isinstance(self.state_source, dict):
            with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="cvm-emulator-state-", delete=False) as handle:
                json.dump(self.state_source, handle)
            self._state_file = handle.name
            command += ["--state", handle.name]
        elif self.state_source:
            command += ["--state", str(self.state_source)]
        if self.tls:
            command += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        return command + self.extra_args

    def start(self, detach=None, on_spawn=None):
        """Start the emulator as a child process, wait for its URL. detach: a path prefix; the emulator then runs in
        a session of its own with its output in <detach>.stdout and <detach>.stderr, and outlives this process.
        on_spawn: called with this EmulatorProcess as soon as the process exists (before the wait for its URL)."""
        env = emulator_command(self.python)[1]
        env[CONTROL_TOKEN_ENV] = self.control_token  # the environment of a process is readable by its user only
        if self._handed_credential:
            env[SECRET_ID_ENV], env[SECRET_KEY_ENV] = self.secret_id, self.secret_key
        command = self.command_line = self.command()
        if detach:
            # Open until stop(): the emulator writes to it for its whole life.
            self._stderr_file = open(str(detach) + ".stderr", "w+", encoding="utf-8")  # noqa: SIM115  # pylint: disable=consider-using-with
            with open(str(detach) + ".stdout", "w", encoding="utf-8") as stdout:
                self.process = subprocess.Popen(
                    command,
                    stdout=stdout,
                    stderr=self._stderr_file,  # pylint: disable=consider-using-with
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                )
            if on_spawn:
                on_spawn(self)
            self.url = self._wait_for_url_file(str(detach) + ".stdout")
        else:
            self._stderr_file = tempfile.TemporaryFile("w+")  # noqa: SIM115  # pylint: disable=consider-using-with
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with  # runs until stop()
                command,
                stdout=subprocess.PIPE,
                stderr=self._stderr_file,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
            )
            if on_spawn:
                on_spawn(self)
            self.url = self._read_url_line()
            self._drain = threading.Thread(target=self.process.stdout.read, daemon=True)  # nothing else is printed; drain anyway
            self._drain.start()
        context = ssl._create_unverified_context() if self.tls else None  # pylint: disable=protected-access
        handlers = [urllib.request.ProxyHandler({})] + ([urllib.request.HTTPSHandler(context=context)] if context else [])
        self._opener = urllib.request.build_opener(*handlers)
        _RUNNING.add(self)
        return self

    def _read_url_line(self):
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT)
        return self._checked_url(lines[0] if lines else "")

    def _wait_for_url_file(self, path):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        line = ""
        while time.monotonic() < deadline:
            with open(path, encoding="utf-8") as handle:
                line = handle.readline()
            if line.endswith("\n") or self.process.poll() is not None:
                break
            time.sleep(0.05)
        return self._checked_url(line)

    def _checked_url(self, line):
        url = line.strip()
        if not url.startswith(("http://", "https://")):
            self.stop()
            raise EmulatorError("the emulator did not start (%s): %s" % (" ".join(self.command_for_message()), self.stderr_text()))
        return url

    def command_for_message(self):
        return [arg for arg in self.extra_args if "secret" not in arg.lower()]

    def stop(self):
        """Stop the emulator (TERM, then KILL), keep the faults it struck for faults_struck(), and tidy its files."""
        if self in _RUNNING:
            _STRUCK_BY_STOPPED.update(self.faults_struck() or {})
            _RUNNING.discard(self)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._drain is not None:
            self._drain.join(5)
            self._drain = None
        if self.process is not None and self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()
        if self._state_file:
            os.unlink(self._state_file)
            self._state_file = None

    def stderr_text(self):
        """What the emulator wrote on stderr so far (its --verbose request lines, errors)."""
        if self._stderr_file is None:
            return ""
        self._stderr_file.flush()
        self._stderr_file.seek(0)
        return self._stderr_file.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    # -- client settings ---------------------------------------------------------------------------------------------

    def env(self):
        """Environment variables that point a client (the module, tccli, a script) at this emulator: TENCENTCLOUD_SECRET_ID,
        _SECRET_KEY, _REGION, _ENDPOINT (the URL), plus _SECURITY_TOKEN with a token and _CA_BUNDLE with TLS, and
        TC_EMULATOR_TOKEN, the control token (for a script's or playbook's control calls)."""
        variables = {
            "TENCENTCLOUD_SECRET_ID": self.secret_id,
            "TENCENTCLOUD_SECRET_KEY": self.secret_key,
            "TENCENTCLOUD_REGION": self.region,
            "TENCENTCLOUD_ENDPOINT": self.url,
            CONTROL_TOKEN_ENV: self.control_token,
        }
        if self.token:
            variables["TENCENTCLOUD_SECURITY_TOKEN"] = self.token
        if self.tls:
            variables["TENCENTCLOUD_CA_BUNDLE"] = str(self.tls[0])  # the self-signed certificate is its own CA
        return variables

    # -- the control API ---------------------------------------------------------------------------------------------

    def control(self, method, path, document=None):
        """Call /_emulator/<path>; returns the decoded JSON answer, raises EmulatorError on an HTTP error."""
        data = None if document is None else json.dumps(document).encode("utf-8")
        request = urllib.request.Request(
            self.url + "/_emulator/" + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Content-Type": "application/json", CONTROL_TOKEN_HEADER: self.control_token},
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise EmulatorError("%s /_emulator/%s: HTTP %d %s" % (method, path, error.code, error.read().decode("utf-8", "replace"))) from error

    def state(self):
        return self.control("GET", "state")

    def instance(self, instance_id):
        return self.control("GET", "instances/" + instance_id)

    def key_ids(self, instance_id):
        """The key IDs bound to an instance, sorted."""
        return sorted((self.instance(instance_id).get("LoginSettings") or {}).get("KeyIds") or [])

    def add_instance(self, instance):
        """Add an instance (a state document's instance entry, e.g. {"InstanceId": "ins-...", "Tags": {"env": "prod"}})."""
        return self.control("POST", "instances", instance)

    def set_instance_keys(self, instance_id, key_ids):
        """Set an instance's key IDs outside the API, as a key bound by hand in the console."""
        return self.control("PATCH", "instances/" + instance_id, {"KeyIds": list(key_ids)})

    def generated_instance_ids(self):
        """The IDs of the --generate-instances instances (named gen-NNNNN), sorted."""
        return sorted(i["InstanceId"] for i in self.state()["instances"] if (i.get("InstanceName") or "").startswith("gen-"))

    def key_pair(self, key_id):
        return self.control("GET", "key_pairs/" + key_id)

    def load_state(self, document):
        return self.control("PUT", "state", document)

    def reset(self, everything=False):
        """Back to the starting state; everything=True also resets config, rate-limit windows and the request log."""
        return self.control("POST", "reset?all=1" if everything else "reset")

    def requests(self, since=0):
        return self.control("GET", "requests?since=%d" % since)

    def counts(self):
        return self.requests(since=2**62)["counts"]

    def write_count(self):
        return self.requests(since=2**62)["write_count"]

    def clear_requests(self):
        return self.control("DELETE", "requests")

    def configure(self, **changes):
        return self.control("PATCH", "config", changes)

    def stops(self):
        """Instances force-stopped by key changes since the state was loaded: {"force_stopped", "max_stopped_at_once",
        "stopped_now"} (GET /_emulator/stops)."""
        return self.control("GET", "stops")

    def config(self):
        return self.control("GET", "config")

    def faults_struck(self):
        """{fault name: how many times it struck} since this emulator started; None when it does not answer in time
        (gone, or too busy): what it struck is then unknown here."""
        if self.process is None or self.process.poll() is not None:
            return None
        request = urllib.request.Request(self.url + "/_emulator/faults", headers={CONTROL_TOKEN_HEADER: self.control_token})
        try:
            with self._opener.open(request, timeout=FAULTS_READ_TIMEOUT) as response:
                return json.loads(response.read().decode("utf-8"))["struck"]
        except (OSError, ValueError, KeyError):
            return None

    def ssh(self):
        """SSH mode (--ssh): {"enabled", "user" (the login user, never root), "uid", "port",
        "instances": {id: {"address", "listening", "authorized_key_ids"}}, ...}."""
        return self.control("GET", "ssh")

    def operating(self):
        """IDs of instances whose operation is still OPERATING."""
        return self.control("GET", "operations")["operating"]

    def wait_idle(self, timeout=10):
        """Wait until no operation is OPERATING; raises TimeoutError (e.g. while hold_operations is on)."""
        deadline = time.monotonic() + timeout
        while True:
            operating = self.operating()
            if not operating:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError("operations still OPERATING after %ss: %s" % (timeout, ", ".join(operating[:10])))
            time.sleep(0.02)


# -- the command line: a detached emulator for shells and playbooks -----------------------------------------------------


def _process_command(pid):
    """The command line of a live (not zombie) process, or None when there is none (Linux /proc)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [arg.decode("utf-8", "replace") for arg in handle.read().split(b"\0")[:-1]]
    except (OSError, IndexError):
        return None


def _write_record(path, record):
    temporary = path + ".tmp"
    if os.path.lexists(temporary):
        os.unlink(temporary)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:  # 0600 from the start
        json.dump(record, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)


def _exports(record):
    """Shell lines that point a client at the recorded emulator (what scripts/lib.sh evaluates)."""
    env = dict(record["env"], EMULATOR_URL=record["url"])
    lines = ["# emulator: %s (pid %d)" % (record["url"], record["pid"])]
    lines += ["export %s=%s" % (name, shlex.quote(value)) for name, value in sorted(env.items())]
    if "TENCENTCLOUD_SECURITY_TOKEN" not in env:
        lines.append("unset TENCENTCLOUD_SECURITY_TOKEN")
    return lines


def _private_folder(path):
    """Refuse a record in a folder others can enter or write: the record holds the control token and the credentials."""
    folder = os.path.dirname(path)
    mode = os.stat(folder).st_mode & 0o777
    if mode & 0o077:
        raise EmulatorError(
            "the record %s would hold the emulator's control token, but its folder %s is mode %03o: give a folder only "
            "you can use (chmod 700 %s, or mktemp -d)" % (path, folder, mode, shlex.quote(folder))
        )


def cli_start(record_path, emulator_args, python=None, exports=True):
    """Start a detached emulator, record it in record_path, print the export lines (only their comment line without
    `exports`: for a caller that reads the record and logs what it prints). Returns the exit status."""
    record_path = os.path.abspath(record_path)
    state = _flag_value(emulator_args, "--state")  # handed over as state=: its credentials are the ones to export
    if state:
        index = next(i for i, arg in enumerate(emulator_args) if arg == "--state" or arg.startswith("--state="))
        after = index + (1 if "=" in emulator_args[index] else 2)  # --state=FILE is one argument, --state FILE two
        emulator_args = emulator_args[:index] + emulator_args[after:]
    emu = EmulatorProcess(extra_args=emulator_args, state=state, python=python)
    os.makedirs(os.path.dirname(record_path), mode=0o700, exist_ok=True)
    try:
        _private_folder(record_path)
    except EmulatorError as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    record = {"stdout": record_path + ".stdout", "stderr": record_path + ".stderr"}

    def spawned(started):
        # Recorded before the wait: whatever happens next, `stop` finds the process.
        record.update(pid=started.process.pid, command=started.command_line)
        _write_record(record_path, record)

    try:
        emu.start(detach=record_path, on_spawn=spawned)
    except EmulatorError as error:  # start() stopped the process
        print("error: %s" % error, file=sys.stderr)
        for path in (record["stdout"], record["stderr"], record_path):
            if os.path.exists(path):
                os.unlink(path)
        return 1
    record.update(url=emu.url, env=emu.env())
    _write_record(record_path, record)
    try:
        if emu.control("GET", "health").get("ok") is not True:
            raise EmulatorError("the emulator at %s does not report itself healthy" % emu.url)
    except (EmulatorError, OSError) as error:
        print("error: %s" % error, file=sys.stderr)
        cli_stop(record_path, tail_stderr=True)
        return 1
    print("\n".join(_exports(record) if exports else _exports(record)[:1]))
    return 0


def cli_stop(record_path, tail_stderr=False, fail_if_running=False):
    """Stop the recorded emulator if it still runs; remove the record and the output files. Returns the exit status."""
    try:
        with open(record_path, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        print("not running")
        return 0
    pid = int(record["pid"])
    outcome = "not running"
    if _process_command(pid) == record.get("command"):  # only this very emulator: a PID can be reused
        outcome = "stopped"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _process_command(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if _process_command(pid) is not None:
            outcome = "killed"
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
            if _process_command(pid) is not None:
                print("error: could not stop the emulator (pid %d)" % pid, file=sys.stderr)
                return 1
    if tail_stderr and os.path.exists(record.get("stderr") or ""):
        with open(record["stderr"], encoding="utf-8", errors="replace") as handle:
            tail = handle.read().splitlines()[-30:]
        if tail:
            print("--- emulator stderr (last 30 lines) ---\n" + "\n".join(tail), file=sys.stderr)
    for path in (record.get("stdout"), record.get("stderr"), record_path):
        if path and os.path.exists(path):
            os.unlink(path)
    print(outcome)
    if fail_if_running and outcome != "not running":
        print("error: the emulator (pid %d) was still running; stopped it now" % pid, file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    """The CLI: start (detached, recorded in --record FILE) or stop an emulator; 0 when it did."""
    parser = argparse.ArgumentParser(prog="python tests/support/harness.py", allow_abbrev=False, description="Start or stop a detached CVM emulator.")
    commands = parser.add_subparsers(dest="action", required=True)
    start = commands.add_parser("start", allow_abbrev=False, help="start an emulator, record it, print export lines; other flags go to the emulator")
    start.add_argument("--record", required=True, help="the JSON file that records the emulator (pid, url, env)")
    start.add_argument("--python", help="the interpreter that runs the emulator (default: this one)")
    start.add_argument(
        "--no-exports",
        action="store_true",
        help="print only the comment line, not the export lines with the credentials and the control token "
        "(for a caller that reads the record and may log what this prints)",
    )
    stop = commands.add_parser("stop", allow_abbrev=False, help="stop the emulator a record names, if it still runs")
    stop.add_argument("--record", required=True)
    stop.add_argument("--tail-stderr", action="store_true", help="show the last 30 lines of the emulator's stderr")
    stop.add_argument("--fail-if-running", action="store_true", help="exit 1 when the emulator was still running")
    args, rest = parser.parse_known_args(argv)
    if args.action == "start":
        return cli_start(args.record, rest, args.python, exports=not args.no_exports)
    if rest:
        parser.error("unknown arguments: %s" % " ".join(rest))
    return cli_stop(args.record, args.tail_stderr, args.fail_if_running)


if __name__ == "__main__":
    sys.exit(main())
