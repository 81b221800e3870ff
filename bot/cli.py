"""The commands behind ``make``: train when needed, run the servers, test stories.

Usage: ``python -m bot.cli {train,model-path,run,run-cluster,stories}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterable, Iterator, List

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
# Everything a trained model depends on; a change to any of these retrains it.
MODEL_INPUTS = (
    "config.yml",
    "data",
    "bot/domain",
    "bot/jieba",
    "bot/nlu",
    "bot/text.py",
)
ROUTER_INPUTS = ("data/routing", "bot/jieba", "bot/tickets.yml", "actions/routing.py")
RASA = [sys.executable, "-m", "rasa"]


def log(message: str) -> None:
    """Prints a progress line of the make targets."""
    print(f"[hotline] {message}", flush=True)


def fingerprint(inputs: tuple = MODEL_INPUTS) -> str:
    """A hash of every file a model is trained from."""
    digest = hashlib.sha256()
    for name in inputs:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path() -> Path:
    """Where the model for the current training inputs lives."""
    return MODELS / f"hotline-{fingerprint()}.tar.gz"


def router_path() -> Path:
    """Where the ticket router for the current routing data lives."""
    return MODELS / f"router-{fingerprint(ROUTER_INPUTS)}"


@contextmanager
def _router_training() -> Iterator[Path]:
    """Trains the ticket router, if needed, while the block runs; waits for it."""
    target = router_path()
    if target.exists():
        yield target
        return
    log("训练工单分拨模型……")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "actions.routing", "train"]
        + ["data/routing/train.yml", str(target)],
        cwd=ROOT,
    )
    try:
        yield target
    except BaseException:
        process.kill()
        process.wait()
        raise
    if process.wait():
        raise subprocess.CalledProcessError(process.returncode, process.args)
    log(f"分拨模型训练完成，用时 {time.monotonic() - started:.0f} 秒")
    for old in MODELS.glob("router-*"):
        if old != target:
            shutil.rmtree(old)


def train_router() -> Path:
    """Trains the ticket router unless one for exactly these inputs exists."""
    with _router_training() as target:
        return target


def train() -> Path:
    """Trains the models unless ones for exactly these inputs exist.

    The router trains alongside the Rasa model: it keeps one core busy while Rasa
    reads and featurises the data on the other.
    """
    with _router_training():
        target = model_path()
        if target.exists():
            log(f"模型已是最新：{target.name}")
            return target
        log("训练数据有变化或尚无模型，开始训练……")
        started = time.monotonic()
        subprocess.run(
            [*RASA, "train", "--config", "config.yml", "--domain", "bot/domain"]
            + ["--data", "data", "--out", str(MODELS)]
            + ["--fixed-model-name", target.name[: -len(".tar.gz")]],
            cwd=ROOT,
            check=True,
        )
        log(f"训练完成，用时 {time.monotonic() - started:.0f} 秒：{target.name}")
    for old in MODELS.glob("hotline-*.tar.gz"):
        if old != target:
            old.unlink()
    return target


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ACTION_SERVER_URL", f"http://localhost:{action_port()}/webhook")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if env.get("LOG_FORMAT", "").lower() == "json":
        env.setdefault("FORCE_JSON_LOGGING", "1")  # Rasa's structlog events too
    return env


def rasa_port() -> int:
    """The Rasa server's port (``RASA_PORT``, 5005)."""
    return int(os.environ.get("RASA_PORT", "5005"))


def action_port() -> int:
    """The action server's port (``ACTION_PORT``, 5055)."""
    return int(os.environ.get("ACTION_PORT", "5055"))


