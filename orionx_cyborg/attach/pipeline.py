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

"""The attach service's WSGI middleware pipeline, outermost first.

* ``http_proxy_to_wsgi``: the scheme and host a TLS-terminating proxy
  saw (``[oslo_middleware] enable_proxy_headers_parsing``);
* ``request_id``: every answer carries ``x-openstack-request-id``;
* ``sizelimit``: a body over ``[oslo_middleware] max_request_body_size``
  gets 413 before anything reads it;
* ``healthcheck`` at ``GET /healthz``, public: 200 or 503 with the
  reasons (which dependency is unreachable, how long since a pass
  succeeded); the API's ``GET /v1/health`` gives the same with details
  to those the policy lets see the pools;
* public paths (``/`` and ``/metrics``) go to the API without a token;
  everything else through keystonemiddleware (or the sandbox's no-auth
  middleware).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from oslo_config import cfg
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit

from orionx_cyborg.attach import context as context_mod
from orionx_cyborg.attach import health as health_mod

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

HEALTH_PATH = '/healthz'
HEALTH_BACKEND = 'orionx_attach'


def build(
    conf: cfg.ConfigOpts,
    api: WsgiApp,
    authenticated: Callable[[WsgiApp], WsgiApp],
    health: health_mod.Health,
) -> WsgiApp:
    """The pipeline around *api* (the Flask application).

    :param authenticated: wraps an application in the authentication
        middleware.
    """
    app: Any = _Router(
        api,
        private=authenticated(api),
        routes={HEALTH_PATH: _healthcheck(health, detailed=False)},
    )
    app = sizelimit.RequestBodySizeLimiter(app, conf)
    app = request_id.RequestId(app)
    app = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    return app  # type: ignore[no-any-return]


def _healthcheck(health: health_mod.Health, detailed: bool) -> WsgiApp:
    # The middleware answers every request it gets (the router gives it
    # its path). A ConfigOpts of its own: it sets its options as
    # overrides.
    return healthcheck.Healthcheck(
        None,
        {
            'oslo_config_config': cfg.ConfigOpts(),
            'backends': HEALTH_BACKEND,
            'detailed': detailed,
            health_mod.CONF_KEY: health,
        },
    )


class _Router:
    """Health paths to the health checks, public paths to the API
    without a token, everything else through *private*.
    """

    def __init__(
        self, api: WsgiApp, private: WsgiApp, routes: dict[str, WsgiApp]
    ) -> None:
        self._api = api
        self._private = private
        self._routes = routes

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        routed = self._routes.get(path)
        if routed is not None:
            return routed(environ, start_response)
        if path in context_mod.PUBLIC_PATHS and environ.get(
            'REQUEST_METHOD'
        ) in (
            'GET',
            'HEAD',
        ):
            return self._api(environ, start_response)
        return self._private(environ, start_response)
