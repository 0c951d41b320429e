#!/usr/bin/env bash
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by a shell target's runme.sh (from its own folder): the emulator's connection settings from
# integration_config.yml (noxfile.py writes it, mode 0600), exported as AWX credentials give them: in the
# environment, never in a file of the target. Not traced, whatever the caller's set -x: they hold the credentials
# and the emulator's control token (TC_EMULATOR_TOKEN, for the X-Emulator-Token header of /_emulator/ requests).
# Proxies are unset: traffic to the emulator on 127.0.0.1 must not leave through one.
case "$-" in *x*) tc_traced=1 ;; *) tc_traced=0 ;; esac
set +x
eval "$(python -c '
import shlex, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for name in ("secret_id", "secret_key", "region", "endpoint"):
    print("export TENCENTCLOUD_%s=%s" % (name.upper(), shlex.quote(str(c["tencentcloud_" + name]))))
print("export EMULATOR_URL=%s" % shlex.quote(str(c["emulator_url"])))
print("export TC_EMULATOR_TOKEN=%s" % shlex.quote(str(c["tc_emulator_token"])))
' ../../integration_config.yml)"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
[ "$tc_traced" = 0 ] || set -x
unset tc_traced