def wait_for(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    """Waits until `url` answers; fails if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"服务启动失败（退出码 {process.returncode}）：{url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"等待服务超时：{url}")


def api_port() -> int:
    """The ticket API's port (``TICKET_API_PORT``, 5056)."""
    return int(os.environ.get("TICKET_API_PORT", "5056"))


def spawn(command: List[str], env: Dict[str, str] | None = None) -> subprocess.Popen:
    """Starts a server in its own process group, with `env` over the usual env."""
    return subprocess.Popen(
        command, cwd=ROOT, env={**_env(), **(env or {})}, start_new_session=True
    )


def stop(processes: List[subprocess.Popen]) -> None:
    """Stops each process group: SIGTERM, then SIGKILL after 20 s."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def servers(model: Path, with_rasa: bool = True) -> Iterator[List[subprocess.Popen]]:
    """Runs the action server (and the ticket API and Rasa) until the block ends.

    All start at once and are then waited for: the Rasa server's model loading is
    most of the start-up, and the others need not finish before it begins.
    """
    started = [
        (
            [*RASA, "run", "actions", "--actions", "actions"]
            + ["--port", str(action_port())],
            f"http://localhost:{action_port()}/health",
        )
    ]
    if with_rasa:
        started += [
            (
                [sys.executable, "-m", "actions.api"],
                f"http://localhost:{api_port()}/health",
            ),
            (
                [*RASA, "run", "--model", str(model), "--port", str(rasa_port())]
                + ["--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
                + ["--cors", "*"],
                f"http://localhost:{rasa_port()}/webhooks/rest/",
            ),
        ]
    processes: List[subprocess.Popen] = []
    try:
        for command, _ in started:
            processes.append(spawn(command))
        for process, (_, health_url) in zip(processes, started, strict=True):
            wait_for(health_url, process)
        yield processes
    finally:
        stop(processes)


def say(text: str, sender: str = "hotline-cli") -> List[dict]:
    """Sends one message over REST and returns the bot's replies."""
    request = urllib.request.Request(
        f"http://localhost:{rasa_port()}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    if os.environ.get("REST_TOKEN"):
        request.add_header("Authorization", f"Bearer {os.environ['REST_TOKEN']}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def api_token_note() -> str:
    """Sets a one-run ticket API token unless one is given, and says which it is."""
    if os.environ.get("TICKET_API_TOKEN"):
        return "取自 TICKET_API_TOKEN"
    os.environ["TICKET_API_TOKEN"] = secrets.token_urlsafe(24)
    return "本次临时生成：Bearer " + os.environ["TICKET_API_TOKEN"]


def catch_stop_signals() -> Dict[str, bool]:
    """Turns Ctrl-C, SIGTERM and SIGHUP into a flag that `serve` checks."""
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    return stop


def serve(processes: Iterable[subprocess.Popen], stop: Dict[str, bool]) -> None:
    """Waits until a stop signal comes or one of the servers exits."""
    processes = list(processes)
    while not stop["now"] and all(p.poll() is None for p in processes):
        time.sleep(0.5)


def run() -> None:
    """Trains if needed, starts the servers and waits for Ctrl-C."""
    model = train()
    token_note = api_token_note()
    stop = catch_stop_signals()
    with servers(model) as processes:
        reply = say("你好")
        port = rasa_port()
        log("已启动。回复示例：" + (reply[0].get("text", "") if reply else "（无）"))
        print(
            f"\n  网页咨询：   http://localhost:{port}/webhooks/web/demo（演示页）\n"
            f"  REST 接口：  http://localhost:{port}/webhooks/rest/webhook\n"
            f"  Socket.IO：  http://localhost:{port}/socket.io\n"
            f"  试一试：     curl -s localhost:{port}/webhooks/rest/webhook "
            '-d \'{"sender":"demo","message":"社保卡丢了怎么补办"}\'\n'
            f"  工单接口：   http://localhost:{api_port()}/tickets"
            f"（文档 /openapi.json；令牌{token_note}）\n"
            "  按 Ctrl-C 停止。\n",
            flush=True,
        )
        serve(processes, stop)
    log("已停止。")


def stories(extra: List[str] | None = None) -> int:
    """Runs the conversation tests (Rasa test stories) against a live action server."""
    model = train()
    scratch = tempfile.mkdtemp(prefix="hotline-stories-")
    os.environ["TICKET_DB"] = str(Path(scratch) / "tickets.db")
    with servers(model, with_rasa=False):
        result = subprocess.run(
            [*RASA, "test", "core", "--model", str(model), "--stories", "tests/stories"]
            + ["--endpoints", "endpoints.yml", "--out", "results/stories"]
            + ["--fail-on-prediction-errors"]
            + (extra or []),
            cwd=ROOT,
            env=_env(),
        )
    return result.returncode


def main(argv: List[str] | None = None) -> int:
    """Runs one command (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bot.cli")
    parser.add_argument(
        "command", choices=["train", "model-path", "run", "run-cluster", "stories"]
    )
    args = parser.parse_args(argv)
    if args.command == "train":
        train()
    elif args.command == "model-path":
        print(model_path())
    elif args.command == "run":
        run()
    elif args.command == "run-cluster":
        from bot import cluster

        cluster.run()
    else:
        return stories()
    return 0


if __name__ == "__main__":
    sys.exit(main())
