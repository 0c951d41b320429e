#!/usr/bin/env bash
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The inventory plugin and the two fleet patterns against the emulator (scripts/ starts it and writes
# integration_config.yml): load a 40-instance fleet, build the inventory with tencentcloud.cvm.cvm, bind a key
# to the group tag_env_prod in one task (run_once: one write call), then another key per host with 20 forks.
set -eux

config=../../integration_config.yml
# The connection settings as AWX credentials give them: in the environment, never in a file of the target. Not traced:
# they hold the credentials and the emulator's control token.
set +x
eval "$(python -c '
import shlex, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for name in ("secret_id", "secret_key", "region", "endpoint"):
    print("export TENCENTCLOUD_%s=%s" % (name.upper(), shlex.quote(str(c["tencentcloud_" + name]))))
print("export EMULATOR_URL=%s" % shlex.quote(str(c["emulator_url"])))
print("export TC_EMULATOR_TOKEN=%s" % shlex.quote(str(c["tc_emulator_token"])))  # the control API token
' "$config")"
set -x
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

args=("$@")  # ansible-test's options (verbosity) for every ansible-playbook below
cleanup() {
    ansible-playbook -i localhost, -c local reset.yml "${args[@]}"
}
trap cleanup EXIT

ansible-playbook -i localhost, -c local load_fleet.yml "$@"
ansible-inventory -i fleet.cvm.yml --graph tag_env_prod
ansible-playbook -i fleet.cvm.yml bind_run_once.yml "$@"
ansible-playbook -i fleet.cvm.yml --forks 20 bind_per_host.yml "$@"
ansible-playbook -i localhost, -c local verify.yml "$@"
