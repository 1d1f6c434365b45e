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

"""The configuration files of the sandbox's services.

Every file is generated from the manifest, into the state directory:
Placement's ``placement.conf``, Cyborg's ``cyborg.conf`` and
``api-paste.ini`` (the stock pipeline with our no-auth filter in place of
keystonemiddleware), one ``agent.conf`` per host with the options of
that host's drivers, and ``attach.conf`` of ``orionx-cyborg-attach``
(no-auth API, ledger in the state directory, Cyborg and Placement
reached with fixed tokens).
"""

from __future__ import annotations

import configparser
import io
import pathlib
from collections.abc import Mapping

from orionx_cyborg.sandbox import layout

Sections = Mapping[str, Mapping[str, str]]

API_PASTE = """\
[pipeline:main]
pipeline = request_id noauth api_v2

[app:api_v2]
paste.app_factory = cyborg.api.app:app_factory

[filter:noauth]
paste.filter_factory = orionx_cyborg.sandbox.noauth:NoAuthMiddleware.factory

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory
"""


def render_ini(sections: Sections) -> str:
    # No interpolation and case-preserving keys: values such as SQLite URLs
    # and option names must reach oslo.config unchanged.
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    for name, values in sections.items():
        if name != configparser.DEFAULTSECT:
            parser.add_section(name)
        for key, value in values.items():
            parser.set(name, key, value)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def _sqlite_url(path: pathlib.Path) -> str:
    return 'sqlite:///%s' % path


def _static_token(endpoint: str, token: str) -> dict[str, str]:
    """keystoneauth's admin_token plugin: a fixed token and endpoint."""
    return {
        'auth_type': 'admin_token',
        'endpoint': endpoint,
        'token': token,
        'endpoint_override': endpoint,
    }


def placement_sections(
    state: layout.StateLayout, manifest: layout.Manifest
) -> dict[str, dict[str, str]]:
    return {
        'DEFAULT': {'debug': str(manifest.debug)},
        'api': {'auth_strategy': 'noauth2'},
        'placement_database': {
            'connection': _sqlite_url(
                state.placement_dir / 'placement.sqlite'
            ),
            'sync_on_startup': 'True',
            # A sandbox needs no durability across power loss; without an
            # fsync per commit an agent's report is about twice as fast.
            'sqlite_synchronous': 'False',
        },
    }


def cyborg_sections(
    state: layout.StateLayout, manifest: layout.Manifest
) -> dict[str, dict[str, str]]:
    first_host = manifest.hosts[0].name if manifest.hosts else 'sandbox'
    return {
        'DEFAULT': {
            'debug': str(manifest.debug),
            # The process-wide host only names the conductor; every agent
            # gets its own host name (see agents.py).
            'host': first_host,
            'transport_url': 'fake:/',
            'state_path': str(state.cyborg_dir),
            'periodic_interval': '3600',
            # An agent's report is one RPC call to the conductor; the first
            # report of a host with hundreds of GPUs (the benchmark's) takes
            # longer than oslo.messaging's default of 60 s.
            'rpc_response_timeout': '900',
        },
        'api': {
            'host_ip': '127.0.0.1',
            'port': str(manifest.cyborg_port),
            'api_paste_config': str(state.cyborg_dir / 'api-paste.ini'),
        },
        'database': {
            'connection': _sqlite_url(state.cyborg_dir / 'cyborg.sqlite'),
            'sqlite_synchronous': 'False',
        },
        'agent': {
            # Only for the stock AgentManager constructor, which builds a
            # ResourceTracker from this list before the sandbox replaces it
            # with the host's own drivers: keep it the cheap fake driver.
            'enabled_drivers': 'fake_driver',
            'resource_provider_name': first_host,
            'resource_provider_startup_retries': '0',
        },
        'placement': _static_token(manifest.placement_url, 'admin'),
        'nova': _static_token(manifest.nova_url, 'nova'),
        'oslo_concurrency': {'lock_path': str(state.cyborg_dir / 'locks')},
        **admission_sections(manifest),
    }


