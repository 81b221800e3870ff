"""The staff ticket API: token, list/read/update, bad input, and its OpenAPI document."""

from typing import Any, Dict

import jsonschema
import pytest
from sanic import Sanic

from actions.api import create_app, openapi_document
from actions.store.sqlite_store import SQLiteTicketStore
from actions.ticket import Ticket

TOKEN = "test-token-not-a-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema (``nullable`` becomes a null type)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        converted["type"] = [node["type"], "null"]
    return converted


DOCUMENT = _json_schema(openapi_document())


def assert_documented(path: str, method: str, status: int, body: Any) -> None:
    """The response is one the document promises, in the documented shape."""
    documented = DOCUMENT["paths"][path][method]["responses"][str(status)]
    if "$ref" in documented:
        documented = DOCUMENT["components"]["responses"][
            documented["$ref"].rsplit("/")[-1]
        ]
    schema = documented["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": DOCUMENT["components"]})


@pytest.fixture
async def filed(tmp_path) -> Dict[str, Any]:
    store = SQLiteTicketStore(str(tmp_path / "tickets.db"))
    draft = Ticket(
        type="complaint",
        description="幸福路路灯坏了三天，电话13812345678",
        channel="web",
        conversation_id="c1",
        phone="13812345678",
    )
    ticket = await store.file(draft, "key-1")
    await store.enqueue_handoff("c2", "ivr", "市民询问 138****5678 的工单")
    return {"store": store, "number": ticket.number}


@pytest.fixture
def app(filed) -> Sanic:
    Sanic.test_mode = True
    return create_app(TOKEN, filed["store"])


async def test_every_route_needs_the_token_except_health_and_the_document(
    app, filed
) -> None:
    number = filed["number"]
    for path in ("/tickets", f"/tickets/{number}", "/handoffs"):
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": TOKEN},
        ):
            _, reply = await app.asgi_client.get(path, headers=headers)
            assert reply.status == 401, (path, headers)
            assert reply.headers["www-authenticate"] == "Bearer"
    _, reply = await app.asgi_client.patch(f"/tickets/{number}", json={"status": "已办结"})
    assert reply.status == 401
    _, reply = await app.asgi_client.get("/health")
    assert reply.status == 200
    assert_documented("/health", "get", 200, reply.json)
    _, reply = await app.asgi_client.get("/openapi.json")
    assert reply.json["paths"].keys() == openapi_document()["paths"].keys()


async def test_list_read_and_update_a_ticket(app, filed) -> None:
    number = filed["number"]
    _, reply = await app.asgi_client.get("/tickets", headers=AUTH)
    assert [t["number"] for t in reply.json["tickets"]] == [number]
    assert_documented("/tickets", "get", 200, reply.json)

    _, reply = await app.asgi_client.get(f"/tickets/{number}", headers=AUTH)
    assert reply.json["phone"] == "13812345678"  # the record's own door: whole
    assert_documented("/tickets/{number}", "get", 200, reply.json)

    change = {"status": "已办结", "reply": "路灯已于今日修复，感谢您的反映。"}
    _, reply = await app.asgi_client.patch(
        f"/tickets/{number}", json=change, headers=AUTH
    )
    assert reply.status == 200
    assert_documented("/tickets/{number}", "patch", 200, reply.json)
    assert (reply.json["status"], reply.json["reply"]) == (
        change["status"],
        change["reply"],
    )
    stored = await filed["store"].get(number)
    assert stored.status == "已办结" and stored.history[-1]["reply"] == change["reply"]

    _, reply = await app.asgi_client.get("/tickets?status=已受理", headers=AUTH)
    assert reply.json["tickets"] == []
    _, reply = await app.asgi_client.get("/handoffs", headers=AUTH)
    assert reply.json["handoffs"][0]["conversation_id"] == "c2"
    assert_documented("/handoffs", "get", 200, reply.json)


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("get", "/tickets/20260101999999", None, 404),
        ("patch", "/tickets/20260101999999", {"status": "已办结"}, 404),
        ("get", "/tickets?status=丢了", None, 400),
        ("get", "/tickets?limit=-1", None, 400),
        ("get", "/tickets?limit=100000", None, 400),
        ("get", "/handoffs?limit=abc", None, 400),
        ("patch", "/tickets/{number}", {"status": "丢了"}, 400),
        ("patch", "/tickets/{number}", {"phone": "13900000000"}, 400),
        ("patch", "/tickets/{number}", {}, 400),
        ("patch", "/tickets/{number}", {"reply": 12}, 400),
        ("patch", "/tickets/{number}", {"reply": "长" * 2001}, 400),
        ("patch", "/tickets/{number}", "not json", 400),
        ("patch", "/tickets/{number}", ["status"], 400),
    ],
)
async def test_bad_requests_get_a_clear_error_and_change_nothing(
    app, filed, method: str, path: str, body: Any, status: int
) -> None:
    number = filed["number"]
    kwargs: Dict[str, Any] = {"headers": AUTH}
    if isinstance(body, str):
        kwargs["content"] = body.encode()
    elif body is not None:
        kwargs["json"] = body
    _, reply = await getattr(app.asgi_client, method)(
        path.format(number=number), **kwargs
    )
    assert reply.status == status
    assert reply.json["error"]
    documented = (
        "/tickets/{number}" if path.startswith("/tickets/") else path.split("?")[0]
    )
    assert_documented(documented, method, status, reply.json)
    stored = await filed["store"].get(number)
    assert stored.status == "已受理" and stored.history == []


async def test_an_oversized_body_is_refused(app, filed) -> None:
    _, reply = await app.asgi_client.patch(
        f"/tickets/{filed['number']}",
        content=b'{"reply": "' + b"x" * 20000 + b'"}',
        headers=AUTH,
    )
    assert reply.status == 413
    assert_documented("/tickets/{number}", "patch", 413, reply.json)


def test_the_api_will_not_run_without_a_token() -> None:
    with pytest.raises(ValueError):
        create_app("")
