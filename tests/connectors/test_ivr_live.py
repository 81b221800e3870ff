"""A scripted phone system calls the live assistant: FAQ, a ticket by keypad, a transfer."""

import json
import re
from typing import Any, Dict, List

import requests

from tests.connectors.conftest import Live, ivr_signature

CALLER = "13812345678"
# What text-to-speech must never be handed.
UNSPEAKABLE = re.compile(r"https?://|www\.|[*#|`>]|\d{5,}|[\U0001F300-\U0001FAFF]")


class Phone:
    """One call, as the phone system drives it."""

    def __init__(self, live: Live, call_id: str) -> None:
        self.url = f"{live.rasa}/webhooks/ivr/webhook"
        self.call_id = call_id
        self.heard: List[str] = []

    def send(self, event: str, **fields: Any) -> Dict[str, Any]:
        body = json.dumps(
            {"call_id": self.call_id, "caller": CALLER, "event": event, **fields},
            ensure_ascii=False,
        ).encode()
        reply = requests.post(
            self.url,
            data=body,
            headers={"X-IVR-Signature": ivr_signature(body)},
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        for prompt in answer["prompts"]:
            assert not UNSPEAKABLE.search(prompt), prompt
        self.heard.extend(answer["prompts"])
        return answer

    def say(self, text: str) -> Dict[str, Any]:
        return self.send("utterance", text=text, asr_confidence=0.92)

    def press(self, key: str) -> Dict[str, Any]:
        return self.send("dtmf", dtmf=key)


def test_a_caller_asks_an_faq_and_hears_a_speakable_answer(live: Live) -> None:
    phone = Phone(live, "live-faq")
    greeting = phone.send("call_start")
    assert greeting["action"] == "continue" and "热线" in greeting["prompts"][0]
    answer = phone.say("社保卡丢了怎么补办")
    assert any("社保卡" in prompt for prompt in answer["prompts"])
    assert phone.send("call_end")["action"] == "hangup"


def test_a_caller_files_a_ticket_with_the_keypad_and_the_caller_number(
    live: Live,
) -> None:
    phone = Phone(live, "live-ticket")
    phone.send("call_start")
    phone.say("我要投诉楼下饭店每天半夜油烟扰民，窗户都不敢开")
    phone.say("示例一区东城街道幸福路12号")
    asked = phone.say("王先生")
    # The caller's number is offered, read digit by digit, and confirmed by key.
    assert "幺三八幺二三四五六七八" in asked["prompts"][0]
    assert asked["prompts"][-1] == "请说对或按1，说不对或按2。"
    phone.press("1")  # the number is right
    summary = phone.press("1")  # a reply is wanted
    assert "核对" in summary["prompts"][0] and "尾号五六七八" in summary["prompts"][0]
    filed = phone.press("1")  # confirm
    assert any("工单编号" in prompt for prompt in filed["prompts"])

    tickets = requests.get(
        f"{live.api}/tickets",
        headers={"Authorization": f"Bearer {live.env['TICKET_API_TOKEN']}"},
        timeout=30,
    ).json()["tickets"]
    [ticket] = [t for t in tickets if t["conversation_id"] == "ivr-live-ticket"]
    assert (ticket["channel"], ticket["phone"], ticket["type"]) == (
        "ivr",
        CALLER,
        "complaint",
    )
    spoken_number = "".join("零幺二三四五六七八九"[int(d)] for d in ticket["number"])
    assert any(spoken_number in prompt for prompt in filed["prompts"])


def test_asking_for_a_person_transfers_the_call_to_the_profile_queue(
    live: Live,
) -> None:
    phone = Phone(live, "live-transfer")
    phone.send("call_start")
    answer = phone.say("转人工")
    assert answer["action"] == "transfer"
    assert answer["transfer_target"] == "人工坐席"