def admission_sections(
    manifest: layout.Manifest,
) -> dict[str, dict[str, str]]:
    """``[orionx_admission]`` of cyborg.conf in strict-admission mode.

    The conductor calls the attach service as Cyborg's service user,
    the only one its policy lets admit ARQs.
    """
    url = manifest.attach_url
    if not manifest.strict_admission or url is None:
        return {}
    return {
        'orionx_admission': dict(
            _static_token(url, 'cyborg'),
            # A bind waits for the admission; never as long as Nova's
            # arq_binding_timeout.
            timeout='10',
        )
    }


def attach_sections(
    state: layout.StateLayout,
    manifest: layout.Manifest,
    options: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """``attach.conf``; *options* override ``[orionx_attach]`` ones."""
    attach = {
        'bind_host': '127.0.0.1',
        'bind_port': str(manifest.attach_port),
        'auth_strategy': 'noauth',
        'state_path': str(state.attach_dir),
        # Passes run when asked (POST /v1/reconcile), so tests decide.
        'reconcile_interval': '0',
        # Pool GPUs of AMD, Ascend and Moore Threads (the mixed host)
        # are served by the generic runtime; NVIDIA's by orionx.
        'additional_runtimes': 'generic',
    }
    attach.update(options)
    return {
        'DEFAULT': {
            'debug': str(manifest.debug),
            # oslo.log writes nowhere else by default; the orchestrator
            # puts stderr in logs/attach.log.
            'use_stderr': 'True',
        },
        'orionx_attach': attach,
        'cyborg': _static_token(manifest.cyborg_url + '/v2', 'admin'),
        'placement': _static_token(manifest.placement_url, 'admin'),
    }


def host_sections(
    host_dir: pathlib.Path, options: Sections
) -> dict[str, dict[str, str]]:
    """A host's driver options, with ``{host_dir}`` filled in."""
    return {
        group: {
            key: value.replace('{host_dir}', str(host_dir))
            for key, value in values.items()
        }
        for group, values in options.items()
    }


def write_all(
    state: layout.StateLayout,
    manifest: layout.Manifest,
    host_options: Mapping[str, Sections],
    attach_options: Mapping[str, str] | None = None,
) -> None:
    state.placement_dir.mkdir(parents=True, exist_ok=True)
    (state.placement_dir / 'placement.conf').write_text(
        render_ini(placement_sections(state, manifest))
    )
    state.cyborg_dir.mkdir(parents=True, exist_ok=True)
    (state.cyborg_dir / 'locks').mkdir(exist_ok=True)
    state.cyborg_conf.write_text(render_ini(cyborg_sections(state, manifest)))
    (state.cyborg_dir / 'api-paste.ini').write_text(API_PASTE)
    if manifest.attach_port:
        write_attach_conf(state, manifest, attach_options or {})
    for host in manifest.hosts:
        host_dir = pathlib.Path(host.host_dir)
        (host_dir / 'sysfs').mkdir(parents=True, exist_ok=True)
        (host_dir / 'driver-state').mkdir(exist_ok=True)
        write_host_conf(host, host_options[host.name])


def write_attach_conf(
    state: layout.StateLayout,
    manifest: layout.Manifest,
    options: Mapping[str, str],
) -> None:
    """``attach/attach.conf``, readable by its owner only: it holds the
    key every lease secret derives from.
    """
    state.attach_dir.mkdir(parents=True, exist_ok=True)
    path = state.attach_conf
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(render_ini(attach_sections(state, manifest, options)))


def write_host_conf(host: layout.HostEntry, options: Sections) -> None:
    """The host's ``agent.conf``, replaced atomically.

    Its agent reads it when its drivers are built (at start, and when
    the sandbox restarts that agent).
    """
    layout.write_atomically(
        pathlib.Path(host.conf_file),
        render_ini(host_sections(pathlib.Path(host.host_dir), options)),
    )
