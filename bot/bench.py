"""``make bench``: simulated citizens against the assistant and a baseline, side by side.

Each assistant is started in turn (action server, ticket API, Rasa server) with the
same endpoints and action server; only the model differs. The baseline is this
project's data trained with Rasa's default configuration
(``bot/baseline_config.yml``: ``rasa init``'s, with Jieba for Chinese).

Traffic per assistant: one citizen alone (sequential turns), then many at once for
a fixed time, over REST (every fifth citizen over socket.io, long-polling), each
starting the next visit as soon as the last is answered. Turn types: popular and
long-tail FAQ questions, multi-turn ticket filing, status lookups, out-of-scope
questions and junk. Then the same citizens ask only FAQ questions, together at a
set rate (``--faq-rate``, 100 a second), their long-tail questions never asked
before: whether that rate is sustained, and how fast. A turn's latency runs to its
(first) answer. Reported: turns/s, latency p50/p95/p99 per turn type, errors, each
process's peak RSS and the time from start to first answer.
Results go to ``results/bench.json`` and between the markers of
``docs/performance.md``. Rate limits are off: every simulated citizen shares one
address and types far faster than a person.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Tuple

import aiohttp
import numpy as np
import socketio
import yaml

from bot import cli, cluster

BASELINE_CONFIG = cli.ROOT / "bot" / "baseline_config.yml"
RESULTS = cli.ROOT / "results" / "bench.json"
REPORT = cli.ROOT / "docs" / "performance.md"
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
TIMEOUT = 30.0
POPULAR = [
    "社保卡丢了怎么补办",
    "公积金怎么提取",
    "医保异地就医怎么备案",
    "身份证丢了怎么办",
    "个体户营业执照怎么办",
    "个税汇算怎么弄",
]
JUNK = ["啊啊啊啊", "？？？", "😀😀😀", "asdfgh", "1", "<script>alert(1)</script>"]
TICKET_OPENING = "我要投诉楼下烧烤店每天半夜油烟特别大，窗户都不敢开"
# What the ticket form asks (a phrase of its question) → what a citizen answers.
TICKET_ANSWERS = [
    ("哪一类", "投诉"),
    ("详细说说", "楼下烧烤店每天半夜油烟特别大，窗户都不敢开"),
    ("发生在哪里", "示例一区东城街道幸福路12号"),
    ("什么时候", "上个月开始的"),
    ("怎么称呼", "王女士"),
    ("手机号码是", "对"),
    ("手机号码", "13812345678"),
    ("需要回复", "需要"),
    ("核对", "确认"),
]
STATUS_TURNS = ["我想查一下我的工单进度", "20260101000001", "5678"]


def _held_out(name: str) -> List[str]:
    """The texts of held-out NLU files (never trained on)."""
    texts: List[str] = []
    for path in sorted((cli.ROOT / "tests" / "nlu").glob(name)):
        for block in yaml.safe_load(path.read_text("utf-8")).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    texts.append(line.strip()[2:].strip())
    return texts


@dataclass
class Turn:
    """One measured turn, answered `ended` seconds after its load began."""

    kind: str
    seconds: float
    ok: bool
    ended: float = 0.0


@dataclass
class Run:
    """What one assistant did under one load of `seconds` (from `started`)."""

    turns: List[Turn] = field(default_factory=list)
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        """Records a turn that ends now."""
        self.turns.append(Turn(kind, seconds, ok, time.perf_counter() - self.started))

    def first_answer(self, since: float) -> float:
        """Seconds from `since` (a ``perf_counter`` reading) to the first turn's end."""
        return self.started - since + self.turns[0].ended

    def _rate(self, ok_faq: bool) -> float:
        if not self.seconds:
            return 0.0
        ended = [t for t in self.turns if t.ended <= self.seconds]
        if ok_faq:
            ended = [t for t in ended if t.ok and t.kind.startswith("faq")]
        return round(len(ended) / self.seconds, 1)

    def summary(self) -> Dict[str, Any]:
        """Throughput, errors and latency percentiles (ms) per turn type.

        Throughput counts the turns answered within the load's time, not those
        still finishing after it.
        """
        kinds: Dict[str, List[float]] = {}
        for turn in self.turns:
            if turn.ok:
                kinds.setdefault(turn.kind, []).append(turn.seconds * 1000)
                kinds.setdefault("all", []).append(turn.seconds * 1000)
        return {
            "turns": len(self.turns),
            "errors": sum(not turn.ok for turn in self.turns),
            "turns_per_second": self._rate(ok_faq=False),
            "faq_turns_per_second": self._rate(ok_faq=True),
            "latency_ms": {
                kind: {
                    f"p{q}": round(float(np.percentile(values, q)), 1)
                    for q in (50, 95, 99)
                }
                for kind, values in sorted(kinds.items())
            },
        }


