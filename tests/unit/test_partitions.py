"""The case -> partition rule, the partition count in the settings, the layouts found on a
broker, and the allotment's share, without a broker."""
from __future__ import annotations

import zlib
from collections import Counter

import pytest
from hypothesis import given, strategies as st

from hub.bus import inventory, names
from hub.routing.partitions import (SLOTS, check_partitions, configured_partitions, partition_key, partition_of,
                                    slot_of, slots_of)
from hub.runtime.allotment import Allotment


def test_the_slot_is_crc32_of_the_case_number_so_every_process_agrees():
    case = "330100202611260001"
    assert slot_of(case) == zlib.crc32(case.encode("utf-8")) % 64 == slot_of(str(case))
    assert slot_of("杭州-办件-0001") == zlib.crc32("杭州-办件-0001".encode("utf-8")) % 64


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=SLOTS))
def test_a_case_lands_in_exactly_one_partition_and_its_slot_is_bound_there(case, p):
    i = partition_of(case, p)
    assert 0 <= i < p
    assert slot_of(case) in slots_of(i, p)
    assert [j for j in range(p) if slot_of(case) in slots_of(j, p)] == [i]


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5, 8, 12, 16, 64])
def test_the_slots_cover_each_layout_once_and_spread_evenly(p):
    bound = [s for i in range(p) for s in slots_of(i, p)]
    assert sorted(bound) == list(range(SLOTS))
    sizes = {len(slots_of(i, p)) for i in range(p)}
    assert max(sizes) - min(sizes) <= 1


def test_real_case_numbers_spread_over_four_partitions():
    cases = [f"3301062026{n:08d}" for n in range(20000)]
    counts = Counter(partition_of(c, 4) for c in cases)
    assert set(counts) == {0, 1, 2, 3}
    assert max(counts.values()) / min(counts.values()) < 1.15, counts


def test_a_message_of_no_case_spreads_by_its_own_id():
    assert partition_key("C1", "m1") == "C1"
    assert partition_key(None, "m1") == partition_key("", "m1") == "m1"


@pytest.mark.parametrize("bad", [0, -1, 65, "four", None, 2.5j])
def test_a_partition_count_out_of_range_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="partitions must be"):
        check_partitions(bad)


def test_partitions_per_destination_from_the_settings():
    settings = {"partitions": {"default": 2, "platform": 8, "housing": 3}}
    assert configured_partitions(settings, "platform") == 8
    assert configured_partitions(settings, "province") == 2
    assert configured_partitions(settings, "housing.new") == 3      # a new track follows its department
    assert configured_partitions({}, "platform") == 4
    assert configured_partitions({"partitions": 6}, "platform") == 6
    with pytest.raises(ValueError, match="got 0"):
        configured_partitions({"partitions": {"platform": 0}}, "platform")


def test_layouts_found_in_a_management_listing():
    listed = [{"name": q} for q in names.partition_queues("platform", 4) + names.partition_queues("platform", 2)
              + names.partition_queues("province", 3) + ["tongban.to.platform", "tongban.delay.platform.5s",
                                                          "tongban.lock.tongban.to.platform.0of4"]]
    assert inventory.partition_layouts_found(None, "amqp://x", "platform", listed) == {2, 4}
    assert inventory.partition_layouts_found(None, "amqp://x", "province", listed) == {3}
    assert inventory.partition_layouts_found(None, "amqp://x", "housing", listed) == set()


def test_the_management_api_of_a_failover_list_is_the_first_brokers():
    base, auth, vhost = inventory.management_url("amqp://u:p@node-a:5672/city;amqp://u:p@node-b:5672/city")
    assert (base, auth, vhost) == ("http://node-a:15672", ("u", "p"), "city")
    assert inventory.management_url("amqp://guest:guest@127.0.0.1:5672/")[2] == "%2F"


class _Store:
    def __init__(self, workers: int):
        self.workers = workers

    def beat(self, *_):
        pass

    def live_workers(self, _fresh):
        return [{"worker": str(i)} for i in range(self.workers)]


def test_the_share_is_ceil_units_over_workers_and_a_gone_unit_leaves_it():
    allot = Allotment(_Store(2))
    allot.beat()
    for q in names.partition_queues("platform", 4) + names.partition_queues("platform", 8):
        allot.register("platform", q)
    assert allot.cap("platform") == 6      # while the old layout drains, both count
    for q in names.partition_queues("platform", 4):
        allot.unregister("platform", q)
    assert allot.cap("platform") == 4      # drained and gone: the new layout's 8 over 2 workers


def test_at_its_share_a_process_gives_a_free_unit_back_until_it_has_been_free_a_while():
    allot = Allotment(_Store(2), patience=2)
    allot.beat()
    queues = names.partition_queues("platform", 4)
    for q in queues:
        allot.register("platform", q)
    assert allot.keep("platform", queues[0]) and allot.keep("platform", queues[1])
    assert not allot.keep("platform", queues[2])   # at its share of 2: leave it to the other process
    assert allot.keep("platform", queues[2])       # free the second time too: the other is gone, take it
