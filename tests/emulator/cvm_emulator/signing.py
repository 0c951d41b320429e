# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signature verification (TC3-HMAC-SHA256, as the SDK computes it).
May import: constants.
"""

import hashlib
import hmac
from urllib.parse import urlsplit

from .constants import SIGNATURE_ALGORITHM


def hmac_sha256(key, message):
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key, date, service, string_to_sign):
    signing_key = hmac_sha256(hmac_sha256(hmac_sha256(("TC3" + secret_key).encode("utf-8"), date), service), "tc3_request")
    return hmac.new(signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_authorization(value):
    """Split `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=..., Signature=...`; None if malformed."""
    algorithm, _sep, rest = (value or "").partition(" ")
    if algorithm != SIGNATURE_ALGORITHM:
        return None
    fields = {}
    for part in rest.split(","):
        name, sep, field = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = field
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not fields.get("SignedHeaders") or not fields.get("Signature"):
        return None
    return {"secret_id": scope[0], "date": scope[1], "service": scope[2],
            "signed_headers": fields["SignedHeaders"].split(";"), "signature": fields["Signature"]}


def string_to_sign(method, path, headers, body, auth, timestamp):
    """Canonical request over the signed headers' values exactly as sent (tccli's `Host: http://...` included)."""
    split = urlsplit(path)
    canonical_headers = "".join("%s:%s\n" % (name, headers.get(name, "")) for name in auth["signed_headers"])
    payload = b"UNSIGNED-PAYLOAD" if headers.get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" else body
    canonical_request = "\n".join([method, split.path or "/", split.query, canonical_headers, ";".join(auth["signed_headers"]),
                                   hashlib.sha256(payload).hexdigest()])
    scope = "%s/%s/tc3_request" % (auth["date"], auth["service"])
    return "\n".join([SIGNATURE_ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