class RestCitizen:
    """A citizen on the REST channel."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self._session, self._url = session, f"{base}/webhooks/rest/webhook"
        self.sender = f"bench-{uuid.uuid4().hex[:12]}"

    async def say(self, text: str) -> Tuple[float, List[str]]:
        """Sends one message; seconds until the answer, and its texts."""
        started = time.perf_counter()
        async with self._session.post(
            self._url, json={"sender": self.sender, "message": text}
        ) as reply:
            if reply.status != 200:
                raise RuntimeError(f"HTTP {reply.status}")
            texts = [str(message.get("text", "")) for message in await reply.json()]
        return time.perf_counter() - started, texts


class SocketCitizen:
    """A citizen in the web chat (socket.io); a turn ends at the first answer."""

    QUIET = 0.3  # then waits this long for the rest of the turn's messages

    def __init__(self, base: str, local_addr: Tuple[str, int] | None = None) -> None:
        self._base = base
        # From `local_addr` when given: a session of its own, as socket.io's is.
        self._http = (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=local_addr))
            if local_addr
            else None
        )
        self._client = socketio.AsyncClient(
            reconnection=False, request_timeout=TIMEOUT, http_session=self._http
        )
        self._inbox: asyncio.Queue = asyncio.Queue()
        self.session_id = uuid.uuid4().hex

    async def connect(self) -> None:
        """Connects and asks for a session, as the widget does."""
        confirmed = asyncio.get_running_loop().create_future()

        def confirm(_: Any) -> None:
            if not confirmed.done():
                confirmed.set_result(True)

        self._client.on("bot_uttered", self._inbox.put_nowait)
        self._client.on("session_confirm", confirm)
        # Long-polling: python-engineio's websocket client needs a newer aiohttp
        # than Rasa 3.6 allows.
        await self._client.connect(
            self._base, transports=["polling"], wait_timeout=TIMEOUT
        )
        await self._client.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(confirmed, TIMEOUT)

    async def say(self, text: str) -> Tuple[float, List[str]]:
        """Sends one message; seconds until its first answer, and all its texts."""
        started = time.perf_counter()
        await self._client.emit(
            "user_uttered", {"message": text, "session_id": self.session_id}
        )
        messages = [await asyncio.wait_for(self._inbox.get(), TIMEOUT)]
        answered = time.perf_counter() - started
        await asyncio.sleep(self.QUIET)
        while not self._inbox.empty():
            messages.append(self._inbox.get_nowait())
        return answered, [str(message.get("text", "")) for message in messages]

    async def close(self) -> None:
        """Leaves the chat."""
        await self._client.disconnect()
        if self._http:
            await self._http.close()


async def _timed(citizen: Any, kind: str, text: str, run: Run) -> List[str]:
    started = time.perf_counter()
    try:
        seconds, replies = await asyncio.wait_for(citizen.say(text), TIMEOUT)
        ok = any(replies)
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError, OSError):
        seconds, replies, ok = time.perf_counter() - started, [], False
    run.add(kind, seconds, ok)
    return replies


def ticket_answer(replies: List[str]) -> str | None:
    """The citizen's answer to the form's latest question; None once filed."""
    latest = replies[-1] if replies else ""
    if re.search(r"编号[：:]?\d{14}", "".join(replies)):
        return None
    for phrase, answer in TICKET_ANSWERS:
        if phrase in latest:
            return answer
    return None


Visit = Callable[[Any, random.Random, Dict[str, List[str]], Run], Awaitable[None]]


async def _faq_question(
    citizen: Any,
    rng: random.Random,
    texts: Dict[str, List[str]],
    run: Run,
    unseen: bool = False,
) -> None:
    """One FAQ question: popular or long-tail, five to two as in the mixed traffic.

    With `unseen`, a long-tail question is one the assistant has not read before
    (a number is added), so that no cache answers it.
    """
    if rng.random() < 5 / 7:
        await _timed(citizen, "faq_popular", rng.choice(POPULAR), run)
        return
    text = rng.choice(texts["faq"])
    if unseen:
        text = f"{text} {rng.randrange(10**6)}"
    await _timed(citizen, "faq_long_tail", text, run)


async def _conversation(
    citizen: Any, rng: random.Random, texts: Dict[str, List[str]], run: Run
) -> None:
    """One visit: a question, a ticket, a status lookup, out-of-scope or junk."""
    roll = rng.random()
    if roll < 0.7:
        await _faq_question(citizen, rng, texts, run)
    elif roll < 0.8:
        replies = await _timed(citizen, "ticket", TICKET_OPENING, run)
        for _ in range(10):
            answer = ticket_answer(replies)
            if answer is None:
                break
            replies = await _timed(citizen, "ticket", answer, run)
    elif roll < 0.85:
        for text in STATUS_TURNS:
            await _timed(citizen, "status", text, run)
    elif roll < 0.95:
        await _timed(citizen, "out_of_scope", rng.choice(texts["oos"]), run)
    else:
        await _timed(citizen, "junk", rng.choice(JUNK), run)


async def _citizens(
    base: str,
    users: int,
    seconds: float,
    turns: int,
    visit: Visit = _conversation,
    interval: float = 0.0,
    spread: bool = False,
) -> Run:
    """`users` citizens visiting until `seconds` pass (or `turns` turns are done).

    With an `interval`, each citizen starts a visit every `interval` seconds (the
    first at a random moment within it), whether or not the last one was answered:
    together they offer `users / interval` visits a second whatever the answers
    take. Without one, each starts its next visit as soon as the last one ends.
    Each citizen has its own connections; when `spread`, from its own address
    (``citizen_address``).
    """
    texts = {
        "faq": _held_out("heldout_faq_*.yml"),
        "oos": _held_out("out_of_scope.yml"),
    }
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    addresses = [citizen_address(index) if spread else None for index in range(users)]
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, local_addr=address),
            timeout=timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        for address in addresses
    ]
    try:
        run = Run()
        started = run.started

        async def one_visit(index: int, rng: random.Random) -> None:
            if index % 5 != 4:
                await visit(RestCitizen(sessions[index], base), rng, texts, run)
                return
            person = SocketCitizen(base, addresses[index])
            try:
                await person.connect()
            except (socketio.exceptions.ConnectionError, asyncio.TimeoutError) as err:
                run.add("connect", 0.0, False)
                print(f"[bench] socket.io connect failed: {err!r}", flush=True)
                await person.close()
                await asyncio.sleep(1)
                return
            await visit(person, rng, texts, run)
            await person.close()

        async def citizen(index: int) -> None:
            rng = random.Random(index)
            due = started + rng.random() * interval
            visits: List[asyncio.Task] = []
            while True:
                await asyncio.sleep(due - time.perf_counter())
                if time.perf_counter() - started >= seconds or len(run.turns) >= turns:
                    break
                due += interval
                if interval:
                    visits.append(asyncio.create_task(one_visit(index, rng)))
                else:
                    await one_visit(index, rng)
            await asyncio.gather(*visits)

        await asyncio.gather(*(citizen(i) for i in range(users)))
        run.seconds = min(seconds, time.perf_counter() - started)
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return run


def citizen_address(index: int) -> Tuple[str, int]:
    """Citizen `index`'s own loopback address, 127.0.<n>.1.

    nginx's ``ip_hash`` keeps the first three bytes of an address on one Rasa
    instance, so the cluster bench's citizens each come from a network of their own.
    """
    return f"127.0.{index % 254 + 1}.1", 0


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def train_baseline() -> Path:
    """Trains the project's data with Rasa's default config (cached by inputs)."""
    inputs = tuple(name for name in cli.MODEL_INPUTS if name != "config.yml")
    target = cli.MODELS / (
        f"baseline-{cli.fingerprint(inputs + ('bot/baseline_config.yml',))}.tar.gz"
    )
    if not target.exists():
        print("[bench] 训练基线模型（Rasa 默认配置）……", flush=True)
        subprocess.run(
            [*cli.RASA, "train", "--config", str(BASELINE_CONFIG)]
            + ["--domain", "bot/domain", "--data", "data", "--out", str(cli.MODELS)]
            + ["--fixed-model-name", target.name[: -len(".tar.gz")]],
            cwd=cli.ROOT,
            check=True,
        )
    return target


@contextmanager
def _assistant(model: Path, clustered: bool) -> Iterator[Tuple[str, Dict[str, int]]]:
    """A running assistant: its public URL and its processes' pids by name."""
    if clustered:
        ports = cluster.Ports()
        with cluster.cluster(model, ports, cli.ROOT / "var" / "bench-cluster") as run:
            yield f"http://127.0.0.1:{ports.public}", {
                name: process.pid for name, process in run.processes.items()
            }
        return
    with cli.servers(model) as processes:
        names = ["action_server", "ticket_api", "rasa_server"]
        yield f"http://localhost:{cli.rasa_port()}", {
            name: process.pid for name, process in zip(names, processes, strict=True)
        }


