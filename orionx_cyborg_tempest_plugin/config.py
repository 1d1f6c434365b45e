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

"""Options of the plugin: ``[service_available] orionx_attach``, ``[orionx]``.

Everything that differs from cloud to cloud is an option here, so that
the tests run against any cloud with orionx-cyborg's services: the attach
service's catalog entry, the pool and the pooled flavor to boot, the host
without GPUs, Nova's metadata API and how to stop and start a compute
service for evacuate.
"""

from oslo_config import cfg

service_available_group = cfg.OptGroup(
    name='service_available', title='Available OpenStack Services'
)

ServiceAvailableGroup = [
    cfg.BoolOpt(
        'orionx_attach',
        default=False,
        help='Whether orionx-cyborg-attach (the attach service of pooled '
        'vGPUs) is expected to be available.',
    ),
]

orionx_group = cfg.OptGroup(
    name='orionx',
    title='orionx-cyborg options',
    help='The attach service and the pooled vGPUs of orionx-cyborg.',
)

OrionXGroup = [
    cfg.StrOpt(
        'catalog_type',
        default='orionx-attach',
        help="The attach service's type in the service catalog.",
    ),
    cfg.StrOpt(
        'endpoint_type',
        default='publicURL',
        choices=[
            'public',
            'admin',
            'internal',
            'publicURL',
            'adminURL',
            'internalURL',
        ],
        help="The endpoint type of the attach service's catalog entry.",
    ),
    cfg.StrOpt(
        'region',
        default='',
        help='Region of the attach service; empty: [identity] region.',
    ),
    cfg.BoolOpt(
        'enforce_new_defaults',
        default=True,
        help="Whether the attach service runs its policy's new defaults "
        "([oslo_policy] enforce_new_defaults, its default): an operator "
        "is a system-scoped admin, and a project's admin is not one.",
    ),
    cfg.StrOpt(
        'vendordata_target',
        default='orionx',
        help="The name of the attach service in Nova's "
        '[api] vendordata_dynamic_targets (the key of its document in '
        'vendor_data2.json).',
    ),
    cfg.StrOpt(
        'pool',
        default='default',
        help='The pool that the pooled vGPUs of these tests come from.',
    ),
    cfg.StrOpt(
        'pooled_flavor_ref',
        default='',
        help='A flavor with a pooled vGPU of [orionx] pool (its '
        'accel:device_profile names a pooled device profile). Empty: '
        'each test class makes a device profile and a flavor of its own '
        '(needs the admin credentials), from [orionx] pooled_gmem_mib, '
        'pooled_compute_pct and the base flavor [compute] flavor_ref.',
    ),
    cfg.IntOpt(
        'pooled_gmem_mib',
        default=4096,
        min=1,
        help='GPU memory of the pooled vGPU the tests make (MiB).',
    ),
    cfg.IntOpt(
        'pooled_compute_pct',
        default=10,
        min=1,
        max=100,
        help='Share of a GPU of the pooled vGPU the tests make (percent).',
    ),
    cfg.StrOpt(
        'entitlement_resource_class',
        default='CUSTOM_ORIONX_VGPU',
        help="The resource class of a pooled vGPU's entitlement, as "
        "orionx_gpu_driver reports it.",
    ),
    cfg.StrOpt(
        'image_ref',
        default='',
        help='Image of the servers; empty: [compute] image_ref.',
    ),
    cfg.StrOpt(
        'gpu_less_host',
        default='',
        help='A compute host without GPUs (Nova service host name) whose '
        'servers get pooled vGPUs from GPU servers over the network. '
        'Empty: the tests that need one are skipped.',
    ),
    cfg.StrOpt(
        'availability_zone',
        default='nova',
        help='The availability zone of [orionx] gpu_less_host (servers '
        'are forced onto it as ZONE:HOST, as an admin).',
    ),
    cfg.StrOpt(
        'networks',
        default='none',
        choices=['none', 'auto', 'default'],
        help="How servers are booted: 'none' (no network, Nova 2.37+), "
        "'auto' (Nova allocates one) or 'default' (Tempest's own "
        'network resources, as any Tempest test).',
    ),
    cfg.StrOpt(
        'metadata_url',
        default='',
        help="Nova's metadata API, e.g. http://controller:8775. The "
        'tests ask it for vendor_data2.json the way Neutron\'s metadata '
        'proxy does. Empty: the metadata tests are skipped.',
    ),
    cfg.StrOpt(
        'metadata_proxy_shared_secret',
        default='',
        secret=True,
        help="Nova's [neutron] metadata_proxy_shared_secret, which signs "
        'the instance id of a metadata request.',
    ),
    cfg.BoolOpt(
        'evacuate',
        default=True,
        help='Whether evacuate of a server with a pooled vGPU is tested '
        '(it also needs [orionx] compute_stop_command and '
        'compute_start_command).',
    ),
    cfg.StrOpt(
        'compute_stop_command',
        default='',
        help='A shell command that stops the nova-compute service of a '
        'host, {host} standing for the host name, e.g. '
        '"ssh {host} sudo systemctl stop devstack@n-cpu". Evacuate needs '
        'the source compute down, and Nova lets a forced-down compute up '
        'again only once it restarted and cleaned up the evacuated '
        'server. Empty: the evacuate test is skipped.',
    ),
    cfg.StrOpt(
        'compute_start_command',
        default='',
        help='A shell command that starts the nova-compute service of a '
        'host again ({host} as in compute_stop_command).',
    ),
    cfg.IntOpt(
        'command_timeout',
        default=120,
        min=1,
        help='Seconds each of compute_stop_command and '
        'compute_start_command may take.',
    ),
    cfg.IntOpt(
        'build_timeout',
        default=0,
        min=0,
        help='Seconds to wait for a server, an ARQ or a lease to change '
        'state; 0: [compute] build_timeout.',
    ),
]


def list_opts():
    """The plugin's options (for oslo-config-generator and the plugin)."""
    return [
        (service_available_group.name, ServiceAvailableGroup),
        (orionx_group.name, OrionXGroup),
    ]
