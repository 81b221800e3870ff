"""The benchmark's simulated citizens and its arithmetic."""

import asyncio
import random
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List, Tuple

import pytest
import yaml
from aiohttp import web

from bot import bench, cli
from tests.conftest import _free_port


def _question(name: str) -> str:
    domain = yaml.safe_load(cli.ROOT.joinpath("bot/domain/tickets.yml").read_text())
    return str(domain["responses"][name][0]["text"])


def test_the_simulated_citizen_answers_each_question_of_the_ticket_form() -> None:
    answers = {
        name: bench.ticket_answer([_question(name)])
        for name in (
            "utter_ask_ticket_type",
            "utter_ask_ticket_description",
            "utter_ask_ticket_location",
            "utter_ask_ticket_time",
            "utter_ask_ticket_contact",
            "utter_ask_ticket_phone",
            "utter_ask_ticket_phone_confirmed",
            "utter_ask_ticket_reply_wanted",
        )
    }
    assert answers == {
        "utter_ask_ticket_type": "投诉",
        "utter_ask_ticket_description": bench.TICKET_ANSWERS[1][1],
        "utter_ask_ticket_location": "示例一区东城街道幸福路12号",
        "utter_ask_ticket_time": "上个月开始的",
        "utter_ask_ticket_contact": "王女士",
        "utter_ask_ticket_phone": "13812345678",
        "utter_ask_ticket_phone_confirmed": "对",
        "utter_ask_ticket_reply_wanted": "需要",
    }
    filed = "已为您登记投诉工单，工单编号：20261201000001。"
    assert bench.ticket_answer([filed]) is None


def test_a_run_reports_errors_throughput_and_percentiles_of_good_turns() -> None:
    run = bench.Run(seconds=2.0)
    run.turns = [bench.Turn("faq_popular", ms / 1000, True) for ms in range(1, 101)]
    run.turns.append(bench.Turn("ticket", 9.0, False))
    summary = run.summary()
    assert (summary["turns"], summary["errors"]) == (101, 1)
    assert summary["turns_per_second"] == 50.5
    assert summary["faq_turns_per_second"] == 50.0
    assert summary["latency_ms"]["faq_popular"]["p50"] == 50.5
    assert "ticket" not in summary["latency_ms"]


def test_throughput_counts_only_the_turns_answered_within_the_load() -> None:
    run = bench.Run(seconds=2.0)
    run.turns = [bench.Turn("faq_popular", 0.01, True, ended) for ended in (1.0, 1.5)]
    run.turns.append(bench.Turn("faq_popular", 5.0, True, 7.0))  # after the load
    summary = run.summary()
    assert summary["turns_per_second"] == summary["faq_turns_per_second"] == 1.0
    assert summary["latency_ms"]["all"]["p99"] > 4900


def _measured(turns_per_second: float, p50: float, rss: dict) -> dict:
    latency = {"all": {"p50": p50, "p95": p50, "p99": p50}}
    return {
        "first_answer_seconds": 20.0,
        "one_citizen": {"latency_ms": latency},
        "2_citizens": {
            "turns_per_second": turns_per_second,
            "faq_turns_per_second": turns_per_second / 2,
            "errors": 0,
            "latency_ms": latency,
        },
        "2_citizens_faq_paced": {
            "faq_turns_per_second": turns_per_second,
            "errors": 0,
            "latency_ms": latency,
        },
        "peak_rss_mb": rss,
    }


def test_the_report_compares_what_was_measured_and_marks_what_was_not() -> None:
    results = {
        "seconds": 10,
        "hotline": _measured(20.0, 100.0, {"rasa_server": 900.0, "ticket_api": 90.0}),
        "cluster": _measured(30.0, 80.0, {"rasa-1": 800.0, "rasa-2": 950.0}),
    }
    lines = bench.report(results, 2).splitlines()
    assert "集群（两实例 + nginx）" in lines[0]
    assert "| 2 人并发 吞吐（轮/秒） | 20 | 30 | 未测 | – |" in lines
    assert "| Rasa 进程峰值内存（MB） | 900 | 950 | 未测 | – |" in lines
    results["baseline"] = _measured(5.0, 400.0, {"rasa_server": 1400.0})
    results["faq_rate"] = 100
    del results["cluster"]
    lines = bench.report(results, 2).splitlines()
    assert "| 2 人只问 FAQ、共 100 问/秒：FAQ 吞吐（轮/秒） | 20 | 5 | 4.0× |" in lines
    assert "`make bench`（2 人并发 10 秒" in lines[-1]
    results["command"] = "python -m bot.bench --seconds 10"
    assert "`python -m bot.bench --seconds 10`（" in bench.report(results, 2)
    assert "| 2 人并发 吞吐（轮/秒） | 20 | 5 | 4.0× |" in lines
    assert "| 2 人并发 FAQ 吞吐（轮/秒） | 10 | 2.5 | 4.0× |" in lines
    assert "| 2 人并发 p50（毫秒） | 100 | 400 | 4.0× |" in lines


