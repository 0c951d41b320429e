# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`python -m cvm_emulator [FLAGS]` (with tests/emulator on PYTHONPATH) runs the emulator; see cli.py.
May import: cli.
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
