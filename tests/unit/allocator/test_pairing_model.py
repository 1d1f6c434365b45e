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

"""The M3 pairing model's compatibility test, by hand."""

import testtools

from benchmarks.allocator import pairing_model


class TestCompatible(testtools.TestCase):
    def test_halves_of_memory_fit_exactly(self):
        # 50% of 32,768 MiB is 16,384 MiB twice: exactly the card.
        self.assertTrue(pairing_model.compatible((47, 50), (47, 50)))

    def test_rounding_up_breaks_a_complementary_pair(self):
        # 55% is 18,022.4 -> 18,023 MiB and 45% 14,745.6 -> 14,746 MiB:
        # 32,769 MiB, one more than the card, though 55 + 45 = 100.
        self.assertFalse(pairing_model.compatible((47, 55), (47, 45)))

    def test_compute_over_the_gpu_does_not_fit(self):
        # 81 + 23 = 104% of compute, though 20% + 75% memory fits.
        self.assertFalse(pairing_model.compatible((81, 20), (23, 75)))
