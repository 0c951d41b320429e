# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP: the request handler (one connection per request) and the threaded, optionally TLS, server.
May import: constants, errors (the Emulator it serves is passed in).
"""

import http.server
import json
import socket
import ssl
import sys
from urllib.parse import parse_qs, urlsplit

from .constants import CONTROL_PREFIX, CONTROL_TOKEN_HEADER, MAX_BODY_BYTES
from .errors import ControlError


class RequestHandler(http.server.BaseHTTPRequestHandler):
    """One connection per request (HTTP/1.0), which makes dropped and lost responses simple and faithful."""

    server_version = "CvmEmulator/1.0"
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: --verbose logging is done per API request by the Emulator."""

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def dispatch(self, method):
        try:
            body = self.read_body()
        except ValueError:
            self.send(413, b'{"error": "request body too large"}', "application/json")
            return
        split = urlsplit(self.path)
        if split.path.startswith(CONTROL_PREFIX):
            self.handle_control(method, split, body)
        else:
            self.handle_api(method, body)

    def handle_api(self, method, body):
        # self.headers looks names up case-insensitively and keeps values exactly as sent (needed by the signature)
        reply = self.server.emulator.handle_api_request(method, self.path, self.headers, body)
        if reply.close_silently:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(reply.status, reply.body, reply.content_type)

    def handle_control(self, method, split, body):
        try:
            status, document = self.server.emulator.handle_control_request(method, split.path, parse_qs(split.query), body,
                                                                           self.headers.get(CONTROL_TOKEN_HEADER))
        except ControlError as error:
            status, document = error.status, {"error": error.message}
        self.send(status, json.dumps(document).encode("utf-8"), "application/json")

    def send(self, status, body, content_type):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)  # exactly application/json: the SDK compares it verbatim
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch("GET")

    def do_POST(self):  # pylint: disable=invalid-name
        self.dispatch("POST")

    def do_PUT(self):  # pylint: disable=invalid-name
        self.dispatch("PUT")

    def do_PATCH(self):  # pylint: disable=invalid-name
        self.dispatch("PATCH")

    def do_DELETE(self):  # pylint: disable=invalid-name
        self.dispatch("DELETE")


class EmulatorServer(http.server.ThreadingHTTPServer):
    """Threaded server; with TLS the handshake runs in the connection's own thread, never in the accept loop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, emulator, tls_context=None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self.tls_context = tls_context
        super().__init__(address, RequestHandler)

    def finish_request(self, request, client_address):
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(30)
        try:
            tls_request = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that refuses the self-signed certificate
        try:
            super().finish_request(tls_request, client_address)
        finally:
            self.shutdown_request(tls_request)

    def handle_error(self, request, client_address):
        """Client disconnects are routine here (fault tests); do not print tracebacks for them."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)
