"""The FAQ knowledge base: each answer, what it is called and what it rests on.

Answers are domain responses (``bot/domain/faq_<domain>.yml``); the records in
``bot/kb/faq_<domain>.yml`` hold each answer's button title, canonical question,
policy basis and review date. The action server reads both from here, so it needs
no copy of the domain from the Rasa server.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict

import yaml

KB_DIR = Path(__file__).with_name("kb")
DOMAIN_DIR = Path(__file__).with_name("domain")

DOMAINS: Dict[str, str] = {
    "shebao": "社会保险",
    "yibao": "医疗保障",
    "gongjijin": "住房公积金",
    "hukou": "户籍证件",
    "churujing": "出入境",
    "jiaoguan": "车驾管",
    "shangshi": "企业开办",
    "shuiwu": "税务",
    "budongchan": "不动产登记",
    "hunyin": "婚姻登记",
    "shengyu": "生育",
    "jiaoyu": "教育",
    "jiuye": "就业创业",
    "minzheng": "民政",
    "zhufang": "住房保障",
    "gongyong": "水电气暖",
    "weijian": "卫生健康",
    "zhengwu": "政务服务",
}


@dataclass(frozen=True)
class Faq:
    """One answer of the knowledge base."""

    key: str
    title: str
    question: str
    basis: str
    reviewed: str
    answer: str = ""  # the written (channel-neutral) answer text

    @property
    def domain(self) -> str:
        """The service-domain code, the part of the key before the first ``_``."""
        return self.key.split("_", 1)[0]

    @property
    def utter_action(self) -> str:
        """The domain response holding the answer."""
        return f"utter_faq/{self.key}"


@lru_cache(maxsize=1)
def load_faqs() -> Dict[str, Faq]:
    """All knowledge-base records, by key (``shebao_card_apply``)."""
    faqs: Dict[str, Faq] = {}
    for path in sorted(KB_DIR.glob("faq_*.yml")):
        answers = _written_answers(DOMAIN_DIR / path.name)
        with open(path, encoding="utf-8") as handle:
            for key, record in (yaml.safe_load(handle) or {}).items():
                faqs[key] = Faq(
                    key=key,
                    title=record["title"],
                    question=record["question"],
                    basis=record["basis"],
                    reviewed=str(record["reviewed"]),
                    answer=answers.get(key, ""),
                )
    return faqs


def _written_answers(path: Path) -> Dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        responses = (yaml.safe_load(handle) or {}).get("responses") or {}
    prefix = "utter_faq/"
    return {
        name[len(prefix) :]: next(
            (v["text"] for v in variants if not v.get("channel")), ""
        )
        for name, variants in responses.items()
        if name.startswith(prefix)
    }
