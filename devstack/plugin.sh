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

# plugin.sh - devstack plugin of orionx-cyborg: dispatch only; the work is
# in lib/orionx-cyborg. The contract:
# https://docs.openstack.org/devstack/latest/plugins.html

echo_summary "orionx-cyborg devstack plugin.sh called: $1/$2"
ORIONX_DEVSTACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$ORIONX_DEVSTACK_DIR/lib/orionx-cyborg"

case "$1" in
    "stack")
        case "$2" in
            "pre-install")
                check_orionx_cyborg_settings
                ;;
            "install")
                echo_summary "Installing orionx-cyborg"
                install_orionx_cyborg
                ;;
            "post-config")
                # Cyborg's plugin has written cyborg.conf; Nova has not
                # started yet, so its configuration can still change.
                echo_summary "Configuring orionx-cyborg"
                configure_orionx_cyborg
                create_orionx_cyborg_accounts
                ;;
            "extra")
                # Cyborg's API, conductor and agent are running.
                echo_summary "Starting orionx-cyborg-attach"
                init_orionx_cyborg
                start_orionx_cyborg
                sync_orionx_cyborg_profiles
                ;;
            "test-config")
                orionx_cyborg_configure_tempest
                ;;
        esac
        ;;
    "unstack")
        stop_orionx_cyborg
        ;;
    "clean")
        cleanup_orionx_cyborg
        ;;
esac
