"""The petition ticket (工单): its record, its types and their time limits."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List
from zoneinfo import ZoneInfo

import yaml

TICKETS_CONFIG = Path(__file__).resolve().parent.parent / "bot" / "tickets.yml"
TIMEZONE = ZoneInfo("Asia/Shanghai")
STATUSES = ("已受理", "办理中", "已办结")
URGENT = "紧急"
NORMAL = "普通"


@lru_cache(maxsize=1)
def ticket_config() -> Dict[str, Any]:
    """Ticket types, time limits, holidays and the category taxonomy."""
    with open(TICKETS_CONFIG, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def now() -> datetime:
    """The hotline's local time."""
    return datetime.now(TIMEZONE)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`, skipping weekends and holidays."""
    config = ticket_config()
    holidays = {str(d) for d in config.get("holidays") or []}
    workdays = {str(d) for d in config.get("workdays") or []}
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        iso = current.isoformat()
        working = (current.weekday() < 5 and iso not in holidays) or iso in workdays
        remaining -= working
    return current


@dataclass
class Ticket:
    """A ticket as filed; phone and ID numbers are kept whole only here."""

    type: str
    description: str
    channel: str
    conversation_id: str
    location: str | None = None
    incident_time: str | None = None
    contact_name: str = "匿名"
    phone: str | None = None
    reply_wanted: bool = True
    category: str | None = None
    department: str | None = None
    routing_confidence: float = 0.0
    priority: str = NORMAL
    number: str = ""
    status: str = STATUSES[0]
    created_at: str = ""
    due_date: str = ""
    reply: str | None = None
    history: List[Dict[str, str]] = field(default_factory=list)

    @property
    def type_name(self) -> str:
        """The type's Chinese name (投诉, 求助…)."""
        return str(ticket_config()["types"][self.type]["name"])

    def sla_days(self) -> int:
        """Working days allowed for this ticket."""
        config = ticket_config()
        if self.priority == URGENT:
            return int(config["urgent_sla_days"])
        return int(config["types"][self.type]["sla_days"])

    def stamped(self, number: str, at: datetime) -> Ticket:
        """A copy with its number, creation time and due date set."""
        due = add_working_days(at.date(), self.sla_days())
        return dataclasses.replace(
            self, number=number, created_at=at.isoformat(), due_date=due.isoformat()
        )

    def idempotency_key(self, started_at: str) -> str:
        """Same form, same conversation, same start → same key (one ticket)."""
        parts = [self.conversation_id, started_at, self.type, self.description]
        parts += [self.location or "", self.phone or "", self.contact_name]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def to_dict(self) -> Dict[str, Any]:
        """A plain dict (for JSON and storage)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> Ticket:
        """The ticket of a dict made by `to_dict` (unknown keys ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
