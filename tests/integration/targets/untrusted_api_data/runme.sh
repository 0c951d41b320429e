#!/usr/bin/env bash
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# API data is data, on every ansible-core: a fleet whose names, tags, key names and addresses are templates, terminal
# escapes and ssh options (files/emulator.py) goes through the inventory plugin, ssh, the event source and the remediation
# playbook (with the event as ansible-rulebook passes it, -e @file), and the info module. Had any value run, it would have
# created a file under this run's own temporary folder: none may appear. Ansible's output holds no raw control character.
set -eux

# The emulator's settings and token, untraced (setup_emulator_env).
source ../setup_emulator_env/emulator_env.sh
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

work="$(mktemp -d)"
cleanup() {
    python files/emulator.py reset
    rm -rf "$work"
}
trap cleanup EXIT

no_marker() {
    local found
    found="$(find "$work" -name 'marker*' -print)"
    if [[ -n "$found" ]]; then
        echo "API data ran as a command on the controller ($1): $found" >&2
        exit 1
    fi
}

# step NAME OUTPUT COMMAND...: run it, show its output, check that no marker appeared, then that it succeeded.
step() {
    local name="$1" output="$work/$2" rc=0
    shift 2
    "$@" >"$output" 2>&1 || rc=$?
    cat "$output"
    no_marker "$name"
    if [[ "$rc" -ne 0 ]]; then
        echo "$name failed (exit $rc)" >&2
        exit "$rc"
    fi
}

python files/emulator.py load "$work/marker"

# The inventory plugin: listing it, and a play that reads every variable and prints every host label.
step "ansible-inventory --list" list.txt ansible-inventory -i hostile.cvm.yml --list --yaml
step "a play over the inventory" play.txt ansible-playbook -i hostile.cvm.yml print_hosts.yml "$@"
# The escaped label of the name with escapes; the template-named hosts by their IDs; one warning for each kind.
python files/check_output.py "$work/play.txt" 'ok: [web\x1b[2J\x1b[31mevil\x0d\x0aname\x9b]' 'ok: [ins-a1000001]' 'ok: [ins-a1000004]' \
    'ins-a1000003 (' 'cannot be host names' 'left out of the inventory'

# The address that ssh would take as an option is never handed to ssh: the host is not there, so there is nothing to do.
step "ansible over ssh" ssh.txt env ANSIBLE_HOST_PATTERN_MISMATCH=warning \
    ansible -i hostile.cvm.yml addr-probe -m ansible.builtin.raw -a uptime -c ssh
python files/check_output.py "$work/ssh.txt" 'No hosts matched'

# The event source's real event for the stopped instance without the required key, then the playbooks a rulebook runs.
step "the event source" event.log python files/make_event.py ins-a1000004 "$work/event.json"
cat "$work/event.json"
step "the remediation playbook" remediate.txt ansible-playbook -i localhost, -c local tencentcloud.cvm.cvm_keys_remediate \
    -e @"$work/event.json" -e ansible_python_interpreter="$(command -v python)" "$@"
python files/check_output.py "$work/remediate.txt" 'changed=1'
step "a playbook that reads the event's names" read_event.txt ansible-playbook -i localhost, -c local read_event.yml -e @"$work/event.json" "$@"
python files/check_output.py "$work/read_event.txt"

# The info module's registered results, printed and copied into facts.
step "the info module's results" info.txt ansible-playbook -i localhost, -c local info.yml "$@"
