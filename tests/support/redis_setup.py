# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real redis-server for the tests of the shared rate limit (rate_limit_url): found, or installed from Debian's
redis-server when running as root (apt_install, as sshd_setup installs sshd), then started on 127.0.0.1 at a free port
with no persistence (--save "" --appendonly no, its folder a temporary one) and stopped afterwards.

    from redis_setup import redis_server   # a pytest fixture: import it into a test module
    def test_x(redis_server):
        redis_server.url                   # redis://127.0.0.1:PORT/0
        redis_server.kill()                # SIGKILL, as a server lost in mid-run

Also fake servers for the fault cases: silent_server() accepts and never answers; garbage_server() answers every
command with bytes that are not RESP. Standard library (and pytest) only.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from apt_install import apt_get, ensure_installed  # pylint: disable=import-error

LOCK_FILE = os.path.join(tempfile.gettempdir(), "tencentcloud-cvm-redis-install.lock")
START_TIMEOUT = 20.0


def redis_server_path():
    found = shutil.which("redis-server", path=os.pathsep.join(["/usr/bin", "/usr/sbin", os.environ.get("PATH", "")]))
    return found or None


def install_redis_server():
    """apt-get update, then install redis-server. Raises OSError when that fails. Its own service is not needed."""
    apt_get("update")
    apt_get("install", "-y", "--no-install-recommends", "redis-server")


def ensure_redis_server():
    """(path of redis-server, None) when it is there or could be installed; (None, reason) otherwise."""
    return ensure_installed(redis_server_path, install_redis_server, LOCK_FILE, "redis-server (Debian's redis-server)")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One redis-server process on 127.0.0.1; `password` makes it require one (requirepass)."""

    def __init__(self, binary, folder, password=None, tls=None):
        self.binary = binary
        self.folder = folder
        self.password = password
        self.tls = tls  # (certificate, key) PEM paths: TLS only, on rediss://
        self.ca = tls[0] if tls else None  # the certificate is self-signed: it is its own CA
        self.port = free_port()
        self.proc = None

    @property
    def url(self):
        return "%s://127.0.0.1:%d/0" % ("rediss" if self.tls else "redis", self.port)

    def start(self):
        """Start redis-server (no persistence, its folder `folder`) and wait until it answers; returns self."""
        args = [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--port",
            "0" if self.tls else str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            self.folder,
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.tls:
            args += [
                "--tls-port",
                str(self.port),
                "--tls-cert-file",
                self.tls[0],
                "--tls-key-file",
                self.tls[1],
                "--tls-ca-cert-file",
                self.tls[0],
                "--tls-auth-clients",
                "no",
            ]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited at start (exit %d)" % self.proc.returncode)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    if self.tls:
                        return self  # listening; the TLS handshake is the client's test
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer on 127.0.0.1:%d within %.0f s" % (self.port, START_TIMEOUT))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _start(tmp_path_factory, password=None):
    binary, reason = ensure_redis_server()
    if binary is None:
        pytest.fail("no redis-server for the shared rate limit tests: %s" % reason)
    return RedisServer(binary, str(tmp_path_factory.mktemp("redis")), password=password).start()


@pytest.fixture
def redis_server(tmp_path_factory):
    """A fresh redis-server for one test, stopped afterwards."""
    server = _start(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture
def redis_server_with_password(tmp_path_factory):
    """A fresh redis-server that requires the password 'rl-secret-pw', stopped afterwards."""
    server = _start(tmp_path_factory, password="rl-secret-pw")
    yield server
    server.stop()


@pytest.fixture
def redis_tls_server(tmp_path_factory):
    """A fresh redis-server that speaks only TLS (rediss://), with a self-signed certificate for 127.0.0.1: `.ca` is its PEM."""
    from awx_support import self_signed_certificate  # pylint: disable=import-error,import-outside-toplevel

    folder = tmp_path_factory.mktemp("redis-tls")
    cert, key = self_signed_certificate(folder)
    binary, reason = ensure_redis_server()
    if binary is None:
        pytest.fail("no redis-server for the shared rate limit tests: %s" % reason)
    server = RedisServer(binary, str(folder), tls=(str(cert), str(key))).start()
    yield server
    server.stop()


class _FakeServer:
    """A TCP listener on 127.0.0.1 that answers every connection with `reply(data)` (None: never answers)."""

    def __init__(self, reply):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.connections = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closed.is_set():
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        while not self.closed.is_set():
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            answer = self.reply(data)
            if answer is not None:
                try:
                    conn.sendall(answer)
                except OSError:
                    return

    def close(self):
        self.closed.set()
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: a server that answers only after the timeouts (slow, or hung)."""
    server = _FakeServer(lambda data: None)
    yield server
    server.close()


@pytest.fixture
def garbage_server():
    """Answers every command with bytes that are no Redis protocol."""
    server = _FakeServer(lambda data: b"\x00\xffnot redis at all\r\n")
    yield server
    server.close()
