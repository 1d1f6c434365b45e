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

"""Where a vendordata request's CPU goes: CPU time per request, cProfile.

The attach service is built in this process as a gunicorn worker builds
it (:func:`orionx_cyborg.attach.app.build` from a configuration file,
``oslo_log`` set up, the pool view read once, prometheus_client in
multiprocess mode), behind the same middleware pipeline, with
``auth_strategy = keystone``: keystonemiddleware's ``AuthProtocol`` with
its token validation replaced by keystonemiddleware's own
``AuthTokenFixture`` (what a token found in its cache costs, less the
cache lookup; ``--auth noauth`` for the sandbox's middleware instead).
Its SQLite ledger holds ``--leases`` active leases. Placement and Cyborg
are a stand-in HTTP server in a child process (HTTP/1.1 keep-alive), so
the service's own keystoneauth client work counts but the stand-in's
does not; Cyborg answers only the pool view (devices, deployables), so
nothing here waits for it.

Requests are WSGI calls (no socket, no server): ``POST /v1/vendordata``
as Nova sends it, alternating between instances with a lease (known)
and instances without a pooled vGPU (no vGPU). Reported: CPU time
(``time.process_time``: every thread of this process) per request, mean
and median, then a cProfile of as many requests again.

``--tree DIR`` (repeatable) runs the harness against the
``orionx_cyborg`` package of each source tree in turn, in a child
process each, ``--rounds`` times, and prints them side by side: e.g.
``git archive main | tar -x -C /tmp/main-tree`` and
``--tree /tmp/main-tree --tree .``.

Run from anywhere; the harness imports nothing from ``benchmarks``::

    python benchmarks/attach_load/profile_vendordata.py --tree . --top 20
"""

from __future__ import annotations

import argparse
import cProfile
import http.server
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

GPUS = 8
GPU_HOST = 'gpu1'
VM_HOST = 'cpu1'
POOL = 'default'
ENTITLEMENT_RP = '9e1e5c8a-0000-4000-8000-000000000001'
SERVICE_PROJECT = 'd' * 32
TOKEN = 'nova-service-token'  # noqa: S105 (a fixture's, not a secret)


# The Placement and Cyborg stand-in (a child process) ---------------------


def _gpu_records() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    devices = []
    deployables = []
    pool_trait = 'CUSTOM_ORIONX_POOL_' + POOL.upper()

    def deployable(name: str, rc: str, total: int, rp: str) -> None:
        deployables.append(
            {
                'uuid': str(uuid.uuid5(uuid.NAMESPACE_OID, name)),
                'name': name,
                'rp_uuid': rp,
                'num_accelerators': total,
                'driver_name': 'ORIONX',
                'attributes_list': json.dumps(
                    [{'rc': rc}, {'trait0': pool_trait}]
                ),
            }
        )

    for index in range(GPUS):
        prefix = '%s_0000_%02x_00_0' % (GPU_HOST, 0x18 + index)
        devices.append(
            {
                'uuid': str(uuid.uuid5(uuid.NAMESPACE_OID, prefix)),
                'hostname': GPU_HOST,
                'vendor': '10de',
                'model': 'NVIDIA H200',
                'std_board_info': json.dumps(
                    {
                        'uuid': 'GPU-%d' % index,
                        'pci_address': '0000:%02x:00.0' % (0x18 + index),
                        'deployable_prefix': prefix,
                    }
                ),
            }
        )
        deployable(
            prefix + '_GMEM',
            'CUSTOM_ORIONX_GMEM_MIB',
            143771,
            _rp(prefix, 'gmem'),
        )
        deployable(
            prefix + '_COMPUTE',
            'CUSTOM_ORIONX_COMPUTE_PCT',
            200,
            _rp(prefix, 'compute'),
        )
    deployable(
        '%s_ORIONX_VGPU_%s' % (VM_HOST, POOL),
        'CUSTOM_ORIONX_VGPU',
        4096,
        ENTITLEMENT_RP,
    )
    return devices, deployables


def _rp(prefix: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, '%s/%s' % (prefix, what)))


