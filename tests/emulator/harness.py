# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start, stop and control the CVM emulator (tests/emulator/cvm_emulator/) from tests, benchmarks and scripts.

    from tests.emulator.harness import Emulator      # or, with tests/emulator on sys.path: from harness import Emulator
    with Emulator(extra_args=["--operation-latency", "0.2"]) as emu:
        env = emu.env()                               # TENCENTCLOUD_SECRET_ID/_SECRET_KEY/_REGION/_ENDPOINT for a client
        emu.configure(faults={"drop": 0.1})
        ...

Standard library only. The emulator runs as a child process with proxies removed from its environment; control
calls go straight to it (proxies ignored). See docs/emulator.md.
"""

import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

EMULATOR_DIR = os.path.dirname(os.path.abspath(__file__))  # holds the cvm_emulator package: python -m cvm_emulator
DEFAULT_SECRET_ID = "AKIDEMULATOR000000000000000000000000"  # the same values as cvm_emulator.DEFAULT_SECRET_*
DEFAULT_SECRET_KEY = "emulatorSecretKey0000000000000000"
DEFAULT_REGION = "ap-guangzhou"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
STARTUP_TIMEOUT = 30.0


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


class Emulator:
    """A running emulator process; use it as a context manager (or call start() and stop())."""

    def __init__(self, extra_args=None, state=None, tls=None, python=None):
        """extra_args: emulator flags; state: None (default seed), a state document dict or a path to one;
        tls: None, or (cert_file, key_file) to serve HTTPS with that certificate."""
        self.extra_args = [str(arg) for arg in extra_args or []]
        self.state_source = state
        self.tls = tls
        self.python = python or sys.executable
        self.process = None
        self.url = None
        self._state_file = None
        self._stderr_file = None
        self._opener = None
        self._drain = None
        state_document = self._state_document()
        credentials = state_document.get("credentials") or []
        flag_id = _flag_value(self.extra_args, "--secret-id")
        if flag_id:
            self.secret_id, self.secret_key = flag_id, _flag_value(self.extra_args, "--secret-key")
            self.token = _flag_value(self.extra_args, "--token")
        elif credentials:
            self.secret_id, self.secret_key = credentials[0]["secret_id"], credentials[0]["secret_key"]
            self.token = credentials[0].get("token")
        else:
            self.secret_id, self.secret_key = DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
            self.token = _flag_value(self.extra_args, "--token")
        self.region = DEFAULT_REGION

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
        command = [self.python, "-m", "cvm_emulator", "--port", "0"]
        if isinstance(self.state_source, dict):
            handle = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="cvm-emulator-state-", delete=False)  # pylint: disable=consider-using-with
            with handle:
                json.dump(self.state_source, handle)
            self._state_file = handle.name
            command += ["--state", handle.name]
        elif self.state_source:
            command += ["--state", str(self.state_source)]
        if self.tls:
            command += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        return command + self.extra_args

    def start(self):
        env = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [EMULATOR_DIR, env.get("PYTHONPATH")]))
        self._stderr_file = tempfile.TemporaryFile("w+")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=self._stderr_file,  # pylint: disable=consider-using-with
                                        stdin=subprocess.DEVNULL, env=env, text=True)
        self.url = self._read_url_line()
        self._drain = threading.Thread(target=self.process.stdout.read, daemon=True)  # nothing else is printed; drain anyway
        self._drain.start()
        context = ssl._create_unverified_context() if self.tls else None  # pylint: disable=protected-access
        handlers = [urllib.request.ProxyHandler({})] + ([urllib.request.HTTPSHandler(context=context)] if context else [])
        self._opener = urllib.request.build_opener(*handlers)
        return self

    def _read_url_line(self):
        lines = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT)
        url = lines[0].strip() if lines else ""
        if not url.startswith(("http://", "https://")):
            self.stop()
            raise EmulatorError("the emulator did not start (%s): %s" % (" ".join(self.command_for_message()), self.stderr_text()))
        return url

    def command_for_message(self):
        return [arg for arg in self.extra_args if "secret" not in arg.lower()]

    def stop(self):
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
        _SECRET_KEY, _REGION, _ENDPOINT (the URL), plus _SECURITY_TOKEN with a token and _CA_BUNDLE with TLS."""
        variables = {
            "TENCENTCLOUD_SECRET_ID": self.secret_id,
            "TENCENTCLOUD_SECRET_KEY": self.secret_key,
            "TENCENTCLOUD_REGION": self.region,
            "TENCENTCLOUD_ENDPOINT": self.url,
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
        request = urllib.request.Request(self.url + "/_emulator/" + path.lstrip("/"), data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise EmulatorError("%s /_emulator/%s: HTTP %d %s" % (method, path, error.code, error.read().decode("utf-8", "replace"))) from error

    def state(self):
        return self.control("GET", "state")

    def instance(self, instance_id):
        return self.control("GET", "instances/" + instance_id)

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
        return self.requests(since=2 ** 62)["counts"]

    def write_count(self):
        return self.requests(since=2 ** 62)["write_count"]

    def clear_requests(self):
        return self.control("DELETE", "requests")

    def configure(self, **changes):
        return self.control("PATCH", "config", changes)

    def config(self):
        return self.control("GET", "config")

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
