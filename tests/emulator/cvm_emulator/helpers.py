# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small helpers shared by the resources and the actions (times, IDs, quoting, SSH public keys, tags).
May import: constants.
"""

import base64
import datetime
import hashlib

from .constants import PUBLIC_KEY_TYPES


def iso_time(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unique(items):
    """The items without repeats, first occurrence kept (batch IDs are de-duplicated like the real API does)."""
    return list(dict.fromkeys(items))


def quoted(ids):
    return ", ".join("`%s`" % item for item in ids)


def camel_state(state):
    """RUNNING -> Running, ENTER_RESCUE_MODE -> EnterRescueMode (the suffix of UnsupportedOperation.InstanceState*)."""
    return "".join(part.capitalize() for part in state.split("_"))


def base36(number):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def ssh_public_key(key_type, blob_seed, comment):
    """An OpenSSH public key line whose blob is well formed (type name + 32 bytes); not derived from a real key."""
    name = key_type.encode()
    blob = len(name).to_bytes(4, "big") + name + (32).to_bytes(4, "big") + hashlib.sha256(blob_seed).digest()
    return "%s %s %s" % (key_type, base64.b64encode(blob).decode(), comment)


def parse_public_key(text):
    """Return (type, blob) of an OpenSSH public key line, or None when it is malformed."""
    parts = text.strip().split()
    if len(parts) < 2 or parts[0] not in PUBLIC_KEY_TYPES:
        return None
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return None
    name = parts[0].encode()
    if blob[:4] != len(name).to_bytes(4, "big") or blob[4:4 + len(name)] != name:
        return None
    return parts[0], blob


def tag_list(tags):
    """Tags given as [{Key, Value}] or, in state files, as a {key: value} mapping."""
    if isinstance(tags, dict):
        return [{"Key": str(key), "Value": str(value)} for key, value in tags.items()]
    return [{"Key": tag["Key"], "Value": tag["Value"]} for tag in tags or []]


def is_windows(instance_data):
    return "windows" in (instance_data.get("OsName") or "").lower()
