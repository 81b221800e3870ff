"""The channels of credentials.yml as Rasa's server mounts them."""

from rasa.core.run import configure_app, create_http_input_channels
from rasa.core.utils import list_routes


def test_every_channel_is_mounted_where_its_callers_expect_it() -> None:
    channels = create_http_input_channels(None, "credentials.yml")
    names = sorted(c.name() for c in channels)
    assert names == ["ivr", "ops", "rest", "web", "wechat"]
    app = configure_app(channels, enable_api=False)
    routes = {tuple(line.split()[:2]) for line in list_routes(app).values()}
    for expected in (
        ("/webhooks/rest/webhook", "POST"),
        ("/webhooks/ivr/webhook", "POST"),
        ("/webhooks/wechat/webhook", "GET"),
        ("/webhooks/wechat/webhook", "POST"),
        ("/webhooks/web/demo", "GET"),
        ("/webhooks/web/static/<name:str>", "GET"),
        ("/webhooks/ops/ready", "GET"),
        ("/webhooks/ops/metrics", "GET"),
    ):
        assert expected in routes, expected
    # python-socketio mounts one handler for several methods; any will do.
    assert "/socket.io" in {path for path, _ in routes}