def measure(
    model: Path, users: int, seconds: float, faq_rate: float, clustered: bool = False
) -> Dict[str, Any]:
    """Starts an assistant on `model`; one citizen, the crowd, then FAQs at a rate."""
    started = time.perf_counter()
    unseen_faq = functools.partial(_faq_question, unseen=True)
    with _assistant(model, clustered) as (base, pids):
        first = asyncio.run(_citizens(base, 1, 60, 1, spread=clustered))
        alone = asyncio.run(_citizens(base, 1, 30, 40, spread=clustered))
        crowd = asyncio.run(_citizens(base, users, seconds, 10**9, spread=clustered))
        paced = asyncio.run(
            _citizens(
                base, users, seconds, 10**9, unseen_faq, users / faq_rate, clustered
            )
        )
        rss = {name: peak_rss_mb(pid) for name, pid in pids.items()}
    return {
        "model": model.name,
        "first_answer_seconds": round(first.first_answer(since=started), 1),
        "first_answer_ok": not first.summary()["errors"],
        "one_citizen": alone.summary(),
        f"{users}_citizens": crowd.summary(),
        f"{users}_citizens_faq_paced": paced.summary(),
        "peak_rss_mb": rss,
    }


def _figure(side: Dict[str, Any], key: str, sub: Any) -> float:
    value = side[key]
    if key == "peak_rss_mb":  # the largest Rasa server of the run
        return max(mb for name, mb in value.items() if name.startswith("rasa"))
    if isinstance(sub, tuple):
        value = value["latency_ms"].get(sub[0], {}).get(sub[1], 0.0)
    elif sub is not None:
        value = value[sub]
    return float(value)


