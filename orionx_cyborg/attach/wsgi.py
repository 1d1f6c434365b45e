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

"""WSGI entry points for production servers (gunicorn, uWSGI, mod_wsgi).

:func:`init_application` is the application factory: gunicorn calls it
in each worker (``'orionx_cyborg.attach.wsgi:init_application()'``, with
:mod:`orionx_cyborg.attach.gunicorn_conf`); ``application`` builds the
same on its first request, for servers that take a module attribute.
Either reads the configuration files named by
``$ORIONX_CYBORG_ATTACH_CONFIG`` (comma-separated) or the default search
path. The periodic reconcile passes run in a thread of each worker
process, and the leader lock lets one of them run at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from oslo_log import log as logging

from orionx_cyborg.attach import app as app_mod

CONFIG_ENVIRONMENT = 'ORIONX_CYBORG_ATTACH_CONFIG'

_lock = threading.Lock()
_components: app_mod.Components | None = None


def _build() -> app_mod.Components:
    global _components
    with _lock:
        if _components is None:
            argv = []
            for path in filter(
                None, os.environ.get(CONFIG_ENVIRONMENT, '').split(',')
            ):
                argv += ['--config-file', path]
            conf = app_mod.load_conf(argv)
            logging.setup(conf, app_mod.PROG)
            _components = app_mod.build(conf)
            _components.warm_up()
            if conf.orionx_attach.reconcile_interval > 0:
                app_mod.PeriodicPasses(_components).start()
        return _components


def init_application() -> Any:
    """The WSGI application of this process (built once)."""
    return _build().application


def application(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    app: Any = _build().application
    result: Iterable[bytes] = app(environ, start_response)
    return result
