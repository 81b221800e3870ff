"""Health, readiness and the Prometheus metrics of the Rasa server."""

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.metrics import REGISTRY, count_turn
from connectors.ops import OpsInput
from connectors.turns import guarded


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_turns_are_timed_and_failures_counted() -> None:
    async def answer(message: UserMessage) -> None:
        return None

    async def fail(message: UserMessage) -> None:
        raise RuntimeError("down")

    turns = sample("hotline_turns_total", channel="test")
    await guarded("test", answer, apologise=False)(
        UserMessage("你好", CollectingOutputChannel(), "c1")
    )
    with pytest.raises(RuntimeError):
        await guarded("test", fail, apologise=False)(
            UserMessage("你好", CollectingOutputChannel(), "c1")
        )
    assert sample("hotline_turns_total", channel="test") == turns + 2
    assert sample("hotline_channel_errors_total", channel="test") >= 1
    assert sample("hotline_turn_seconds_count", channel="test") >= 2


def test_only_the_latest_turn_is_counted() -> None:
    domain = Domain.from_dict(
        {"slots": {"ticket_number": {"type": "any", "mappings": []}}}
    )
    tracker = DialogueStateTracker("citizen", domain.slots)
    before = (
        sample("hotline_fallbacks_total"),
        sample("hotline_tickets_filed_total", channel="ivr"),
        sample("hotline_handoffs_total", channel="ivr"),
    )
    tracker.update_with_events(
        [
            UserUttered("嗯嗯", {"name": "nlu_fallback"}, input_channel="ivr"),
            UserUttered("我要投诉", {"name": "complaint"}, input_channel="ivr"),
            SlotSet("ticket_number", "20261201000001"),
            ActionExecuted("action_handoff"),
        ],
        domain,
    )
    count_turn(tracker)
    after = (
        sample("hotline_fallbacks_total"),
        sample("hotline_tickets_filed_total", channel="ivr"),
        sample("hotline_handoffs_total", channel="ivr"),
    )
    assert after == (before[0], before[1] + 1, before[2] + 1)


@pytest.fixture
async def action_server():
    app = web.Application()
    app.router.add_get("/health", lambda request: web.json_response({"status": "ok"}))
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("/webhook"))
    await server.close()


def ops_app(token: str, action_server: str) -> Sanic:
    Sanic.test_mode = True
    app = Sanic(f"ops_{abs(hash((token, action_server)))}")
    app.blueprint(
        OpsInput(token, action_server).blueprint(None), url_prefix="/webhooks/ops"
    )
    return app


async def test_ready_only_when_the_action_server_answers(action_server) -> None:
    _, reply = await ops_app("", action_server).asgi_client.get("/webhooks/ops/ready")
    assert reply.status == 200 and reply.json["actions"] is True
    down = ops_app("", "http://127.0.0.1:9/webhook")
    _, reply = await down.asgi_client.get("/webhooks/ops/ready")
    assert reply.status == 503 and reply.json["status"] == "not ready"
    _, reply = await down.asgi_client.get("/webhooks/ops/health")
    assert reply.status == 200


async def test_metrics_are_served_and_need_the_token_when_set(action_server) -> None:
    app = ops_app("ops-token", action_server)
    _, reply = await app.asgi_client.get("/webhooks/ops/metrics")
    assert reply.status == 401
    _, reply = await app.asgi_client.get(
        "/webhooks/ops/metrics", headers={"Authorization": "Bearer ops-token"}
    )
    assert reply.status == 200
    assert "hotline_turn_seconds_bucket" in reply.text
    assert "hotline_tickets_filed_total" in reply.text


async def test_a_silent_turn_with_the_action_server_down_gets_an_apology(
    monkeypatch, action_server
) -> None:
    async def silent(message: UserMessage) -> None:
        return None

    async def answers(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "您好"})

    def turn(text: str = "我要投诉") -> UserMessage:
        return UserMessage(text, CollectingOutputChannel(), "c1", input_channel="web")

    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:9/webhook")
    down = turn()
    await guarded("web", silent)(down)
    [apology] = down.output_channel.messages
    assert apology["text"].startswith("抱歉，系统暂时出了点问题")
    assert "12345" in apology["text"]  # the profile's hotline

    restart = turn("/restart")
    await guarded("web", silent)(restart)
    assert restart.output_channel.messages == []  # control messages say nothing

    answered = turn()
    await guarded("web", answers)(answered)
    assert [m["text"] for m in answered.output_channel.messages] == ["您好"]

    monkeypatch.setenv("ACTION_SERVER_URL", action_server)
    paused = turn()
    await guarded("web", silent)(paused)
    assert paused.output_channel.messages == []  # silent for a reason: left alone
