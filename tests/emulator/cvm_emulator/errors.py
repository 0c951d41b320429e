# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two error types: ApiError (Tencent's Response.Error) and ControlError (control API status + message).
Imports nothing from the package.
"""


class ApiError(Exception):
    """An error answered in Tencent's format: HTTP 200 with Response.Error.{Code,Message}."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class ControlError(Exception):
    """A control API error: a plain HTTP status with {"error": message}."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message
