# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's constants: API version and service, built-in credentials and regions, limits, ID patterns,
control API prefix, fault names. Imports nothing from the package.
"""

import re


API_VERSION = "2017-03-12"
SERVICE = "cvm"
SIGNATURE_ALGORITHM = "TC3-HMAC-SHA256"
MAX_CLOCK_SKEW = 300  # seconds; Tencent rejects signatures whose timestamp is further off than this

DEFAULT_SECRET_ID = "AKIDEMULATOR000000000000000000000000"
DEFAULT_SECRET_KEY = "emulatorSecretKey0000000000000000"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_REGIONS = (
    "ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-hongkong",
    "ap-singapore", "ap-jakarta", "ap-seoul", "ap-tokyo", "ap-bangkok", "ap-mumbai",
    "na-siliconvalley", "na-ashburn", "sa-saopaulo", "eu-frankfurt",
)
DEFAULT_OPERATION_LATENCY = 0.5

MAX_BATCH = 100
MAX_FILTERS = 10
MAX_FILTER_VALUES = 5
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_KEY_NAME_LENGTH = 25
MAX_BODY_BYTES = 8 * 1024 * 1024
REQUEST_LOG_SIZE = 200000  # records kept by the request log (counts are never truncated)

INSTANCE_ID_RE = re.compile(r"^ins-[a-z0-9]{8}$")
KEY_ID_RE = re.compile(r"^skey-[a-z0-9]{8}$")
KEY_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
PUBLIC_KEY_TYPES = ("ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")

CONTROL_PREFIX = "/_emulator/"
CONTROL_TOKEN_HEADER = "X-Emulator-Token"  # every control request carries the emulator's control token in it
CONTROL_TOKEN_ENV = "TC_EMULATOR_TOKEN"  # the token, when the starting process chooses it (else the emulator makes one)
SECRET_ID_ENV, SECRET_KEY_ENV = "TC_EMULATOR_SECRET_ID", "TC_EMULATOR_SECRET_KEY"  # the accepted credential, from the environment
FAULT_PROBABILITIES = ("internal_error", "http_502", "drop", "lost_response", "throttle", "operation_failed")
PLANNED_FAULTS = ("internal_error", "http_502", "drop", "lost_response", "throttle")  # request faults a fault plan can name
KEY_BINDING_ACTIONS = ("AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")
BAD_GATEWAY_BODY = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>\n"