def serve_stand_in(known_path: str) -> None:
    """Answer Placement's and Cyborg's reads until killed; print the port."""
    with open(known_path) as f:
        known = frozenset(json.load(f))
    devices, deployables = _gpu_records()
    pages = {
        '/cyborg/v2/devices': {'devices': devices},
        '/cyborg/v2/deployables': {'deployables': deployables},
        '/placement/resource_providers/' + ENTITLEMENT_RP: {
            'uuid': ENTITLEMENT_RP,
            'name': VM_HOST,
            'root_provider_uuid': ENTITLEMENT_RP,
            'generation': 1,
        },
    }
    held = {
        ENTITLEMENT_RP: {'resources': {'CUSTOM_ORIONX_VGPU': 1}},
    }
    allocations = '/placement/allocations/'

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        # Headers and body are separate writes: without this, each
        # answer waits for the client's delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split('?')[0]
            body: Any = pages.get(path)
            if body is None and path.startswith(allocations):
                consumer = path[len(allocations) :]
                body = (
                    {
                        'allocations': held,
                        'consumer_generation': 1,
                        'project_id': SERVICE_PROJECT,
                        'user_id': 'u',
                        'consumer_type': 'INSTANCE',
                    }
                    if consumer in known
                    else {'allocations': {}}
                )
            data = json.dumps(body or {'errors': []}).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


# The sandbox's real Placement (--placement real) ------------------------

PLACEMENT_VERSION = 'placement 1.28'
VM_HOST_RP = '9e1e5c8a-0000-4000-8000-000000000002'


