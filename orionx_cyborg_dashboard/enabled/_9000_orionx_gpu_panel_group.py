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

"""Admin → GPU Pools: the panel group, and the plugin's Django app."""

from django.utils.translation import gettext_lazy as _

PANEL_GROUP = 'orionx_gpu'
PANEL_GROUP_NAME = _('GPU Pools')
PANEL_GROUP_DASHBOARD = 'admin'

ADD_INSTALLED_APPS = ['orionx_cyborg_dashboard']
