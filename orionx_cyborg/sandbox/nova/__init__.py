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

"""A Nova stand-in: what Nova does for servers with accelerators.

It is a client of the real Placement and Cyborg, making the calls Nova
makes, in Nova's order (nova 34: ``nova/accelerator/cyborg.py``,
``nova/scheduler/utils.py``, ``nova/conductor/manager.py``,
``nova/compute/manager.py``, ``nova/virt/libvirt/driver.py``):

* nova-compute's resource tracker: a compute-node resource provider per
  host, with VCPU, MEMORY_MB and DISK_GB and the ``COMPUTE_ACCELERATORS``
  trait (:mod:`.computes`);
* the API and scheduler: flavor ``accel:device_profile`` -> device profile
  -> request groups -> ``GET /allocation_candidates`` -> claim
  (:mod:`.scheduler`);
* the conductor: create ARQs, match them to the candidate's mappings and
  bind them as the Nova service; the compute manager: wait for
  ``accelerator-request-bound`` events, then attach by handle type; on
  delete, shelve-offload and evacuate, delete ARQs and allocations
  (:mod:`.service`);
* the compute API's flavor, server and external-event calls and Nova's
  DynamicJSON vendordata (:mod:`.api`, :mod:`.vendordata`).

What a hypervisor would do is recorded, not done: the attach handles of
a server are listed by what libvirt would get (``hostdev``, ``mdev``, or
ignored).
"""
