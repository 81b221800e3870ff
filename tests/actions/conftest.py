from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import faq as faq_actions
from actions import handoff, rating, status, tickets
from actions.store.sqlite_store import SQLiteTicketStore
from bot.knowledge import Faq

ANSWER = "社保卡补换：\n材料：本人有效身份证件。\n渠道：社保卡服务网点或电子社保卡。\n" "具体要求以{city}人社部门公布为准。"
FAQS = {
    "shebao_card_reissue": Faq(
        "shebao_card_reissue",
        "社保卡补换",
        "社保卡丢了怎么补办？",
        "《社会保障卡管理办法》",
        "2026-11-27",
        ANSWER,
    ),
    "gongjijin_withdraw_rent": Faq(
        "gongjijin_withdraw_rent", "租房提取公积金", "租房怎么提取公积金？", "《住房公积金管理条例》", "2026-11-27"
    ),
}


@pytest.fixture(autouse=True)
def small_knowledge_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faq_actions, "load_faqs", lambda: FAQS)


@pytest.fixture(autouse=True)
def no_trained_router(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No router is loaded into the tests, in the background or by filing."""
    monkeypatch.setattr(tickets, "warm_router", lambda: None)
    monkeypatch.setattr(tickets, "latest_router_dir", lambda: None)
    tickets._trained_router.cache_clear()
    yield
    tickets._trained_router.cache_clear()


def user(
    text: str,
    intent: str,
    ranking: List[Dict[str, Any]] | None = None,
    faq_ranking: List[Dict[str, Any]] | None = None,
    entities: List[Dict[str, Any]] | None = None,
    channel: str = "socketio",
    metadata: Dict[str, Any] | None = None,
) -> Dict[str, Any]:
    """A user event as Rasa posts it to the action server."""
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "metadata": metadata or {},
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
            "entities": entities or [],
            "response_selector": {"faq": {"ranking": faq_ranking or []}},
        },
    }


def bot(text: str, utter_action: str) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": utter_action}}


def tracker(*events: Dict[str, Any], slots: Dict[str, Any] | None = None) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        sender_id="citizen",
        slots=dict(slots or {}),
        latest_message={**latest["parse_data"], "text": latest["text"]},
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _merged_domain() -> Dict[str, Any]:
    merged: Dict[str, Any] = {"forms": {}, "slots": {}}
    for path in sorted(Path("bot/domain").glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        merged["forms"].update(content.get("forms") or {})
        merged["slots"].update(content.get("slots") or {})
    return merged


DOMAIN = _merged_domain()


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run(action, *events, slots=None):
    """Runs an action on a tracker of `events` and `slots`: (messages, events)."""
    dispatcher = CollectingDispatcher()
    result = await action.run(dispatcher, tracker(*events, slots=slots), DOMAIN)
    return dispatcher.messages, result


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SQLiteTicketStore:
    """A scratch ticket store every action files into (and no trained router)."""
    ticket_store = SQLiteTicketStore(str(tmp_path / "tickets.db"))
    for module in (tickets, rating, handoff, status):
        monkeypatch.setattr(module, "ticket_store", lambda: ticket_store)
    monkeypatch.setattr(tickets, "router", lambda: None)
    return ticket_store
