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

"""Project → GPUs: the project's instances and their pooled vGPUs."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from horizon import views

from orionx_cyborg_dashboard import api
from orionx_cyborg_dashboard import summary
from orionx_cyborg_dashboard import views as common


class IndexView(views.HorizonTemplateView):
    template_name = 'orionx_cyborg_dashboard/project_index.html'
    page_title = _('GPUs')

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.request
        outcome = common.Outcome()
        # The service shows a project its own leases whatever it asks;
        # an operator's token would see every project's without the
        # filter.
        leases = outcome.get(
            _('the project\'s GPUs'),
            api.leases,
            request,
            project=request.user.project_id,
            default=[],
        )
        names = api.project_servers(request) if leases else {}
        instances = summary.project_instances(leases)
        for row in instances:
            row['name'] = names.get(row['instance_uuid'], '')
        context.update(outcome.context())
        context['instances'] = instances
        return context