def _ratio(ours: float, theirs: float) -> str:
    return f"{theirs / ours:.1f}×" if ours else "–"


def report(results: Dict[str, Any], users: int) -> str:
    """The markdown table: this assistant, the cluster and the baseline, as measured."""
    ours, base = results["hotline"], results.get("baseline")
    clustered = results.get("cluster")
    crowd = f"{users}_citizens"
    paced = f"{users}_citizens_faq_paced"
    rate = f"{users} 人只问 FAQ、共 {results.get('faq_rate', 0):g} 问/秒"
    rows = [
        ("首次应答（启动后，秒）", "first_answer_seconds", None, True),
        ("单人 p50（毫秒）", "one_citizen", ("all", "p50"), True),
        (f"{users} 人并发 吞吐（轮/秒）", crowd, "turns_per_second", False),
        (f"{users} 人并发 FAQ 吞吐（轮/秒）", crowd, "faq_turns_per_second", False),
        (f"{users} 人并发 p50（毫秒）", crowd, ("all", "p50"), True),
        (f"{users} 人并发 p95（毫秒）", crowd, ("all", "p95"), True),
        (f"{users} 人并发 p99（毫秒）", crowd, ("all", "p99"), True),
        (f"{users} 人并发 FAQ 热门 p50（毫秒）", crowd, ("faq_popular", "p50"), True),
        (f"{users} 人并发 工单 p50（毫秒）", crowd, ("ticket", "p50"), True),
        (f"{users} 人并发 错误数", crowd, "errors", True),
        (f"{rate}：FAQ 吞吐（轮/秒）", paced, "faq_turns_per_second", False),
        (f"{rate}：p50（毫秒）", paced, ("all", "p50"), True),
        (f"{rate}：p99（毫秒）", paced, ("all", "p99"), True),
        (f"{rate}：错误数", paced, "errors", True),
        ("Rasa 进程峰值内存（MB）", "peak_rss_mb", None, True),
    ]
    header = ["指标", "本项目（单实例）"]
    header += ["集群（两实例 + nginx）"] if clustered else []
    header += ["基线（Rasa 默认配置）", "倍数（基线 ÷ 本项目）"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for label, key, sub, lower_is_better in rows:
        a = _figure(ours, key, sub)
        cells = [label, f"{a:g}"]
        if clustered:
            cells.append(f"{_figure(clustered, key, sub):g}")
        if base is None:
            cells += ["未测", "–"]
        else:
            b = _figure(base, key, sub)
            cells += [f"{b:g}", _ratio(a, b) if lower_is_better else _ratio(b, a)]
        lines.append("| " + " | ".join(cells) + " |")
    when = time.strftime("%Y-%m-%d %H:%M")
    lines.append(
        f"\n{when}，`{results.get('command', 'make bench')}`"
        f"（{users} 人并发 {results['seconds']:g} 秒，"
        f"{os.cpu_count()} 核）；吞吐的倍数为本项目 ÷ 基线，越大越好。"
        "完整数据：`results/bench.json`。"
    )
    return "\n".join(lines)


def _write_report(table: str) -> None:
    text = REPORT.read_text("utf-8") if REPORT.exists() else ""
    start, end = MARKERS
    block = f"{start}\n{table}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = f"# 性能\n\n{block}\n" + text
    REPORT.write_text(text, "utf-8")


def main(argv: List[str] | None = None) -> int:
    """Trains what is missing, measures both assistants and writes the results."""
    parser = argparse.ArgumentParser(prog="python -m bot.bench")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--faq-rate",
        type=float,
        default=100,
        help="FAQ questions a second the citizens offer together in the paced phase",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="measure this assistant only (the baseline's first training takes long)",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="also measure make run-cluster's two instances behind nginx",
    )
    args = parser.parse_args(argv)
    os.environ.update({"RATE_LIMIT_PER_SENDER": "0", "RATE_LIMIT_PER_IP": "0"})
    os.environ.setdefault("TICKET_API_TOKEN", uuid.uuid4().hex)
    os.environ.setdefault("TICKET_DB", str(cli.ROOT / "results" / "bench-tickets.db"))
    model = cli.train()
    runs: List[Tuple[str, Path, bool]] = [("hotline", model, False)]
    if not args.no_baseline:
        runs.append(("baseline", train_baseline(), False))
    if args.cluster:
        runs.append(("cluster", model, True))
    results: Dict[str, Any] = {
        "users": args.users,
        "seconds": args.seconds,
        "faq_rate": args.faq_rate,
        "command": " ".join(
            ["python -m bot.bench", *(sys.argv[1:] if argv is None else argv)]
        ),
    }
    for name, trained, clustered in runs:
        print(f"[bench] {name}: {trained.name}", flush=True)
        results[name] = measure(
            trained, args.users, args.seconds, args.faq_rate, clustered
        )
        print(json.dumps(results[name], ensure_ascii=False, indent=2), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2), "utf-8")
    table = report(results, args.users)
    _write_report(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
