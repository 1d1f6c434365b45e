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

"""The project panel: a project's instances with pooled vGPUs."""

import horizon
from django.utils.translation import gettext_lazy as _

from orionx_cyborg_dashboard import api


class ProjectGpus(horizon.Panel):
    name = _('GPUs')
    slug = 'orionx_gpus'
    permissions = ('openstack.services.%s' % api.SERVICE_TYPE,)
