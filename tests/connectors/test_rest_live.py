"""Whole turns over REST against the live assistant: what a citizen reads, message by message."""

import requests

from tests.connectors.conftest import Live


def say(live: Live, sender: str, text: str) -> list:
    reply = requests.post(
        f"{live.rasa}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    return [message.get("text") for message in reply.json()]


def test_asking_to_file_a_ticket_in_words_gets_just_the_first_question(
    live: Live,
) -> None:
    for sender, words in (("rest-a", "我要登记诉求"), ("rest-b", "我想反映个问题")):
        assert say(live, sender, words) == ["请问您要反映的是哪一类诉求？"]


def test_an_faq_is_answered_over_rest(live: Live) -> None:
    [answer] = say(live, "rest-c", "社保卡丢了怎么补办")
    assert "社保卡" in answer and "材料" in answer
