# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The control API (/_emulator/...): Emulator, the whole emulated service, is ApiService plus the control routes.
May import: constants, errors, resources, service.
"""

import copy
import hmac
import json

from .constants import CONTROL_PREFIX, CONTROL_TOKEN_ENV, CONTROL_TOKEN_HEADER
from .errors import ControlError
from .resources import StateError
from .service import ApiService


class Emulator(ApiService):
    """The whole emulated service. Every public method takes the lock; HTTP threads call them concurrently."""

    # -- the control API ---------------------------------------------------------------------------------------------

    def handle_control_request(self, method, path, query, body, token=None):
        """Return (HTTP status, JSON document) for /_emulator/... requests; `token` is the X-Emulator-Token header as sent."""
        self.check_control_token(token)
        route = path[len(CONTROL_PREFIX):].strip("/")
        with self.lock:
            self.sync_hold()
            self.world.advance()
            handler = self.control_route(method, route)
            return handler(route, query, body)

    def check_control_token(self, token):
        """Every control request must carry the control token (constant-time comparison); else 401 and nothing happens."""
        presented = (token or "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(presented, self.control_token.encode("utf-8")):
            raise ControlError(401, "the control API needs the emulator's control token in the %s header (the %s the emulator "
                                    "was started with; the harness exports it)" % (CONTROL_TOKEN_HEADER, CONTROL_TOKEN_ENV))

    def control_route(self, method, route):
        head = route.split("/", 1)[0]
        routes = {
            ("GET", "health"): lambda *_: (200, {"ok": True}),
            ("GET", "state"): lambda *_: (200, self.world.dump()),
            ("PUT", "state"): self.control_put_state,
            ("POST", "reset"): self.control_reset,
            ("GET", "instances"): self.control_get_instance,
            ("POST", "instances"): self.control_add_instance,
            ("PATCH", "instances"): self.control_set_instance_keys,
            ("DELETE", "instances"): self.control_terminate_instance,
            ("GET", "key_pairs"): self.control_get_key_pair,
            ("GET", "operations"): lambda *_: (200, {"operating": self.world.operating_instance_ids(), "held": self.world.clock.held}),
            ("GET", "requests"): self.control_get_requests,
            ("GET", "stops"): lambda *_: (200, self.world.stops.document(self.world.clock.now())),
            ("GET", "faults"): lambda *_: (200, {"struck": dict(self.draws.struck)}),
            ("DELETE", "requests"): self.control_clear_requests,
            ("GET", "config"): lambda *_: (200, self.config.to_dict()),
            ("GET", "ssh"): lambda *_: (200, self.ssh.status() if self.ssh is not None else {"enabled": False}),
            ("PATCH", "config"): self.control_patch_config,
        }
        handler = routes.get((method, head))
        if handler is None:
            known = any(path_name == head for _method, path_name in routes)
            raise ControlError(405 if known else 404, "no control endpoint %s %s%s" % (method, CONTROL_PREFIX, route))
        return handler

    def control_put_state(self, _route, _query, body):
        document = parse_json(body)
        if self.ssh is not None and isinstance(document, dict) and self.published_credential_in(document.get("credentials")):
            raise ControlError(400, "invalid state document: SSH mode refuses the emulator's published default credential")
        try:
            self.world.load(document, self.world.credentials, self.default_regions)
        except StateError as error:
            raise ControlError(400, "invalid state document: %s" % error) from error
        return 200, self.world.dump()

    def control_reset(self, _route, query, _body):
        """Back to the state the process started with; ?all=1 also resets config, rate windows and the request log."""
        self.world.load(copy.deepcopy(self.initial_world), self.default_credentials, self.default_regions)
        if query.get("all", ["0"])[0] in ("1", "true", "yes"):
            self.config.__dict__.update(copy.deepcopy(self.initial_config).__dict__)
            self.reseed()
            self.sync_hold()
            self.limiter.clear()
            self.log.clear()
        return 200, self.world.dump()

    def control_get_instance(self, route, _query, _body):
        instance = self.world.instances.get(route.partition("/")[2])
        if instance is None:
            raise ControlError(404, "no instance %s" % route.partition("/")[2])
        return 200, dict(self.world.instance_view(instance), Region=instance.region)

    def control_add_instance(self, route, _query, body):
        """Add an instance (a state document's instance entry), as one launched by the console or another tool would appear."""
        if route.partition("/")[2]:
            raise ControlError(404, "POST /_emulator/instances takes the instance in the body, not in the path")
        try:
            instance = self.world.add_instance(parse_json(body))
        except StateError as error:
            raise ControlError(400, "invalid instance: %s" % error) from error
        return 200, dict(self.world.instance_view(instance), Region=instance.region)

    def control_set_instance_keys(self, route, _query, body):
        """Set an instance's key IDs at once, outside the API (a key bound by hand in the console): {"KeyIds": [...]}."""
        instance = self.world.instances.get(route.partition("/")[2])
        if instance is None:
            raise ControlError(404, "no instance %s" % route.partition("/")[2])
        document = parse_json(body)
        if not isinstance(document, dict) or set(document) != {"KeyIds"} or not isinstance(document["KeyIds"], list):
            raise ControlError(400, 'the body must be {"KeyIds": [key pair IDs]}')
        unknown = [key_id for key_id in document["KeyIds"]
                   if key_id not in self.world.key_pairs or self.world.key_pairs[key_id].region != instance.region]
        if unknown:
            raise ControlError(400, "not key pairs of region %s: %s" % (instance.region, ", ".join(map(str, unknown))))
        self.world.set_instance_keys(instance, document["KeyIds"])
        return 200, dict(self.world.instance_view(instance), Region=instance.region)

    def control_terminate_instance(self, route, _query, _body):
        """Remove an instance as a termination would; its keys keep counting as in use for key_deletion_lag seconds."""
        instance_id = route.partition("/")[2]
        if instance_id not in self.world.instances:
            raise ControlError(404, "no instance %s" % instance_id)
        self.world.terminate(instance_id, self.config.key_deletion_lag)
        return 200, {"terminated": instance_id}

    def control_get_key_pair(self, route, _query, _body):
        pair = self.world.key_pairs.get(route.partition("/")[2])
        if pair is None:
            raise ControlError(404, "no key pair %s" % route.partition("/")[2])
        return 200, dict(self.world.key_pair_view(pair), Region=pair.region)

    def control_get_requests(self, _route, query, _body):
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError as error:
            raise ControlError(400, "since must be an integer") from error
        return 200, copy.deepcopy(self.log.document(since))

    def reseed(self):
        """Restart the fault and key ID random sequences from the configured seed (random when it is null)."""
        self.rng.seed(self.config.seed)
        self.api.id_rng.seed(self.rng.random())
        self.draws.reseed(self.config.seed)

    def control_clear_requests(self, *_):
        self.log.clear()
        return 200, {"cleared": True}

    def control_patch_config(self, _route, _query, body):
        changes = parse_json(body)
        self.config.patch(changes)
        if isinstance(changes, dict) and "seed" in changes:
            self.reseed()
        self.sync_hold()
        return 200, self.config.to_dict()


def parse_json(body):
    try:
        return json.loads(body or b"null")
    except ValueError as error:
        raise ControlError(400, "the body is not valid JSON: %s" % error) from error
