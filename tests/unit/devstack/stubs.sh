#!/bin/bash
#
# Copyright (c) 2026 orionx-cyborg developers
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

# stubs.sh - devstack's functions for the plugin's tests.
#
# Each stub appends its name and arguments to $CALLS, one call a line,
# fields separated by the unit separator (0x1f). iniset and iniget work
# on real files ($PYTHON ini.py); the others only record, and answer
# what devstack would.

function _record {
    local field
    for field in "$@"; do
        printf '%s\037' "$field" >> "$CALLS"
    done
    printf '\n' >> "$CALLS"
}

function echo_summary {
    _record echo_summary "$@"
}

function die {
    _record die "$@"
    exit 1
}

function define_plugin {
    _record define_plugin "$@"
}

function plugin_requires {
    _record plugin_requires "$@"
}

# As devstack's: a service disabled in local.conf stays disabled.
function enable_service {
    _record enable_service "$@"
    if [[ ",${DISABLED_SERVICES:-}," != *",$1,"* ]]; then
        ENABLED_SERVICES+=",$1"
    fi
}

function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
    done
    return 1
}

function trueorfalse {
    local default=$1
    local value=${!2:-}
    case "$value" in
        1|yes|Yes|YES|true|True|TRUE) echo True ;;
        0|no|No|NO|false|False|FALSE) echo False ;;
        *) echo "$default" ;;
    esac
}

function get_python_exec_prefix {
    echo /usr/local/bin
}

function iniset {
    _record iniset "$@"
    "$PYTHON" "$STUB_DIR/ini.py" set "$@"
}

function iniget {
    "$PYTHON" "$STUB_DIR/ini.py" get "$@"
}

function setup_develop {
    _record setup_develop "$@"
}

function configure_keystoneauth {
    _record configure_keystoneauth "$@"
}

function configure_keystone_authtoken_middleware {
    _record configure_keystone_authtoken_middleware "$@"
}

function create_service_user {
    _record create_service_user "$@"
}

function get_or_create_service {
    _record get_or_create_service "$@"
    echo service-id
}

function get_or_create_endpoint {
    _record get_or_create_endpoint "$@"
    echo endpoint-id
}

function database_connection_url {
    echo "mysql+pymysql://root:secret@127.0.0.1/$1?charset=utf8"
}

function recreate_database {
    _record recreate_database "$@"
}

function run_process {
    _record run_process "$@"
}

function stop_process {
    _record stop_process "$@"
}

function wait_for_service {
    _record wait_for_service "$@"
}

function sudo {
    _record sudo "$@"
    "$@"
}
