"""The bounded cache the sessions on one model share (frames, X-ray images, cement fills)."""

from __future__ import annotations

import threading

import pytest

from vp3d.shared_cache import SharedCache


def test_a_value_is_made_once_and_the_least_recently_used_goes_first():
    cache, made = SharedCache(2), []

    def make(key):
        return lambda: made.append(key) or f"value {key}"

    assert cache.get_or_make("a", make("a")) == "value a"
    assert cache.get_or_make("a", make("a")) == "value a"
    cache.get_or_make("b", make("b"))
    cache.get_or_make("a", make("a"))  # a used again: b is now the oldest
    cache.get_or_make("c", make("c"))
    assert len(cache) == 2
    cache.get_or_make("a", make("a"))
    cache.get_or_make("b", make("b"))
    assert made == ["a", "b", "c", "b"] and cache.made == 4
    with pytest.raises(ValueError):
        SharedCache(0)


def test_threads_share_it_and_never_see_a_half_kept_value():
    cache = SharedCache(8)
    seen: list[int] = []

    def work(n):
        for i in range(200):
            seen.append(cache.get_or_make(i % 12, lambda i=i: (i % 12) * 10))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 800 and all(v % 10 == 0 and 0 <= v < 120 for v in seen)
    assert len(cache) == 8
