"""Two Rasa instances and two action servers on one Redis, behind nginx.

The cluster starts once for this module (about a minute: two models load); the
tests talk to each instance directly and through nginx, kill parts of it and
restart Redis, and check that conversations and tickets survive.
"""

import re
from pathlib import Path
from typing import Iterator, List

import pytest
import requests
import yaml

from bot import cli
from bot.bench import TICKET_OPENING, ticket_answer
from bot.cluster import Cluster, Ports, cluster
from tests.conftest import _free_port
from tests.connectors.conftest import SECRETS

FILED = re.compile(r"工单编号：(\d{14})")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    model = cli.model_path()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` (make unit does)")
    workdir: Path = tmp_path_factory.mktemp("cluster")
    profile = yaml.safe_load(cli.ROOT.joinpath("bot/profile.yml").read_text("utf-8"))
    profile["staffed_hours"] = {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"}
    (workdir / "profile.yml").write_text(yaml.safe_dump(profile, allow_unicode=True))
    env = {
        "HOTLINE_PROFILE": str(workdir / "profile.yml"),
        "TICKET_API_TOKEN": SECRETS["TICKET_API_TOKEN"],
        "REDIS_PREFIX": "clustertest",
    }
    ports = Ports(
        public=_free_port(),
        actions=_free_port(),
        rasa=[_free_port(), _free_port()],
        action=[_free_port(), _free_port()],
        api=_free_port(),
        redis=_free_port(),
    )
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        with cluster(model, ports, workdir) as started:
            yield started


def say(base: str, sender: str, text: str) -> List[str]:
    reply = requests.post(
        f"{base}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    return [str(message.get("text", "")) for message in reply.json()]


def instance(running: Cluster, index: int) -> str:
    return f"http://127.0.0.1:{running.ports.rasa[index]}"


def public(running: Cluster) -> str:
    return f"http://127.0.0.1:{running.ports.public}"


def ticket(running: Cluster, number: str) -> dict:
    reply = requests.get(
        f"http://127.0.0.1:{running.ports.api}/tickets/{number}",
        headers={"Authorization": f"Bearer {SECRETS['TICKET_API_TOKEN']}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


class Citizen:
    """Someone filing a ticket, answering each question the form asks."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.replies: List[str] = []

    def say(self, base: str, text: str) -> None:
        self.replies = say(base, self.sender, text)

    def answer(self, base: str) -> bool:
        """Answers the latest question; False when none is asked."""
        text = ticket_answer(self.replies)
        if text is None:
            return False
        self.say(base, text)
        return True

    def finish(self, base: str) -> None:
        """Answers until the form stops asking (at most a dozen questions)."""
        for _ in range(12):
            if not self.answer(base):
                return

    def number(self) -> str:
        [number] = FILED.findall("".join(self.replies))
        return number


def file_ticket(bases: List[str], sender: str) -> str:
    """Files a ticket, turn i on bases[i % len(bases)]; its number."""
    citizen = Citizen(sender)
    citizen.say(bases[0], TICKET_OPENING)
    turn = 1
    while turn < 15 and citizen.answer(bases[turn % len(bases)]):
        turn += 1
    return citizen.number()


def test_turns_alternating_between_instances_keep_the_conversation(
    running: Cluster,
) -> None:
    number = file_ticket([instance(running, 0), instance(running, 1)], "alternate")
    stored = ticket(running, number)
    assert (stored["phone"], stored["contact_name"]) == ("13812345678", "王女士")
    assert "幸福路12号" in stored["location"]


def test_a_killed_instance_loses_no_ticket_and_the_other_carries_on(
    running: Cluster,
) -> None:
    first = instance(running, 0)
    number = file_ticket([first], "before-crash")
    citizen = Citizen("mid-crash")
    citizen.say(first, TICKET_OPENING)
    assert citizen.answer(first) and citizen.answer(first)
    running.kill("rasa-1")
    # nginx now sends everyone to the other instance, which knows the conversation.
    citizen.finish(public(running))
    assert ticket(running, number)["status"] == "已受理"
    assert "烧烤店" in ticket(running, citizen.number())["description"]


def test_a_killed_action_server_is_routed_around(running: Cluster) -> None:
    running.kill("actions-1")
    number = file_ticket([public(running)], "no-action-server")
    assert ticket(running, number)["type"] == "complaint"


def test_restarting_redis_loses_no_ticket_nor_conversation(running: Cluster) -> None:
    number = file_ticket([public(running)], "before-redis-restart")
    citizen = Citizen("across-restart")
    citizen.say(public(running), TICKET_OPENING)
    assert citizen.answer(public(running)) and citizen.answer(public(running))
    running.kill("redis")  # a crash: only what the AOF synced survives
    running.start_redis()
    assert ticket(running, number)["phone"] == "13812345678"
    citizen.finish(public(running))
    assert ticket(running, citizen.number())["contact_name"] == "王女士"


def test_with_redis_down_faqs_are_answered_and_no_ticket_is_promised(
    running: Cluster,
) -> None:
    running.kill("redis")
    try:
        answer = "".join(say(public(running), "redis-down", "社保卡丢了怎么补办"))
        assert "挂失" in answer
        citizen = Citizen("redis-down-ticket")
        citizen.say(public(running), TICKET_OPENING)
        citizen.finish(public(running))
        told = "".join(citizen.replies)
        assert "没有生成工单" in told
        assert not FILED.search(told)
    finally:
        running.start_redis()
