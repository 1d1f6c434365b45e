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

"""Django settings of the test site (see the package's docstring)."""

import os
import sys

from openstack_dashboard.local import enabled as local_enabled

from orionx_cyborg_dashboard import enabled as orionx_enabled
from tests.functional.full.horizon_site import local_settings

# The plugin's enabled files, as if copied into Horizon's local/enabled.
_ENABLED = os.path.dirname(os.path.abspath(orionx_enabled.__file__))
if _ENABLED not in local_enabled.__path__:
    local_enabled.__path__.append(_ENABLED)
# Horizon imports "local.local_settings" from its own directory.
sys.modules['local.local_settings'] = local_settings

from openstack_dashboard.settings import *  # noqa: E402,F403,H303
