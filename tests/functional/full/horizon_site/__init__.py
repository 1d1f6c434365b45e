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

"""A Horizon site for the console's browser tests.

Horizon's own settings (``openstack_dashboard.settings``) with this
directory's :mod:`.local_settings` in place of a ``local_settings.py``
and the plugin's enabled files beside Horizon's local ones: what an
operator does by copying them, without writing into the installed
Horizon. The test fixture runs it with ``django-admin runserver``.
"""
