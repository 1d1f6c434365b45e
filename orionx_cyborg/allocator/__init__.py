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

"""The pool allocator: which GPU of the pool holds each vGPU slice.

Pure Python, standard library only, no I/O: the attach service feeds it
the pool (:class:`AllocatorGpu`), asks with a :class:`VgpuRequest` and gets a
:class:`Grant` or a :class:`Rejection` with a typed reason.

Policies by configuration name are in :data:`POLICIES`;
:data:`DEFAULT_POLICY` is the one that placed the most in the benchmark
(``benchmarks/allocator/README.rst``).
"""

from orionx_cyborg.allocator.allocator import Allocator
from orionx_cyborg.allocator.allocator import Locality
from orionx_cyborg.allocator.allocator import MixSource
from orionx_cyborg.allocator.errors import AllocatorError
from orionx_cyborg.allocator.errors import CapacityError
from orionx_cyborg.allocator.errors import DuplicateGpuError
from orionx_cyborg.allocator.errors import UnknownGpuError
from orionx_cyborg.allocator.errors import UnknownPolicyError
from orionx_cyborg.allocator.fragmentation import FragmentationModel
from orionx_cyborg.allocator.mix import DEFAULT_PRIOR
from orionx_cyborg.allocator.mix import FixedMix
from orionx_cyborg.allocator.mix import MixSnapshot
from orionx_cyborg.allocator.mix import RequestMix
from orionx_cyborg.allocator.mix import TaskShape
from orionx_cyborg.allocator.models import AllocatorGpu
from orionx_cyborg.allocator.models import Decision
from orionx_cyborg.allocator.models import Grant
from orionx_cyborg.allocator.models import HostAffinity
from orionx_cyborg.allocator.models import Rejection
from orionx_cyborg.allocator.models import RejectionReason
from orionx_cyborg.allocator.models import SliceAssignment
from orionx_cyborg.allocator.models import VgpuRequest
from orionx_cyborg.allocator.pairing import Admission
from orionx_cyborg.allocator.pairing import Held
from orionx_cyborg.allocator.pairing import HeldRequests
from orionx_cyborg.allocator.pairing import PairingHold
from orionx_cyborg.allocator.policies import DEFAULT_POLICY
from orionx_cyborg.allocator.policies import POLICIES
from orionx_cyborg.allocator.policies import Policy
from orionx_cyborg.allocator.policies import make_policy
from orionx_cyborg.allocator.state import PoolState

__all__ = [
    'DEFAULT_POLICY',
    'DEFAULT_PRIOR',
    'POLICIES',
    'Allocator',
    'Admission',
    'AllocatorError',
    'CapacityError',
    'Decision',
    'DuplicateGpuError',
    'FixedMix',
    'FragmentationModel',
    'AllocatorGpu',
    'Held',
    'HeldRequests',
    'HostAffinity',
    'Locality',
    'MixSnapshot',
    'MixSource',
    'Grant',
    'PairingHold',
    'Policy',
    'PoolState',
    'Rejection',
    'RejectionReason',
    'RequestMix',
    'SliceAssignment',
    'TaskShape',
    'UnknownGpuError',
    'UnknownPolicyError',
    'VgpuRequest',
    'make_policy',
]
