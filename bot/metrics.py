"""What the Rasa server counts for Prometheus: turns, latency, fallbacks, tickets, handoffs.

Channels time every turn (``connectors.turns.guarded``); the tracker store reads
what each turn did (``count_turn``). ``/webhooks/ops/metrics`` (``connectors/ops.py``) serves them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

REGISTRY = CollectorRegistry()
TURNS = Counter(
    "hotline_turns", "Citizen messages handled", ["channel"], registry=REGISTRY
)
TURN_SECONDS = Histogram(
    "hotline_turn_seconds",
    "Time from a citizen's message to the assistant's answer",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
CHANNEL_ERRORS = Counter(
    "hotline_channel_errors",
    "Turns a channel could not complete",
    ["channel"],
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "hotline_fallbacks", "Messages the assistant was unsure of", registry=REGISTRY
)
RATE_LIMITED = Counter(
    "hotline_rate_limited",
    "Messages or requests refused by a rate limit",
    ["channel", "kind"],
    registry=REGISTRY,
)
TICKETS = Counter(
    "hotline_tickets_filed", "Tickets filed", ["channel"], registry=REGISTRY
)
HANDOFFS = Counter(
    "hotline_handoffs", "Requests for a human agent", ["channel"], registry=REGISTRY
)


def count_turn(tracker: DialogueStateTracker) -> None:
    """Counts what the latest turn did: a fallback, a filed ticket, a handoff."""
    channel = tracker.get_latest_input_channel() or "rest"
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if (event.intent or {}).get("name") == "nlu_fallback":
                FALLBACKS.inc()
            return
        if isinstance(event, SlotSet) and event.key == "ticket_number" and event.value:
            TICKETS.labels(channel).inc()
        if isinstance(event, ActionExecuted) and event.action_name == "action_handoff":
            HANDOFFS.labels(channel).inc()