class _Chat:
    """A socket.io client stand-in: each message is answered at once, twice."""

    def __init__(self, inbox: asyncio.Queue) -> None:
        self.inbox = inbox

    async def emit(self, event: str, data: Any) -> None:
        self.inbox.put_nowait({"text": f"答：{data['message']}"})
        self.inbox.put_nowait({"text": "还有什么可以帮您？"})


def test_the_first_answer_is_the_first_turn_not_the_first_visit() -> None:
    run = bench.Run(started=100.0)
    for ended in (1.5, 2.0, 4.0):  # a three-turn visit, the assistant up at 100
        run.turns.append(bench.Turn("ticket", 0.1, True, ended))
    assert run.first_answer(since=90.0) == 11.5


async def test_a_web_chat_turn_is_timed_to_its_first_answer_not_the_quiet_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench.SocketCitizen, "QUIET", 1.0)
    citizen = bench.SocketCitizen("http://unused")
    citizen._client = _Chat(citizen._inbox)  # type: ignore[assignment]
    seconds, texts = await citizen.say("公积金怎么取")
    assert texts == ["答：公积金怎么取", "还有什么可以帮您？"]
    assert seconds < bench.SocketCitizen.QUIET


@asynccontextmanager
async def _rest_channel(
    delay: float, senders: List[str] | None = None
) -> AsyncIterator[str]:
    """A REST channel stand-in that answers every message after `delay` seconds.

    The address of each request is appended to `senders`.
    """

    async def answer(request: web.Request) -> web.Response:
        if senders is not None:
            senders.append(str(request.remote))
        body = await request.json()
        await asyncio.sleep(delay)
        return web.json_response([{"text": f"答：{body['message']}"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("delay", [0.0, 1.0])
async def test_paced_citizens_offer_their_rate_however_slow_the_answers(
    delay: float,
) -> None:
    # Four REST citizens, a visit every half second each, for two seconds: even
    # when each answer takes a second, they do not wait for it to ask again.
    async with _rest_channel(delay) as url:
        paced = await bench._citizens(url, 4, 2.0, 10**9, bench._faq_question, 0.5)
    assert paced.summary()["errors"] == 0
    assert 12 <= len(paced.turns) <= 16


async def test_unpaced_citizens_ask_again_as_soon_as_answered() -> None:
    async with _rest_channel(0.0) as url:
        run = await bench._citizens(url, 4, 2.0, 10**9, bench._faq_question)
    assert len(run.turns) > 64  # far more than four citizens paced at 2 a second


async def test_spread_citizens_each_come_from_a_network_of_their_own() -> None:
    senders: List[str] = []
    async with _rest_channel(0.0, senders) as url:
        await bench._citizens(url, 3, 0.5, 10**9, bench._faq_question, spread=True)
    assert {sender.rsplit(".", 1)[0] for sender in senders} == {
        "127.0.1",
        "127.0.2",
        "127.0.3",
    }


async def test_a_web_chat_that_never_confirms_is_an_error_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def never_confirmed(self: bench.SocketCitizen) -> None:
        raise asyncio.TimeoutError

    monkeypatch.setattr(bench.SocketCitizen, "connect", never_confirmed)
    async with _rest_channel(0.0) as url:  # citizens 0-3 on REST, 4 on socket.io
        run = await bench._citizens(url, 5, 0.5, 10**9, bench._faq_question)
    assert run.summary()["errors"] >= 1
    assert len(run.turns) > run.summary()["errors"]  # the REST citizens went on


async def test_paced_long_tail_questions_are_never_asked_twice() -> None:
    class Citizen:
        said: List[str] = []

        async def say(self, text: str) -> Tuple[float, List[str]]:
            self.said.append(text)
            return 0.01, ["答"]

    citizen, rng, run = Citizen(), random.Random(7), bench.Run(seconds=1.0)
    for _ in range(300):
        await bench._faq_question(citizen, rng, {"faq": ["公积金怎么取"]}, run, True)
    long_tail = [text for text in citizen.said if text.startswith("公积金怎么取 ")]
    assert len(long_tail) > 50
    assert len(set(long_tail)) == len(long_tail)
    assert len(set(citizen.said) - set(long_tail)) <= len(bench.POPULAR)
