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

"""Admin → GPU Pools: pools and their GPUs, a lease, Placement, regions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from horizon import views

from orionx_cyborg_dashboard import api
from orionx_cyborg_dashboard import summary
from orionx_cyborg_dashboard import views as common


class IndexView(views.HorizonTemplateView):
    template_name = 'orionx_cyborg_dashboard/admin_index.html'
    page_title = _('GPU Pools')

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.request
        outcome = common.Outcome()
        listed = outcome.get(_('the pools'), api.pools, request, default=[])
        leases = outcome.get(_('the leases'), api.leases, request, default=[])
        pools = []
        for entry in listed:
            detail = outcome.get(
                _('pool %s') % entry['name'], api.pool, request, entry['name']
            )
            if detail is not None:
                pools.append(summary.pool_summary(detail, leases))
        # Placement's policy wants a project-scoped admin token: in the
        # system scope the entitlements' totals are left out, quietly.
        inventory = outcome.get(
            _('Entitlements in Placement'),
            api.placement_providers,
            request,
            default=[],
            optional=True,
        )
        rows = summary.placement_inventory(inventory)
        context.update(outcome.context())
        context['pools'] = pools
        context['entitlements'] = summary.entitlement_use(
            leases, summary.placement_entitlements(rows) or None
        )
        context['lease_count'] = len(leases)
        return context


class LeaseView(views.HorizonTemplateView):
    template_name = 'orionx_cyborg_dashboard/lease_detail.html'
    page_title = _('Lease {{ lease_id }}')

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        outcome = common.Outcome()
        lease = outcome.get(
            _('this lease'), api.lease, self.request, kwargs['lease_id']
        )
        context.update(outcome.context())
        context['lease'] = lease
        context['history'] = summary.state_history(lease or {})
        return context


class InventoryView(views.HorizonTemplateView):
    template_name = 'orionx_cyborg_dashboard/inventory.html'
    page_title = _('GPU inventory in Placement')

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        outcome = common.Outcome()
        providers = outcome.get(
            _('Placement\'s inventory'),
            api.placement_providers,
            self.request,
            default=[],
        )
        context.update(outcome.context())
        context['rows'] = summary.placement_inventory(providers)
        return context


class RegionsView(views.HorizonTemplateView):
    template_name = 'orionx_cyborg_dashboard/regions.html'
    page_title = _('GPU pools of every region')

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        outcome = common.Outcome()
        by_region = {}
        for region in api.regions(self.request):
            pools = outcome.get(
                _('the pools of %s') % region.name,
                api.pools,
                self.request,
                region,
            )
            if pools is not None:
                by_region[region.name] = pools
        context.update(outcome.context())
        context['by_region'] = [
            (name, by_region[name]) for name in sorted(by_region)
        ]
        context['totals'] = summary.region_totals(by_region)
        return context
