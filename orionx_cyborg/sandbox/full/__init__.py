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

"""The full sandbox profile: real Keystone, Nova, Glance, Neutron, RabbitMQ.

``orionx-cyborg sandbox up --full`` runs, each as its own process and
each behind keystonemiddleware: a private RabbitMQ node, Keystone,
Placement, Glance, Neutron (ML2, no agents), Nova (API, metadata API,
conductor, scheduler, one fake ``nova-compute`` per sandbox host), the
stock ``cyborg-api``, ``cyborg-conductor`` and one ``cyborg-agent`` per
host with ``orionx_gpu_driver`` on the simulated GPUs, and
``orionx-cyborg-attach`` under gunicorn as Nova's DynamicJSON
vendordata target. Every database is SQLite in the state directory
(:mod:`.launch` makes SQLite queue writers instead of failing them).
"""
