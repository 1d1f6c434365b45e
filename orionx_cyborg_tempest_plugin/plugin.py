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

"""The Tempest plugin class (entry point ``tempest.test_plugins``)."""

import os

from tempest import config
from tempest.test_discover import plugins

from orionx_cyborg_tempest_plugin import config as project_config


class OrionXTempestPlugin(plugins.TempestPlugin):
    def load_tests(self):
        here = os.path.dirname(os.path.abspath(__file__))
        base_path = os.path.dirname(here)
        return os.path.join(here, 'tests'), base_path

    def register_opts(self, conf):
        config.register_opt_group(
            conf,
            project_config.service_available_group,
            project_config.ServiceAvailableGroup,
        )
        config.register_opt_group(
            conf, project_config.orionx_group, project_config.OrionXGroup
        )

    def get_opt_lists(self):
        return [
            (group, options) for group, options in project_config.list_opts()
        ]

    def get_service_clients(self):
        return []
