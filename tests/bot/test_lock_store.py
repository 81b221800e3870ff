"""While Redis is down, the cluster's lock store still serialises each conversation."""

import asyncio
from typing import List
from urllib.parse import urlparse

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import FailSafeRedisLockStore
from tests.conftest import _free_port


def _store(port: int) -> FailSafeRedisLockStore:
    return FailSafeRedisLockStore(
        EndpointConfig(url="127.0.0.1", port=port, key_prefix="locktest")
    )


async def _two_turns(store: FailSafeRedisLockStore, order: List[str]) -> None:
    async def turn(name: str) -> None:
        async with store.lock("citizen", wait_time_in_seconds=0.01):
            order.append(f"{name} starts")
            await asyncio.sleep(0.05)
            order.append(f"{name} ends")

    await asyncio.gather(turn("first"), turn("second"))


async def test_with_redis_down_turns_are_served_one_at_a_time() -> None:
    order: List[str] = []
    await _two_turns(_store(_free_port()), order)
    assert order == ["first starts", "first ends", "second starts", "second ends"]


async def test_with_redis_up_the_lock_is_kept_in_redis(redis_url: str) -> None:
    store = _store(int(urlparse(redis_url).port or 0))
    async with store.lock("citizen"):
        assert store.red.exists("locktest:lock:citizen")
        assert store.fallback.get_lock("citizen") is None
    assert not store.red.exists("locktest:lock:citizen")


def test_an_outage_is_logged_once_and_the_recovery_once(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(int(urlparse(redis_url).port or 0))
    working = store.red
    store.red = redis.StrictRedis(host="127.0.0.1", port=_free_port())
    for _ in range(3):
        store.get_lock("citizen")
    store.red = working
    store.get_lock("citizen")
    store.get_lock("citizen")
    assert [r.getMessage().split(":")[1] for r in caplog.records] == [
        " Redis failed, kept in this process",
        " Redis answers again",
    ]
