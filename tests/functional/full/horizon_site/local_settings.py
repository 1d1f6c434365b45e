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

"""The test site's local settings, from the fixture's environment.

ORIONX_HORIZON_KEYSTONE_URL: the full sandbox's Keystone (v3);
ORIONX_HORIZON_STATE: a directory for static files and the log.
"""

import os
import secrets

_STATE = os.environ.get('ORIONX_HORIZON_STATE', '/tmp/orionx-horizon')

DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = os.environ.get('ORIONX_HORIZON_SECRET') or secrets.token_hex(32)
OPENSTACK_KEYSTONE_URL = os.environ.get(
    'ORIONX_HORIZON_KEYSTONE_URL', 'http://127.0.0.1:5000/v3'
)
OPENSTACK_KEYSTONE_DEFAULT_ROLE = 'member'
# The attach service's operator rules want system-scoped tokens: the
# admin panel shows in the system scope (Horizon's context switcher).
SYSTEM_SCOPE_SERVICES = ['orionx-attach']
# The sandbox's services are in RegionOne; a test adds a second region
# with only an attach service in it.
DEFAULT_SERVICE_REGIONS = {'*': 'RegionOne'}
# One runserver process: its memory is the session store. The
# compressor keeps an entry per static file in the same cache: room for
# them all, or culling drops the sessions (logged in users get 400).
CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
        'OPTIONS': {'MAX_ENTRIES': 100000},
    },
}
STATIC_ROOT = os.path.join(_STATE, 'static')
MEDIA_ROOT = os.path.join(_STATE, 'media')
COMPRESS_OFFLINE = False
SESSION_TIMEOUT = 3600
LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {
        'file': {
            'class': 'logging.FileHandler',
            'filename': os.path.join(_STATE, 'horizon.log'),
        },
    },
    'root': {'handlers': ['file'], 'level': 'INFO'},
}
