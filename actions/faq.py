"""Actions around FAQ answers: clarifying an uncertain question, follow-up questions.

A confident FAQ answer needs no action at all (NLU + a rule + a response); these run
only when the assistant is unsure or the citizen asks on about the last answer.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import DOMAINS, load_faqs
from bot.profile import SPOKEN_CHANNELS, fill

FAQ_PREFIX = "utter_faq/"
FALLBACK_INTENT = "nlu_fallback"
# Intents a citizen may have meant when the assistant is unsure, as button titles.
INTENT_TITLES = {
    "complaint": "我要投诉",
    "help_request": "我要求助",
    "report": "我要举报",
    "suggestion": "我要提建议",
    "check_ticket_status": "查询工单进度",
    "request_human": "转人工服务",
}
# What a follow-up asks about, as the answer label that holds it and the words
# citizens use for it (checked in this order).
FOLLOWUP_ASPECTS = {
    "材料": ("材料", "带什么", "带啥", "证件", "资料", "准备什么", "要什么"),
    "费用": ("钱", "费", "免费"),
    "时限": ("多久", "几天", "多长时间", "时限", "什么时候", "多快"),
    "条件": ("条件", "资格", "符合", "能不能办", "谁可以"),
    "渠道": ("哪里", "哪儿", "在哪", "去哪", "网上", "线上", "代办", "本人", "窗口", "怎么办理"),
}
MAX_CHOICES = 3


def _user_events(tracker: Tracker) -> Iterable[Dict[str, Any]]:
    return (e for e in reversed(tracker.events) if e.get("event") == "user")


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    for event in _user_events(tracker):
        if (event.get("parse_data") or {}).get("intent", {}).get(
            "name"
        ) != FALLBACK_INTENT:
            break
        count += 1
    return count


def last_faq_key(tracker: Tracker) -> str | None:
    """The FAQ the assistant answered last in this conversation, if any."""
    for event in reversed(tracker.events):
        action = (event.get("metadata") or {}).get("utter_action") or ""
        if event.get("event") == "bot" and action.startswith(FAQ_PREFIX):
            return action[len(FAQ_PREFIX) :]
    return None


def followup_aspect(text: str) -> str | None:
    """The answer label a follow-up question asks about ("材料", "费用"…)."""
    for label, words in FOLLOWUP_ASPECTS.items():
        if any(word in text for word in words):
            return label
    return None


def answer_section(answer: str, label: str) -> str | None:
    """The line of a written answer that starts with ``label：``."""
    for line in answer.splitlines():
        if line.startswith(f"{label}："):
            return line
    return None


def clarify_buttons(parse_data: Dict[str, Any]) -> List[Dict[str, str]]:
    """Buttons for the two or three most likely meanings of an unclear message.

    An FAQ candidate scores the FAQ intent's confidence scaled by how its answer
    compares with the best answer, so FAQs and other intents rank on one scale.
    """
    faqs = load_faqs()
    faq_ranking = ((parse_data.get("response_selector") or {}).get("faq") or {}).get(
        "ranking"
    ) or []
    top_answer = max((c.get("confidence", 0.0) for c in faq_ranking), default=0.0)
    scored: List[Tuple[float, Dict[str, str]]] = []
    for intent in parse_data.get("intent_ranking") or []:
        name, confidence = intent.get("name"), intent.get("confidence", 0.0)
        if name == "faq" and top_answer > 0:
            for candidate in faq_ranking[:2]:
                key = candidate.get("intent_response_key", "").split("/", 1)[-1]
                if key in faqs:
                    faq = faqs[key]
                    share = candidate.get("confidence", 0.0) / top_answer
                    button = {
                        "title": f"{faq.title}（{DOMAINS.get(faq.domain, '')}）",
                        "payload": f'/choose_faq{{"faq_topic":"{key}"}}',
                    }
                    scored.append((confidence * share, button))
        elif name in INTENT_TITLES:
            scored.append(
                (confidence, {"title": INTENT_TITLES[name], "payload": f"/{name}"})
            )
    scored.sort(key=lambda item: -item[0])
    return [button for _, button in scored[:MAX_CHOICES]]


class ActionClarify(Action):
    """Asks which of the likeliest topics was meant; after repeated failure offers help."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        buttons = clarify_buttons(tracker.latest_message)
        if consecutive_fallbacks(tracker) > 1 or not buttons:
            dispatcher.utter_message(response="utter_offer_ticket_or_human")
            return []
        buttons.append({"title": "都不是", "payload": "/none_of_these"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


class ActionAnswerFaq(Action):
    """Answers the FAQ the citizen picked from the clarifying buttons."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        key = next(tracker.get_latest_entity_values("faq_topic"), None)
        if key in load_faqs():
            dispatcher.utter_message(response=f"{FAQ_PREFIX}{key}")
        else:
            dispatcher.utter_message(response="utter_offer_ticket_or_human")
        return []


class ActionFaqFollowup(Action):
    """Answers "那需要带什么材料" about the FAQ answered last."""

    def name(self) -> str:
        return "action_faq_followup"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[str, Any],
    ) -> List[Dict[str, Any]]:
        key = last_faq_key(tracker)
        if key is None:
            dispatcher.utter_message(response="utter_ask_topic")
            return []
        utter_action = f"{FAQ_PREFIX}{key}"
        channel = tracker.get_latest_input_channel() or ""
        aspect = followup_aspect(tracker.latest_message.get("text") or "")
        faq = load_faqs().get(key)
        answer = faq.answer if faq else ""
        section = answer_section(answer, aspect) if answer and aspect else None
        if section and faq and channel not in SPOKEN_CHANNELS:
            dispatcher.utter_message(text=fill(f"关于「{faq.title}」，{section}", channel))
        else:
            if aspect and answer and not section:
                dispatcher.utter_message(response="utter_followup_not_listed")
            dispatcher.utter_message(response=utter_action)
        return []
