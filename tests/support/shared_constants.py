# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The facts every test suite, benchmark and script shares, in one place: where the checkout is, the credentials
the emulator accepts by default, and the proxy variables that must never see traffic to the emulator on 127.0.0.1.

Standard library only. From Python (tests/support is on pytest's pythonpath, pytest.ini):

    from shared_constants import EMULATOR_SECRET_ID, REPO, without_proxies

From a shell (scripts/lib.sh, tc_unset_proxies): `python tests/support/shared_constants.py proxy-variables` prints the
proxy variable names on one line.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The emulator's built-in credentials and the region of its seeds (cvm_emulator.DEFAULT_SECRET_*): not secrets.
EMULATOR_SECRET_ID = "AKIDEMULATOR000000000000000000000000"
EMULATOR_SECRET_KEY = "emulatorSecretKey0000000000000000"
EMULATOR_REGION = "ap-guangzhou"

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


def without_proxies(env=None):
    """A copy of env (default: os.environ) without the proxy variables."""
    return {name: value for name, value in (os.environ if env is None else env).items() if name not in PROXY_VARIABLES}


def main(argv):
    if argv == ["proxy-variables"]:
        print(" ".join(PROXY_VARIABLES))
        return 0
    print("usage: python tests/support/shared_constants.py proxy-variables", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
