"""Repeated messages skip the NLU graph, and nothing else changes."""

from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from rasa.core.processor import MessageProcessor

from bot import parse_cache


class Graph:
    """Stands in for the NLU graph: counts its runs."""

    def __init__(self) -> None:
        self.runs: List[str] = []

    def __call__(
        self, processor: Any, message: Any, tracker: Any, only_output: bool
    ) -> Dict[str, Any]:
        self.runs.append(message.text)
        return {"text": message.text, "intent": {"name": "faq", "confidence": 0.9}}


def _message(text: str) -> SimpleNamespace:
    return SimpleNamespace(text=text)


def test_a_repeated_text_skips_the_graph_and_reads_the_same() -> None:
    graph = Graph()
    parse = parse_cache.cached(graph)
    processor = SimpleNamespace()
    first = parse(processor, _message("公积金怎么提取"), None, True)
    second = parse(processor, _message("公积金怎么提取"), None, True)
    parse(processor, _message("社保卡丢了怎么补办"), None, True)
    assert second == first
    assert graph.runs == ["公积金怎么提取", "社保卡丢了怎么补办"]


def test_callers_cannot_change_what_the_next_citizen_gets() -> None:
    parse = parse_cache.cached(Graph())
    processor = SimpleNamespace()
    parse(processor, _message("结婚登记"), None, True)["intent"]["name"] = "changed"
    parse(processor, _message("结婚登记"), None, True)["intent"]["name"] = "changed"
    assert parse(processor, _message("结婚登记"), None, True)["intent"]["name"] == "faq"


def test_each_loaded_model_has_its_own_cache() -> None:
    graph = Graph()
    parse = parse_cache.cached(graph)
    parse(SimpleNamespace(), _message("你好"), None, True)
    parse(SimpleNamespace(), _message("你好"), None, True)
    assert graph.runs == ["你好", "你好"]


def test_the_oldest_text_goes_first_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NLU_CACHE_SIZE", "2")
    graph = Graph()
    parse = parse_cache.cached(graph)
    processor = SimpleNamespace()
    for text in ["一", "二", "一", "三", "一", "二"]:
        parse(processor, _message(text), None, True)
    assert graph.runs == ["一", "二", "三", "二"]


def test_size_zero_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NLU_CACHE_SIZE", "0")
    graph = Graph()
    parse = parse_cache.cached(graph)
    processor = SimpleNamespace()
    for _ in range(3):
        parse(processor, _message("你好"), None, True)
    assert len(graph.runs) == 3


def test_texts_with_personal_numbers_are_never_kept() -> None:
    graph = Graph()
    parse = parse_cache.cached(graph)
    processor = SimpleNamespace()
    for _ in range(2):
        parse(processor, _message("我的电话是13812345678"), None, True)
    assert len(graph.runs) == 2


def test_the_rasa_server_installs_it_once() -> None:
    import connectors  # noqa: F401  (the Rasa server loads the channels first)

    installed = MessageProcessor._parse_message_with_graph
    parse_cache.install()
    assert MessageProcessor._parse_message_with_graph is installed
    assert hasattr(installed, "uncached")
