"""The local SecantusDB gets MongoDB's default WiredTiger cache size, not SecantusDB's fixed 1 GB."""

from deploy.local.servers import wiredtiger_cache_mb

GB = 2**30


def test_half_of_the_ram_less_one_gigabyte() -> None:
    assert wiredtiger_cache_mb(24 * GB) == 23 * 1024 // 2
    assert wiredtiger_cache_mb(64 * GB) == 63 * 1024 // 2


def test_at_least_256_megabytes_on_a_small_machine() -> None:
    assert wiredtiger_cache_mb(1 * GB) == 256
    assert wiredtiger_cache_mb(int(1.25 * GB)) == 256