def start_real_placement(directory: str) -> tuple[subprocess.Popen[str], int]:
    """The sandbox's Placement server (SQLite, noauth2); its port."""
    conf_dir = os.path.join(directory, 'placement')
    os.mkdir(conf_dir)
    with open(os.path.join(conf_dir, 'placement.conf'), 'w') as f:
        f.write(
            '[api]\nauth_strategy = noauth2\n'
            '[placement_database]\nconnection = sqlite:///%s\n'
            'sync_on_startup = True\nsqlite_synchronous = False\n'
            % os.path.join(conf_dir, 'placement.sqlite')
        )
    from orionx_cyborg.sandbox import wsgi

    port = wsgi.free_port()
    process = subprocess.Popen(  # noqa: S603 (this Python, a module of ours)
        [
            sys.executable,
            '-m',
            'orionx_cyborg.sandbox.placement_server',
            conf_dir,
            str(port),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # its log, then the line that says ready
        if line.startswith(wsgi.READY_PREFIX):
            break
    else:
        process.kill()
        raise SystemExit('Placement did not start')
    # Its log goes on to the pipe: read it away so that it never blocks.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process, port


def fill_placement(port: int, instances: list[str]) -> None:
    """The VM host, its entitlement provider, one unit per *instances*."""
    import http.client

    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=30)

    def call(method: str, path: str, body: Any) -> None:
        connection.request(
            method,
            path,
            None if body is None else json.dumps(body),
            {
                'X-Auth-Token': 'admin',
                'OpenStack-API-Version': PLACEMENT_VERSION,
                'Content-Type': 'application/json',
            },
        )
        response = connection.getresponse()
        text = response.read()
        if response.status >= 300:
            raise SystemExit('Placement %s %s: %s' % (method, path, text))

    call('PUT', '/resource_classes/CUSTOM_ORIONX_VGPU', None)
    call('POST', '/resource_providers', {'name': VM_HOST, 'uuid': VM_HOST_RP})
    call(
        'POST',
        '/resource_providers',
        {
            'name': '%s_ORIONX_VGPU_%s' % (VM_HOST, POOL),
            'uuid': ENTITLEMENT_RP,
            'parent_provider_uuid': VM_HOST_RP,
        },
    )
    call(
        'PUT',
        '/resource_providers/%s/inventories' % ENTITLEMENT_RP,
        {
            'resource_provider_generation': 0,
            'inventories': {'CUSTOM_ORIONX_VGPU': {'total': 100000}},
        },
    )
    for instance in instances:
        call(
            'PUT',
            '/allocations/%s' % instance,
            {
                'allocations': {
                    ENTITLEMENT_RP: {'resources': {'CUSTOM_ORIONX_VGPU': 1}}
                },
                'project_id': SERVICE_PROJECT,
                'user_id': 'u',
                'consumer_generation': None,
            },
        )
    connection.close()


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds of process *pid* so far."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


# The service under test -------------------------------------------------


def write_conf(
    directory: str, port: int, auth: str, placement_url: str
) -> str:
    url = 'http://127.0.0.1:%d' % port
    sections = {
        'DEFAULT': {
            'debug': 'False',
            'log_file': os.path.join(directory, 'attach.log'),
        },
        'orionx_attach': {
            'auth_strategy': auth,
            'secret_key': 'profile-' + 'k' * 32,
            'state_path': directory,
            'reconcile_interval': '0',
            'pools': POOL,
            'server_addresses': '%s:192.0.2.10' % GPU_HOST,
        },
        'keystone_authtoken': {
            'www_authenticate_uri': 'http://keystone.invalid:5000',
        },
    }
    for group, endpoint in (
        ('placement', placement_url),
        ('cyborg', url + '/cyborg/v2'),
    ):
        sections[group] = {
            'auth_type': 'admin_token',
            'endpoint': endpoint,
            'token': 'admin',
            'endpoint_override': endpoint,
        }
    path = os.path.join(directory, 'attach.conf')
    with open(path, 'w') as f:
        for group, values in sections.items():
            f.write('[%s]\n' % group)
            for key, value in values.items():
                f.write('%s = %s\n' % (key, value))
    return path


def fill_ledger(directory: str, count: int) -> list[tuple[str, str]]:
    """*count* active leases, one per instance; (instance, project)s."""
    from orionx_cyborg.attach import ledger as ledger_mod

    ledger = ledger_mod.Ledger.from_url(
        'sqlite:///%s' % os.path.join(directory, 'attach.sqlite')
    )
    ledger.upgrade()
    instances = []
    for index in range(count):
        prefix = '%s_0000_%02x_00_0' % (GPU_HOST, 0x18 + index % GPUS)
        instance, project = str(uuid.uuid4()), uuid.uuid4().hex
        ledger.create(
            ledger_mod.NewLease(
                arq_uuid=str(uuid.uuid4()),
                instance_uuid=instance,
                project_id=project,
                vm_host=VM_HOST,
                pool=POOL,
                gmem_mib=256,
                compute_pct=1,
                state=ledger_mod.LeaseState.ACTIVE,
                gpu_host=GPU_HOST,
                gpu_uuid='GPU-%d' % (index % GPUS),
                gpu_pci_address='0000:%02x:00.0' % (0x18 + index % GPUS),
                memory_rp_uuid=_rp(prefix, 'gmem'),
                compute_rp_uuid=_rp(prefix, 'compute'),
                runtime='orionx',
            )
        )
        instances.append((instance, project))
    ledger.close()
    return instances


def build_service(conf_path: str, auth: str) -> tuple[Any, Any]:
    """The WSGI application as a gunicorn worker builds it, and a
    cleanup.
    """
    from oslo_log import log as logging

    from orionx_cyborg.attach import app as app_mod

    conf = app_mod.load_conf(['--config-file', conf_path])
    logging.setup(conf, app_mod.PROG)
    cleanups = []
    if auth == 'keystone':
        from keystonemiddleware import fixture as ks_fixture

        tokens = ks_fixture.AuthTokenFixture()
        tokens.setUp()
        cleanups.append(tokens.cleanUp)
        tokens.add_token_data(
            token_id=TOKEN,
            user_id=uuid.uuid4().hex,
            user_name='nova',
            user_domain_id='default',
            user_domain_name='Default',
            project_id=SERVICE_PROJECT,
            project_name='service',
            project_domain_id='default',
            role_list=['admin', 'service', 'member', 'reader'],
        )
    components = app_mod.build(conf)
    # As wsgi.init_application: the pool view is read once at start.
    components.warm_up().join(30)
    if components.service.capacity.cached_view() is None:
        raise SystemExit('the pool view was not read')

    def close() -> None:
        components.close()
        for cleanup in cleanups:
            cleanup()

    return components.application, close


def environ(instance: str, project: str, auth: str) -> dict[str, Any]:
    """A WSGI environ of Nova's vendordata request (as gunicorn's)."""
    body = json.dumps(
        {
            'project-id': project,
            'instance-id': instance,
            'image-id': str(uuid.uuid4()),
            'user-data': None,
            'hostname': 'vm-%s' % instance[:8],
            'metadata': {},
        }
    ).encode()
    return {
        'REQUEST_METHOD': 'POST',
        'SCRIPT_NAME': '',
        'PATH_INFO': '/v1/vendordata',
        'QUERY_STRING': '',
        'RAW_URI': '/v1/vendordata',
        'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '9990',
        'SERVER_PROTOCOL': 'HTTP/1.1',
        'REMOTE_ADDR': '127.0.0.1',
        'REMOTE_PORT': '40000',
        'CONTENT_TYPE': 'application/json',
        'CONTENT_LENGTH': str(len(body)),
        'HTTP_HOST': '127.0.0.1:9990',
        'HTTP_ACCEPT': 'application/json',
        'HTTP_USER_AGENT': 'python-requests/2.32',
        'HTTP_X_AUTH_TOKEN': TOKEN if auth == 'keystone' else 'nova',
        'HTTP_CONNECTION': 'keep-alive',
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': 'http',
        'wsgi.input': io.BytesIO(body),
        'wsgi.errors': sys.stderr,
        'wsgi.multithread': True,
        'wsgi.multiprocess': True,
        'wsgi.run_once': False,
    }


class Caller:
    """Calls the application and checks every answer."""

    def __init__(
        self, application: Any, auth: str, known: list[tuple[str, str]]
    ) -> None:
        self.application = application
        self.auth = auth
        self.known = known
        self.turn = 0

    def next_request(self) -> tuple[str, str, dict[str, Any]]:
        """(kind, expected status, environ), known and no vGPU in turn."""
        self.turn += 1
        if self.turn % 2:
            instance, project = self.known[(self.turn // 2) % len(self.known)]
            return 'known', 'active', environ(instance, project, self.auth)
        return (
            'no_vgpu',
            'none',
            environ(str(uuid.uuid4()), uuid.uuid4().hex, self.auth),
        )

    def call(self, env: dict[str, Any], expected: str) -> None:
        status = []

        def start_response(code: str, headers: Any, *args: Any) -> Any:
            status.append(code)
            return lambda data: None

        result = self.application(env, start_response)
        try:
            body = b''.join(result)
        finally:
            if hasattr(result, 'close'):
                result.close()
        if not status or not status[0].startswith('200'):
            raise SystemExit('answer %s: %s' % (status, body[:300]))
        if self.turn <= 4:  # the documents themselves: checked early
            document = json.loads(body)
            if document.get('status') != expected:
                raise SystemExit('expected %s: %s' % (expected, body[:300]))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Build, warm up, time, profile; the results as a dict."""
    with tempfile.TemporaryDirectory(prefix='vdperf-') as directory:
        os.environ['PROMETHEUS_MULTIPROC_DIR'] = os.path.join(
            directory, 'prometheus'
        )
        os.mkdir(os.environ['PROMETHEUS_MULTIPROC_DIR'])
        known = fill_ledger(directory, args.leases)
        known = known[: args.known] if args.known else known
        known_path = os.path.join(directory, 'known.json')
        with open(known_path, 'w') as f:
            json.dump([instance for instance, _ in known], f)
        children = []
        try:
            stand_in = subprocess.Popen(  # noqa: S603 (this file, this Python)
                [sys.executable, os.path.abspath(__file__), '--stand-in'],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                env=dict(os.environ, PROFILE_KNOWN=known_path),
                text=True,
            )
            children.append(stand_in)
            assert stand_in.stdout is not None
            port = int(stand_in.stdout.readline())
            placement_url = 'http://127.0.0.1:%d/placement' % port
            if args.placement == 'real':
                placement, placement_port = start_real_placement(directory)
                children.append(placement)
                fill_placement(
                    placement_port, [instance for instance, _ in known]
                )
                placement_url = 'http://127.0.0.1:%d' % placement_port
            conf_path = write_conf(directory, port, args.auth, placement_url)
            application, close = build_service(conf_path, args.auth)
            try:
                return run_requests(
                    args,
                    Caller(application, args.auth, known),
                    placement_pid=children[-1].pid,
                )
            finally:
                close()
        finally:
            for child in children:
                child.kill()
                child.wait()


def run_requests(
    args: argparse.Namespace, caller: Caller, placement_pid: int
) -> dict[str, Any]:
    for _ in range(args.warm_up):
        _, expected, env = caller.next_request()
        caller.call(env, expected)
    cpu: dict[str, list[float]] = {'known': [], 'no_vgpu': []}
    wall_started = time.perf_counter()
    cpu_started = time.process_time()
    placement_started = process_cpu_s(placement_pid)
    for _ in range(args.requests):
        kind, expected, env = caller.next_request()
        started = time.process_time()
        caller.call(env, expected)
        cpu[kind].append(time.process_time() - started)
    total_cpu = time.process_time() - cpu_started
    placement_cpu = process_cpu_s(placement_pid) - placement_started
    wall = time.perf_counter() - wall_started
    profile = cProfile.Profile()
    requests = [caller.next_request() for _ in range(args.requests)]
    profile.enable()
    for _, expected, env in requests:
        caller.call(env, expected)
    profile.disable()
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    for order in args.order:
        stats.sort_stats(order).print_stats(args.top)
    import orionx_cyborg

    return {
        'package': os.path.dirname(os.path.dirname(orionx_cyborg.__file__)),
        'requests': args.requests,
        'leases': args.leases,
        'auth': args.auth,
        'placement': args.placement,
        'placement_cpu_ms_per_request': 1000 * placement_cpu / args.requests,
        'cpu_ms_per_request': 1000 * total_cpu / args.requests,
        'wall_ms_per_request': 1000 * wall / args.requests,
        'cpu_ms': {
            kind: {
                'mean': 1000 * statistics.fmean(values),
                'median': 1000 * statistics.median(values),
            }
            for kind, values in cpu.items()
        },
        'profile': _trimmed(text.getvalue()),
    }


def _trimmed(text: str) -> str:
    # pstats prints full paths; the site-packages prefix says nothing.
    for prefix in sorted(set(sys.path), key=len, reverse=True):
        if prefix and len(prefix) > 1:
            text = text.replace(prefix + os.sep, '')
    return text


# Side by side -----------------------------------------------------------


def in_trees(args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    for round_ in range(args.rounds):
        for tree in args.tree:
            root = os.path.abspath(tree)
            command = [
                sys.executable,
                os.path.abspath(__file__),
                '--json-out',
                '-',
                '--requests',
                str(args.requests),
                '--leases',
                str(args.leases),
                '--warm-up',
                str(args.warm_up),
                '--auth',
                args.auth,
                '--placement',
                args.placement,
                '--known',
                str(args.known),
                '--top',
                str(args.top),
                *(a for order in args.order for a in ('--order', order)),
            ]
            done = subprocess.run(  # noqa: S603 (this file, this Python)
                command,
                env=dict(os.environ, PYTHONPATH=root),
                cwd=root,
                stdout=subprocess.PIPE,
                check=True,
                text=True,
            )
            result = json.loads(done.stdout)
            result['tree'] = tree
            result['round'] = round_ + 1
            results.append(result)
            print(_line(result), file=sys.stderr, flush=True)
    return results


HEADER = '%-28s %5s  %9s  %9s  %9s  %9s  %9s  %9s' % (
    'tree',
    'round',
    'cpu ms/rq',
    'placement',
    'known avg',
    'known p50',
    'none avg',
    'none p50',
)


def _line(result: dict[str, Any]) -> str:
    cpu = result['cpu_ms']
    return '%-28s %5d  %9.2f  %9.2f  %9.2f  %9.2f  %9.2f  %9.2f' % (
        result.get('tree', result['package'])[-28:],
        result.get('round', 1),
        result['cpu_ms_per_request'],
        result['placement_cpu_ms_per_request'],
        cpu['known']['mean'],
        cpu['known']['median'],
        cpu['no_vgpu']['mean'],
        cpu['no_vgpu']['median'],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=2000)
    parser.add_argument('--leases', type=int, default=1000)
    parser.add_argument('--warm-up', type=int, default=200)
    parser.add_argument(
        '--auth', choices=('keystone', 'noauth'), default='keystone'
    )
    parser.add_argument(
        '--placement',
        choices=('stand-in', 'real'),
        default='stand-in',
        help='Placement: the stand-in, or the sandbox\'s real one',
    )
    parser.add_argument(
        '--known',
        type=int,
        default=0,
        help='ask for the first N leased instances only (0: all)',
    )
    parser.add_argument('--top', type=int, default=20)
    parser.add_argument(
        '--order',
        action='append',
        choices=('tottime', 'cumulative'),
        help='how the profile is sorted (repeatable; default: both)',
    )
    parser.add_argument(
        '--tree',
        action='append',
        default=[],
        help='a source tree whose orionx_cyborg to measure (repeatable)',
    )
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument(
        '--profiles',
        action='store_true',
        help='print each run\'s cProfile (with --tree)',
    )
    parser.add_argument('--json', help='write the results here')
    parser.add_argument('--json-out', help=argparse.SUPPRESS)
    parser.add_argument(
        '--stand-in', action='store_true', help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    args.order = args.order or ['tottime', 'cumulative']
    if args.stand_in:
        serve_stand_in(os.environ['PROFILE_KNOWN'])
        return
    if args.json_out:
        print(json.dumps(measure(args)))
        return
    if args.tree:
        print(HEADER, file=sys.stderr)
        results = in_trees(args)
    else:
        results = [measure(args)]
    print(HEADER)
    for result in results:
        print(_line(result))
    if args.profiles or not args.tree:
        for result in results:
            print('\n== %s ==' % result.get('tree', result['package']))
            print(result['profile'])
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
