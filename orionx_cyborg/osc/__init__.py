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

"""``openstack orionx ...``: pooled GPUs in python-openstackclient.

An OSC plugin (entry point group ``openstack.cli.extension``, name
``orionx``; commands in ``openstack.orionx.v1``): ``pool list|show`` and
``lease list|show`` read orionx-cyborg-attach's API (service type
``orionx-attach`` in the catalog), ``gpu list|show`` every GPU the driver
reports from Cyborg and Placement. Authentication, region, interface and
output formats are the ``openstack`` command's own.
"""
