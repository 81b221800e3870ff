from actions.faq import (
    ActionAnswerFaq,
    ActionClarify,
    ActionFaqFollowup,
    followup_aspect,
)
from tests.actions.conftest import ANSWER, bot, run, user

UNCLEAR = user(
    "那个卡的事",
    "nlu_fallback",
    ranking=[
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "faq", "confidence": 0.45},
        {"name": "complaint", "confidence": 0.3},
        {"name": "greet", "confidence": 0.1},
    ],
    faq_ranking=[
        {"intent_response_key": "faq/shebao_card_reissue", "confidence": 0.3},
        {"intent_response_key": "faq/gongjijin_withdraw_rent", "confidence": 0.25},
        {"intent_response_key": "faq/unknown_topic", "confidence": 0.1},
    ],
)


async def test_clarify_offers_the_likeliest_topics_as_buttons() -> None:
    messages, events = await run(ActionClarify(), UNCLEAR)
    assert events == []
    assert [m["response"] for m in messages] == ["utter_clarify"]
    assert messages[0]["buttons"] == [
        {
            "title": "社保卡补换（社会保险）",
            "payload": '/choose_faq{"faq_topic":"shebao_card_reissue"}',
        },
        {
            "title": "租房提取公积金（住房公积金）",
            "payload": '/choose_faq{"faq_topic":"gongjijin_withdraw_rent"}',
        },
        {"title": "我要投诉", "payload": "/complaint"},
        {"title": "都不是", "payload": "/none_of_these"},
    ]


async def test_second_failure_in_a_row_offers_ticket_or_human() -> None:
    messages, _ = await run(
        ActionClarify(), UNCLEAR, bot("请选择", "utter_clarify"), UNCLEAR
    )
    assert [m["response"] for m in messages] == ["utter_offer_ticket_or_human"]


async def test_clarify_without_candidates_offers_ticket_or_human() -> None:
    messages, _ = await run(ActionClarify(), user("啊啊啊", "nlu_fallback"))
    assert [m["response"] for m in messages] == ["utter_offer_ticket_or_human"]


async def test_answer_the_chosen_faq() -> None:
    chosen = user(
        '/choose_faq{"faq_topic":"shebao_card_reissue"}',
        "choose_faq",
        entities=[{"entity": "faq_topic", "value": "shebao_card_reissue"}],
    )
    messages, _ = await run(ActionAnswerFaq(), UNCLEAR, chosen)
    assert [m["response"] for m in messages] == ["utter_faq/shebao_card_reissue"]


async def test_an_unknown_chosen_topic_is_not_answered() -> None:
    chosen = user(
        "/choose_faq",
        "choose_faq",
        entities=[{"entity": "faq_topic", "value": "no_such_topic"}],
    )
    messages, _ = await run(ActionAnswerFaq(), chosen)
    assert [m["response"] for m in messages] == ["utter_offer_ticket_or_human"]


async def test_followup_answers_the_asked_part_of_the_last_answer(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_PROFILE", "")
    messages, _ = await run(
        ActionFaqFollowup(),
        user("社保卡丢了", "faq"),
        bot(ANSWER, "utter_faq/shebao_card_reissue"),
        user("那需要带什么材料", "faq_followup"),
    )
    assert messages[0]["text"] == "关于「社保卡补换」，材料：本人有效身份证件。"


async def test_followup_on_a_part_the_answer_lacks_repeats_the_answer() -> None:
    messages, _ = await run(
        ActionFaqFollowup(),
        bot(ANSWER, "utter_faq/shebao_card_reissue"),
        user("要多少钱", "faq_followup"),
    )
    assert [m["response"] for m in messages] == [
        "utter_followup_not_listed",
        "utter_faq/shebao_card_reissue",
    ]


async def test_followup_on_the_phone_repeats_the_spoken_answer() -> None:
    messages, _ = await run(
        ActionFaqFollowup(),
        bot(ANSWER, "utter_faq/shebao_card_reissue"),
        user("要带什么材料", "faq_followup", channel="ivr"),
    )
    assert [m["response"] for m in messages] == ["utter_faq/shebao_card_reissue"]


async def test_followup_without_an_earlier_answer_asks_for_the_topic() -> None:
    messages, _ = await run(ActionFaqFollowup(), user("那要带啥", "faq_followup"))
    assert [m["response"] for m in messages] == ["utter_ask_topic"]


def test_followup_aspects() -> None:
    assert followup_aspect("那需要带什么材料") == "材料"
    assert followup_aspect("收费吗") == "费用"
    assert followup_aspect("几天能办好") == "时限"
    assert followup_aspect("在哪里办") == "渠道"
    assert followup_aspect("好的") is None


async def test_clarify_ranks_faqs_and_other_intents_on_one_scale() -> None:
    message = user(
        "那个事",
        "nlu_fallback",
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.4},
            {"name": "complaint", "confidence": 0.35},
            {"name": "faq", "confidence": 0.3},
        ],
        faq_ranking=[
            {"intent_response_key": "faq/shebao_card_reissue", "confidence": 0.2},
            {"intent_response_key": "faq/gongjijin_withdraw_rent", "confidence": 0.1},
        ],
    )
    messages, _ = await run(ActionClarify(), message)
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        "/complaint",
        '/choose_faq{"faq_topic":"shebao_card_reissue"}',
        '/choose_faq{"faq_topic":"gongjijin_withdraw_rent"}',
        "/none_of_these",
    ]
