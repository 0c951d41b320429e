# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A proxy that would see plain-HTTP secrets is named in a warning, and a connection failure through a proxy names it.

A tiny HTTP proxy on 127.0.0.1, started by the test, forwards each request (absolute-URI form, as requests sends them to a
proxy for http://) to the emulator and counts them. The module runs with HTTP_PROXY set to it (with a user and password,
which must appear nowhere) and a plain-HTTP endpoint on 127.0.0.1, a host the transport rules alone never warn about.
"""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

PROXY_PASSWORD = "ProxyPw-9f8e7d"
BIND = {"instance_ids": ["ins-a1000004"], "key_ids": ["skey-k1000003"]}


class CountingProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Forward)
        self.forwarded = []  # (method, absolute URL) of every request that went through
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://proxyuser:%s@127.0.0.1:%d" % (PROXY_PASSWORD, self.server_address[1])

    def close(self):
        self.shutdown()
        self.server_close()


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        target = urlsplit(self.path)
        self.server.forwarded.append((self.command, self.path))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            upstream.request(self.command, target.path or "/", body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            upstream.close()

    do_GET = do_POST

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def proxy():
    server = CountingProxy()
    yield server
    server.close()


def test_plain_http_through_a_proxy_warns_naming_the_proxy_without_its_password(emulator, adhoc, proxy):
    # NO_PROXY=127.0.0.1 does not stop the SDK's own proxy choice for 127.0.0.1:port (it looks for host:port as written).
    run = adhoc(emulator, dict(BIND), verbosity=3, env={"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1", "no_proxy": None})
    assert not run.failed and run.result["changed"], run.result
    assert emulator.key_ids("ins-a1000004") == ["skey-k1000003"] or "skey-k1000003" in emulator.key_ids("ins-a1000004")
    counts = emulator.requests()["counts"]
    assert len(proxy.forwarded) == sum(counts.values()) > 0  # every request went through the proxy, and only those
    host = emulator.url.partition("://")[2]
    assert all(url.startswith("http://%s" % host) for _method, url in proxy.forwarded)
    warnings = [w for w in run.result.get("warnings") or [] if "proxy" in w]
    assert len(warnings) == 1, run.result.get("warnings")
    assert "http://***@127.0.0.1:%d" % proxy.server_address[1] in warnings[0] and "Authorization" in warnings[0]
    assert "NO_PROXY" in warnings[0] and host in warnings[0]
    output = run.stdout + run.stderr + json.dumps(run.result)
    assert PROXY_PASSWORD not in output and emulator.secret_key not in output


def test_no_proxy_listing_host_and_port_means_no_warning_and_no_proxy(emulator, adhoc, proxy):
    host = emulator.url.partition("://")[2]
    run = adhoc(emulator, dict(BIND), env={"HTTP_PROXY": proxy.url, "NO_PROXY": "%s,127.0.0.1" % host, "no_proxy": None})
    assert not run.failed, run.result
    assert proxy.forwarded == [] and not [w for w in run.result.get("warnings") or [] if "proxy" in w]


def test_a_connection_failure_through_a_proxy_names_the_proxy(emulator, adhoc, proxy):
    port = proxy.server_address[1]
    proxy.close()  # nothing listens there any more
    environment = {"HTTP_PROXY": "http://proxyuser:%s@127.0.0.1:%d" % (PROXY_PASSWORD, port), "NO_PROXY": None, "no_proxy": None}
    run = adhoc(emulator, dict(BIND, api_deadline=5), env=environment)
    assert run.failed, run.result
    assert "through the proxy http://***@127.0.0.1:%d" % port in run.result["msg"], run.result["msg"]
    assert PROXY_PASSWORD not in run.stdout + run.stderr + json.dumps(run.result)
    assert emulator.requests()["requests"] == []
