#!/usr/bin/env bash
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The inventory plugin and the two fleet patterns against the emulator (scripts/ starts it and writes
# integration_config.yml): load a 40-instance fleet, build the inventory with tencentcloud.cvm.cvm, bind a key
# to the group tag_env_prod in one task (run_once: one write call), then another key per host with 20 forks.
set -eux

# The emulator's settings and token, untraced (setup_emulator_env).
source ../setup_emulator_env/emulator_env.sh

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
