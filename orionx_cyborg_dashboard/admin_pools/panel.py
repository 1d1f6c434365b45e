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

"""The admin panel: the operator's view of every pool."""

import horizon
from django.utils.translation import gettext_lazy as _

from orionx_cyborg_dashboard import api


class GpuPools(horizon.Panel):
    name = _('GPU Pools')
    slug = 'orionx_gpu_pools'
    # Shown to admins where the catalog has the attach service, in a
    # project's scope and in the system scope alike: what each page shows
    # is the services' policies' to decide (a 403 hides the data with a
    # message). With the attach service's default policy its pools need
    # a system-scoped token, Placement's inventory a project-scoped one.
    permissions = (
        'openstack.services.%s' % api.SERVICE_TYPE,
        'openstack.roles.admin',
    )
