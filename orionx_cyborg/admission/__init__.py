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

"""Strict admission: claim the pooled vGPU while Cyborg binds the ARQ.

Opt-in, and version-fragile by nature. Cyborg calls no driver at bind
time; its only in-process hook is the ``ExtARQ`` subclass factory keyed by
a device profile group's resource class, used by the conductor. This
package registers a subclass for ``CUSTOM_ORIONX_VGPU`` whose ``bind``
first asks the attach service for a placed lease (``POST
/v1/admissions``): when the pool has no room, the bind fails, the ARQ
becomes ``BindFailed`` and Nova fails the boot, instead of
starting a VM whose vGPU would wait as ``pending``.

Run the conductor through ``orionx-cyborg-conductor``
(:mod:`~orionx_cyborg.admission.conductor`, which checks the Cyborg
version, registers the ``[orionx_admission]`` options of
:mod:`orionx_cyborg.conf.admission` in cyborg.conf and the subclass of
:mod:`~orionx_cyborg.admission.ext_arq`, then starts Cyborg's own
conductor) instead of ``cyborg-conductor``. The subclass asks through
:mod:`~orionx_cyborg.admission.client`. Deleting ARQs does not go through
this hook; the attach service's reconciler releases those leases as
always.
"""
