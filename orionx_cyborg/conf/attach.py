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

"""Options of the ``[orionx_attach]`` group: the remote-attach service."""

from oslo_config import cfg
from oslo_config import types

from orionx_cyborg.conf import groups
from orionx_cyborg.i18n import _

GROUP = cfg.OptGroup(
    'orionx_attach',
    title=_('OrionX remote-attach service options'),
    help=_(
        'orionx-cyborg-attach binds pooled vGPUs to Nova instances: it '
        'claims a slice of a pool GPU in Placement for every bound '
        'entitlement accelerator request, and tells the instance how to '
        'reach it through Nova\'s dynamic vendordata.'
    ),
)

opts = [
    cfg.HostAddressOpt(
        'bind_host',
        default='0.0.0.0',  # noqa: S104 - an API listens on all by default
        help=_('Address the API listens on.'),
    ),
    cfg.PortOpt(
        'bind_port',
        default=9780,
        help=_('Port the API listens on.'),
    ),
    cfg.IntOpt(
        'listen_backlog',
        default=1024,
        min=1,
        help=_(
            'Connections the kernel queues for the orionx-cyborg-attach '
            'console script\'s server before it accepts them (also '
            'capped by net.core.somaxconn); a burst of more is refused '
            'or reset. Under gunicorn, its --backlog applies instead.'
        ),
    ),
    cfg.StrOpt(
        'auth_strategy',
        default='keystone',
        choices=[
            (
                'keystone',
                _(
                    'Validate tokens with keystonemiddleware '
                    '([keystone_authtoken]); Nova calls the '
                    'vendordata target with its service token.'
                ),
            ),
            (
                'noauth',
                _(
                    'No authentication: a token "user[:project]" '
                    'names the caller. For the sandbox only.'
                ),
            ),
        ],
        help=_('How API callers are authenticated.'),
    ),
    cfg.StrOpt(
        'nova_service_user',
        default='nova',
        help=_(
            'Nova\'s service user, as [vendordata_dynamic_auth] of '
            'nova.conf authenticates: its user id, or its name in '
            'nova_service_user_domain. Binding documents (they carry the '
            'lease secret) go only to this user with the service role '
            'and to system-scoped admins (policy rule '
            '"orionx_attach:nova_service"). Another service\'s user with '
            'the service role is refused.'
        ),
    ),
    cfg.StrOpt(
        'nova_service_user_domain',
        default='Default',
        help=_('Domain (name or id) of nova_service_user when it is a name.'),
    ),
    cfg.StrOpt(
        'cyborg_service_user',
        default='cyborg',
        help=_(
            'Cyborg\'s service user, as [orionx_admission] of cyborg.conf '
            'authenticates: its user id, or its name in '
            'cyborg_service_user_domain. Only this user with the service '
            'role may call /v1/admissions (policy rule '
            '"orionx_attach:cyborg_service").'
        ),
    ),
    cfg.StrOpt(
        'cyborg_service_user_domain',
        default='Default',
        help=_(
            'Domain (name or id) of cyborg_service_user when it is a name.'
        ),
    ),
    cfg.StrOpt(
        'state_path',
        default='/var/lib/orionx-cyborg',
        help=_(
            'Directory for the default ledger ([database] connection unset) '
            'and coordination files.'
        ),
    ),
    cfg.ListOpt(
        'pools',
        default=['default'],
        help=_(
            'Pools this service serves ([orionx_pool] name of the agents). '
            'Entitlements and pool members of other pools are ignored, so '
            'one service per pool or region can run side by side.'
        ),
    ),
    cfg.StrOpt(
        'allocation_policy',
        help=_(
            'How a GPU is chosen among those with room: binpack, spread, '
            'fragmentation-aware, stranding-aware, partner-aware, '
            'count-aware, or another policy of the allocator. The default '
            'is count-aware: partner-aware (stranding-aware unless '
            'whole-GPU requests are under 30% of the recent demand and '
            'more than a fifth of the pool\'s GPUs are idle, then used '
            'GPUs are kept open for complementary slices, and for slices '
            'heavy in only one of memory and compute however few GPUs are '
            'idle where the two are anti-correlated, and for any slice '
            'while more than one in twenty is idle where such slices are '
            'all that is asked for), with the '
            'fragmentation it minimises counted in GPUs that likely '
            'requests can no longer use, except for slices alone whose '
            'memory follows their compute (see the allocator benchmark, '
            'benchmarks/allocator). Set partner-aware or stranding-aware '
            'to keep the placement of earlier releases.'
        ),
    ),
    cfg.BoolOpt(
        'pairing_hold',
        default=False,
        help=_(
            'Hold back a sharing vGPU (one slice of less than 80% compute) '
            'that would open an idle GPU alone while fewer than '
            'pairing_hold_reserve of the pool\'s GPUs are idle and few '
            'recent requests could share that GPU with it: its lease '
            'waits as awaiting-partner (outside the first-come queue) '
            'until a complementary request arrives and both are placed '
            'on one GPU, the pool has idle GPUs again, or it has waited '
            'pairing_hold_max_wait seconds. Fewer GPUs are stranded by '
            'lone slices, at the cost of waits for some sharing vGPUs '
            '(measured in benchmarks/allocator). Strict admission never '
            'holds.'
        ),
    ),
    cfg.FloatOpt(
        'pairing_hold_reserve',
        default=0.5,
        min=0.0,
        max=1.0,
        help=_(
            'Share of the pool\'s healthy GPUs (of the models a request '
            'may use) below which the pairing hold holds slices back; '
            'held slices are queued again once more idle GPUs than this '
            'remain after one is taken.'
        ),
    ),
    cfg.FloatOpt(
        'pairing_hold_partner_share',
        default=0.1,
        min=0.0,
        max=1.0,
        help=_(
            'The pairing hold holds only a slice whose possible partners '
            '(one-slice shapes of the learned request mix that fit one '
            'GPU with it) are less than this share of the recent sharing '
            'requests; 1.0 holds every slice that would open an idle GPU '
            'alone below the reserve.'
        ),
    ),
    cfg.IntOpt(
        'pairing_hold_max_wait',
        default=300,
        min=0,
        max=86400,
        help=_(
            'Seconds a held lease waits for a partner at most; then a '
            'reconcile pass queues it like any pending lease (so it '
            'waits up to reconcile_interval longer). 0 queues held '
            'leases at the next pass.'
        ),
    ),
    cfg.StrOpt(
        'locality',
        default='strict',
        choices=[
            (
                'strict',
                _(
                    'Always prefer a GPU on the instance\'s own host '
                    '(shared-memory transport).'
                ),
            ),
            ('weighted', _('Weigh locality against the policy\'s score.')),
            ('tie-break', _('Use locality only between equal scores.')),
        ],
        help=_('How much the instance\'s own host counts.'),
    ),
    cfg.IntOpt(
        'default_gmem_mib',
        default=8192,
        min=1,
        help=_(
            'GPU memory per pooled vGPU when the device profile group has '
            'no accel:orionx_gmem_mib.'
        ),
    ),
    cfg.IntOpt(
        'default_compute_pct',
        default=25,
        min=1,
        max=1600,
        help=_(
            'Compute percent per pooled vGPU when the device profile group '
            'has no accel:orionx_compute_pct.'
        ),
    ),
    cfg.StrOpt(
        'remote_transport',
        default='tcp',
        choices=[
            ('tcp', _('TCP over the data network.')),
            ('rdma', _('RDMA (RoCE or InfiniBand).')),
        ],
        help=_(
            'Transport to a GPU on another host; a GPU on the instance\'s '
            'own host is reached through shared memory.'
        ),
    ),
    cfg.PortOpt(
        'server_port',
        default=9960,
        help=_('Port of the GPU server (oriond) on GPU hosts.'),
    ),
    cfg.DictOpt(
        'server_addresses',
        default={},
        help=_(
            'Data-plane address of the GPU server of each host, as '
            'host:address pairs. A host not listed is reached by its name.'
        ),
    ),
    cfg.StrOpt(
        'secret_key',
        secret=True,
        help=_(
            'Key from which each GPU server\'s key is derived (HKDF), '
            'under which lease tokens are signed; the same on every '
            'replica. A GPU server gets only its own derived key '
            '(orionx-cyborg-attach-server-key HOST). Required with '
            'auth_strategy = keystone.'
        ),
    ),
    cfg.IntOpt(
        'secret_ttl',
        default=3600,
        min=60,
        help=_(
            'Seconds a lease token (the secret of a binding document) is '
            'valid after it is issued; guests refresh it through the '
            'metadata service before it expires. A GPU server that only '
            'verifies tokens offline refuses a released or moved lease '
            'at the latest this long (plus its clock skew allowance) '
            'after the token was issued; one that asks the service '
            '(POST /v1/lease-tokens/verify) refuses it at once.'
        ),
    ),
    cfg.IntOpt(
        'clock_skew_allowance',
        default=30,
        min=0,
        max=600,
        help=_(
            'Seconds a lease token is still accepted before its issue '
            'time or after its expiry, for clocks of GPU servers and '
            'replicas that differ (the online check uses it; give GPU '
            'servers the same value).'
        ),
    ),
    cfg.IntOpt(
        'pending_retry_after',
        default=15,
        min=1,
        help=_(
            'Seconds a guest whose vGPU is pending should wait before '
            'asking again (Nova caches metadata for 15 seconds).'
        ),
    ),
    cfg.IntOpt(
        'reconcile_interval',
        default=30,
        min=0,
        help=_(
            'Seconds between reconcile passes (0: only on demand). A pass '
            'creates missing leases, releases those whose request is '
            'gone, places pending ones and moves leases off unhealthy '
            'GPUs.'
        ),
    ),
    cfg.IntOpt(
        'pool_view_max_age',
        default=30,
        min=1,
        max=3600,
        help=_(
            'Seconds each worker serves its view of the pools (the GPUs '
            'Cyborg reports in them) before reading Cyborg again. Reconcile '
            'passes refresh the view of the worker that runs them; this '
            'bounds how long the other workers and replicas show GPUs '
            'that were added, removed or changed since. While Cyborg '
            'cannot be read, the last view is kept.'
        ),
    ),
    cfg.IntOpt(
        'health_missed_passes',
        default=3,
        min=1,
        help=_(
            'GET /healthz turns unhealthy when no reconcile pass has '
            'succeeded for this many reconcile_interval periods (not '
            'checked with reconcile_interval = 0).'
        ),
    ),
    cfg.IntOpt(
        'health_stall_seconds',
        default=20,
        min=1,
        help=_(
            'GET /healthz counts Cyborg or Placement as unreachable while '
            'a call to it has waited this long (or while its last call '
            'failed to connect, timed out or got a 5xx).'
        ),
    ),
    cfg.StrOpt(
        'coordination_url',
        help=_(
            'tooz backend URL through which replicas elect the one that '
            'runs periodic passes (etcd3+http://, redis://, zake://...). '
            'Defaults to a file backend in state_path, enough for '
            'replicas on one host.'
        ),
    ),
    cfg.StrOpt(
        'runtime',
        default='orionx',
        help=_(
            'Runtime plugin (stevedore namespace orionx_cyborg.runtimes) '
            'that renders the client settings guests receive. It serves '
            'the GPUs of the PCI vendors its [orionx_runtime_<name>] '
            'vendors option lists.'
        ),
    ),
    cfg.ListOpt(
        'additional_runtimes',
        default=[],
        item_type=types.String(regex=r'^[A-Za-z0-9_-]{1,64}$'),
        help=_(
            'More runtime plugins, for pool GPUs of vendors that runtime '
            'does not serve (e.g. "generic" for AMD, Ascend or Moore '
            'Threads GPUs). A lease is placed only on a GPU whose vendor '
            'a configured runtime serves, and its binding names that '
            'runtime; the first runtime in the order runtime, then this '
            'list, that serves the vendor renders its client settings. '
            'A device profile group may name one with '
            'accel:orionx_runtime.'
        ),
    ),
    cfg.Opt(
        'placement_retries',
        type=types.Integer(min=0, max=20),
        default=4,
        help=_(
            'Retries of a Placement write (and of the reads it depends '
            'on) on a generation conflict (placement.concurrent_update), '
            'a server error (5xx) or a failed connection, waiting 50 ms, '
            'then twice as long each time, at most 1 s. A timeout is not '
            'retried: see [placement] timeout.'
        ),
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register_group(conf, GROUP, opts)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: opts}
