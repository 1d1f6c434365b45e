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

"""The API microversions this project asks for, each named once."""

#: Placement: 1.38 added consumer types, which lease allocations carry
#: (``ORIONX_LEASE``), so it is the floor; 1.39 (the newest, in every
#: Placement since 2023.1, the oldest release this project supports)
#: changes nothing the callers use and is what Nova's own client asks,
#: so every caller (attach service, profile sync, sandbox) asks 1.39.
PLACEMENT = '1.39'
#: Cyborg's v2 API without microversion-gated fields.
CYBORG = '2.0'
#: Nova's compute API as the sandbox's Nova stand-in serves it.
COMPUTE = '2.96'
