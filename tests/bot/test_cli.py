"""`make train` trains the router alongside the Rasa model; `make run` starts all at once."""

import subprocess
from pathlib import Path
from typing import Any, List

import pytest

from bot import cli


class FakeRouterTraining:
    """Stands in for the router's training process."""

    started: List["FakeRouterTraining"] = []
    returncode = 0

    def __init__(self, args: List[str], **_: Any) -> None:
        self.args = args
        self.finished = False
        self.killed = False
        FakeRouterTraining.started.append(self)

    def wait(self) -> int:
        if not self.killed:
            Path(self.args[-1]).mkdir(parents=True)
        self.finished = True
        return self.returncode

    def kill(self) -> None:
        self.killed = True


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli, "MODELS", tmp_path)
    monkeypatch.setattr(subprocess, "Popen", FakeRouterTraining)
    FakeRouterTraining.started = []
    monkeypatch.setattr(FakeRouterTraining, "returncode", 0)
    return tmp_path


def test_the_router_trains_while_the_model_does(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: List[bool] = []

    def rasa_train(command: List[str], **_: Any) -> None:
        seen.append(FakeRouterTraining.started[0].finished)
        Path(command[command.index("--out") + 1], cli.model_path().name).touch()

    monkeypatch.setattr(subprocess, "run", rasa_train)
    assert cli.train() == cli.model_path()
    assert seen == [False]
    assert cli.router_path().is_dir() and FakeRouterTraining.started[0].finished


def test_a_failed_router_fails_the_training(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeRouterTraining, "returncode", 1)
    monkeypatch.setattr(subprocess, "run", lambda *_, **__: None)
    with pytest.raises(subprocess.CalledProcessError):
        cli.train()


def test_a_failed_model_training_stops_the_router(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def rasa_train(command: List[str], **_: Any) -> None:
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(subprocess, "run", rasa_train)
    with pytest.raises(subprocess.CalledProcessError):
        cli.train()
    assert FakeRouterTraining.started[0].killed
    assert not cli.router_path().exists()


def test_nothing_trains_when_both_models_exist(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.router_path().mkdir()
    cli.model_path().touch()
    monkeypatch.setattr(subprocess, "run", pytest.fail)
    assert cli.train() == cli.model_path()
    assert FakeRouterTraining.started == []


def test_the_servers_all_start_before_any_is_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: List[str] = []
    commands: List[List[str]] = []

    def spawn(command: List[str]) -> object:
        calls.append("spawn")
        commands.append(command)
        return object()

    monkeypatch.setattr(cli, "spawn", spawn)
    monkeypatch.setattr(cli, "wait_for", lambda url, process: calls.append("wait"))
    monkeypatch.setattr(cli, "stop", lambda processes: calls.append("stop"))
    with cli.servers(Path("model.tar.gz")) as processes:
        assert calls == ["spawn"] * 3 + ["wait"] * 3
        assert len(processes) == 3
        assert [command[2:5] for command in commands] == [
            ["rasa", "run", "actions"],
            ["actions.api"],
            ["rasa", "run", "--model"],
        ]
    assert calls[-1] == "stop"
