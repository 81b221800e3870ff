"""A live assistant (action server, ticket API, Rasa) for the channel tests.

Started once per test session on free ports with a scratch ticket database and a
profile whose agents are always on duty (handoffs then behave the same at any
hour); it uses the trained model (``make unit`` trains first when the data changed).
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Dict, Iterator

import pytest
import yaml

from bot import cli
from tests.conftest import _free_port

SECRETS = {
    "TICKET_API_TOKEN": "test-api-token",
    "IVR_SECRET": "test-ivr-secret",
    "WECHAT_TOKEN": "testwechattoken",
    "WECHAT_APP_ID": "wx0000000000000000",
    "WECHAT_APP_SECRET": "test-app-secret",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


def ivr_signature(body: bytes, secret: str = SECRETS["IVR_SECRET"]) -> str:
    """The phone system's signature of a request body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Live:
    """Where the live assistant answers."""

    rasa: str
    api: str
    env: Dict[str, str]


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    model = cli.model_path()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` (make unit does)")
    scratch = tmp_path_factory.mktemp("live")
    profile = yaml.safe_load(cli.ROOT.joinpath("bot/profile.yml").read_text("utf-8"))
    profile["staffed_hours"] = {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"}
    (scratch / "profile.yml").write_text(yaml.safe_dump(profile, allow_unicode=True))
    env = {
        "HOTLINE_PROFILE": str(scratch / "profile.yml"),
        "RASA_PORT": str(_free_port()),
        "ACTION_PORT": str(_free_port()),
        "TICKET_API_PORT": str(_free_port()),
        "TICKET_DB": str(scratch / "tickets.db"),
        **SECRETS,
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    os.environ.pop("ACTION_SERVER_URL", None)
    try:
        with cli.servers(model):
            yield Live(
                rasa=f"http://localhost:{env['RASA_PORT']}",
                api=f"http://localhost:{env['TICKET_API_PORT']}",
                env=env,
            )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
