"""The phone line: signed turns, spoken prompts and menus, silence, unclear speech."""

import copy
import json
from typing import Any, Dict, List

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.speech import menu_prompt, speakable
from connectors.ivr import OFFER_TRANSFER, UNAVAILABLE, IvrInput
from tests.connectors.conftest import SECRETS, ivr_signature

SECRET = SECRETS["IVR_SECRET"]


class Dialogue:
    """A stand-in for Rasa: records what it is sent and answers from a script."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.script: Dict[str, List[Dict[str, Any]]] = {
            "/greet": [{"text": "您好，这里是示例市一二三四五热线。请问有什么可以帮您？"}],
            "我要投诉": [
                {
                    "text": "请问您要反映的是哪一类诉求？",
                    "buttons": [
                        {"title": "投诉", "payload": "/choose_ticket_type"},
                        {"title": "求助", "payload": "/choose_help"},
                    ],
                }
            ],
            "沉默": [],
            "/request_human": [
                {"text": "好的，正在为您转接人工服务，请稍候。"},
                {"custom": {"transfer": "人工坐席"}},
            ],
        }

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if message.text == "崩溃":
            raise RuntimeError("dialogue down")
        answers = self.script.get(message.text, [{"text": f"收到：{message.text}"}])
        for answer in copy.deepcopy(answers):  # Rasa's send_response pops keys
            await message.output_channel.send_response(message.sender_id, answer)


@pytest.fixture
def dialogue() -> Dialogue:
    return Dialogue()


@pytest.fixture
def app(dialogue: Dialogue) -> Sanic:
    Sanic.test_mode = True
    app = Sanic("ivr_test")
    channel = IvrInput(secret=SECRET, min_asr_confidence=0.5, max_misses=2)
    app.blueprint(channel.blueprint(dialogue), url_prefix="/webhooks/ivr")
    return app


async def post(app: Sanic, turn: Any, secret: str = SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(turn, ensure_ascii=False).encode()
    _, reply = await app.asgi_client.post(
        "/webhooks/ivr/webhook",
        content=body,
        headers={"X-IVR-Signature": ivr_signature(body, secret)},
    )
    return reply


def turn(event: str, **fields: Any) -> Dict[str, Any]:
    return {"call_id": "call-1", "caller": "13812345678", "event": event, **fields}


async def test_a_call_is_greeted_and_the_caller_number_reaches_the_dialogue(
    app, dialogue
) -> None:
    reply = await post(app, turn("call_start"))
    assert reply.status == 200
    assert reply.json == {
        "prompts": ["您好，这里是示例市一二三四五热线。请问有什么可以帮您？"],
        "action": "continue",
        "transfer_target": None,
        "expect": "speech",
        "barge_in": True,
    }
    [message] = dialogue.received
    assert (message.text, message.sender_id, message.input_channel) == (
        "/greet",
        "ivr-call-1",
        "ivr",
    )
    assert message.metadata == {"caller": "13812345678"}


async def test_buttons_become_a_menu_answered_by_key_or_by_voice(app, dialogue) -> None:
    reply = await post(app, turn("utterance", text="我要投诉", asr_confidence=0.9))
    assert reply.json["prompts"] == [
        "请问您要反映的是哪一类诉求？",
        "请说投诉或按1，说求助或按2。",
    ]
    await post(app, turn("dtmf", dtmf="2"))
    assert dialogue.received[-1].text == "/choose_help"
    await post(app, turn("utterance", text="我要投诉", asr_confidence=0.9))
    await post(app, turn("utterance", text="投诉。", asr_confidence=0.9))
    assert dialogue.received[-1].text == "/choose_ticket_type"


async def test_an_unknown_key_repeats_the_menu_without_asking_the_dialogue(
    app, dialogue
) -> None:
    await post(app, turn("utterance", text="我要投诉", asr_confidence=0.9))
    sent = len(dialogue.received)
    reply = await post(app, turn("dtmf", dtmf="7"))
    assert reply.json["prompts"][0] == "抱歉，没有这个选项。"
    assert reply.json["prompts"][-1] == "请说投诉或按1，说求助或按2。"
    assert len(dialogue.received) == sent


async def test_silence_reprompts_twice_then_offers_a_person_then_says_goodbye(
    app, dialogue
) -> None:
    await post(app, turn("call_start"))
    first = await post(app, turn("no_input"))
    second = await post(app, turn("no_input"))
    assert first.json["prompts"][0] == second.json["prompts"][0] == "抱歉，没有听到您的声音。"
    assert first.json["prompts"][1].startswith("您好")  # the question again
    third = await post(app, turn("no_input"))
    assert third.json["prompts"][-1] == OFFER_TRANSFER
    assert third.json["expect"] == "dtmf"
    fourth = await post(app, turn("no_input"))
    assert fourth.json["action"] == "hangup" and fourth.json["barge_in"] is False
    assert [m.text for m in dialogue.received] == ["/greet"]


async def test_after_the_offer_zero_transfers_to_the_profile_queue(
    app, dialogue
) -> None:
    for _ in range(3):
        await post(app, turn("no_input"))
    reply = await post(app, turn("dtmf", dtmf="0"))
    assert dialogue.received[-1].text == "/request_human"
    assert reply.json["action"] == "transfer"
    assert reply.json["transfer_target"] == "人工坐席"
    assert reply.json["prompts"] == ["好的，正在为您转接人工服务，请稍候。"]


async def test_low_asr_confidence_asks_again_and_an_answer_resets_the_count(
    app, dialogue
) -> None:
    for _ in range(2):
        unclear = await post(app, turn("utterance", text="社保", asr_confidence=0.2))
        assert unclear.json["prompts"][0] == "抱歉，我没有听清，请您再说一遍。"
    assert dialogue.received == []
    await post(app, turn("utterance", text="社保卡丢了", asr_confidence=0.8))
    again = await post(app, turn("utterance", text="社保", asr_confidence=0.2))
    assert again.json["prompts"][0] == "抱歉，我没有听清，请您再说一遍。"
    assert again.json["action"] == "continue"


async def test_call_end_closes_the_conversation(app, dialogue) -> None:
    reply = await post(app, turn("call_end"))
    assert reply.json["action"] == "hangup" and reply.json["prompts"] == []
    assert dialogue.received[-1].text == "/restart"


async def test_a_failing_dialogue_hands_the_caller_to_a_person(app) -> None:
    reply = await post(app, turn("utterance", text="崩溃", asr_confidence=0.9))
    assert reply.status == 200
    assert reply.json["action"] == "transfer"
    assert reply.json["transfer_target"] == "人工坐席"


async def test_a_dialogue_that_says_nothing_hands_the_caller_to_a_person(app) -> None:
    reply = await post(app, turn("utterance", text="沉默", asr_confidence=0.9))
    assert reply.json["action"] == "transfer"
    assert reply.json["prompts"] == [UNAVAILABLE]


@pytest.mark.parametrize(
    "body, secret, status",
    [
        (json.dumps(turn("call_start")).encode(), "wrong-secret", 401),
        (b"{not json", SECRET, 400),
        ("\udcff".encode("utf-8", "surrogatepass"), SECRET, 400),
        (json.dumps([1, 2]).encode(), SECRET, 400),
        (json.dumps({"event": "utterance"}).encode(), SECRET, 400),
        (json.dumps(turn("shout")).encode(), SECRET, 400),
        (json.dumps(turn("utterance", text=5)).encode(), SECRET, 400),
        (json.dumps(turn("utterance", asr_confidence="high")).encode(), SECRET, 400),
        (b"{" + b" " * 20000 + b"}", SECRET, 413),
    ],
)
async def test_bad_requests_are_refused_before_the_dialogue(
    app, dialogue, body: bytes, secret: str, status: int
) -> None:
    reply = await post(app, None, secret=secret, raw=body)
    assert reply.status == status
    assert reply.json["error"]
    assert dialogue.received == []


async def test_without_a_secret_every_call_is_refused(dialogue) -> None:
    app = Sanic("ivr_unset")
    app.blueprint(IvrInput(secret="").blueprint(dialogue), url_prefix="/webhooks/ivr")
    reply = await post(app, turn("call_start"), secret="")
    assert reply.status == 401 and dialogue.received == []


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("您好。详情见 https://zwfw.example.gov.cn/x 。\n材料：身份证", "您好。材料：身份证"),
        ("您好😀！**请注意**", "您好！请注意"),
        ("工单编号：20261201000001", "工单编号：二零二六幺二零幺零零零零零幺"),
        ("服务时间08:30-21:00", "服务时间8点30分到21点"),
        ("| 材料 | 身份证 |", "材料 身份证"),
        ("请拨打12345。", "请拨打幺二三四五。"),
        ("电话：138****5678", "电话：尾号五六七八"),
    ],
)
def test_prompts_are_speakable(written: str, spoken: str) -> None:
    assert speakable(written) == spoken


def test_menus_read_at_most_nine_choices() -> None:
    prompt = menu_prompt([f"选项{n}" for n in range(1, 12)])
    assert prompt.endswith("说选项9或按9。") and "选项10" not in prompt
