"""The API keeps to its own OpenAPI schema: `Allow` on 405, no undocumented status, one rule for FAQ text.

The tiny bot in-process (real app, real SQLite store); the schema is the one
the app publishes at /openapi.json, read by a JSON Schema validator as any
client would.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient

from agent.http import ApiKeys, create_app
from agent.pipeline.dialog import Agent

ADMIN = {"Authorization": "Bearer admin-key"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def client(served_tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    bot = Path(shutil.copytree(served_tiny_dir, tmp_path_factory.mktemp("schema") / "bot"))
    agent = Agent.load(bot, store_url=f"sqlite:///{bot / 'schema.db'}")
    with TestClient(create_app(agent, ApiKeys.parse("admin-key:admin", "test keys"))) as test_client:
        yield test_client
    agent.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1/faq/opening-hours"),
        ("PUT", "/v1/faq"),
        ("DELETE", "/v1/conversations/c-1/messages"),
        ("POST", "/v1/health"),
    ],
)
def test_405_names_every_method_the_path_serves(client: TestClient, method: str, path: str) -> None:
    documented = client.get("/openapi.json").json()["paths"]
    template = next(t for t in documented if _matches(t, path))
    expected = ", ".join(sorted(m.upper() for m in documented[template] if m in METHODS))
    response = client.request(method, path, headers=ADMIN)
    assert response.status_code == 405
    assert response.headers["Allow"] == expected
    assert response.json()["error"] == "method_not_allowed" and expected in response.json()["message"]


def _matches(template: str, path: str) -> bool:
    parts, segments = template.strip("/").split("/"), path.strip("/").split("/")
    if len(parts) != len(segments):
        return False
    return all(part.startswith("{") or part == segment for part, segment in zip(parts, segments, strict=True))


@pytest.mark.parametrize(
    ("path", "template"),
    [("/v1/faq", "/v1/faq"), ("/v1/conversations/c-2/messages", "/v1/conversations/{conversation_id}/messages")],
)
def test_a_body_that_is_not_utf8_is_a_documented_422(client: TestClient, path: str, template: str) -> None:
    not_utf8 = b'{"text": "\xdd)\xd9"}'
    response = client.post(path, content=not_utf8, headers={**ADMIN, "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("body: invalid JSON (not UTF-8 text at byte 10)")
    documented = client.get("/openapi.json").json()["paths"]
    assert "422" in documented[template]["post"]["responses"]
    assert not [(p, m) for p, ops in documented.items() for m, op in ops.items() if "400" in op.get("responses", {})]


FAQ_TEXTS = [
    "an ordinary line",
    "  padded  ",
    "two\nlines",
    "a\ttab",
    "",
    "   ",
    "\t\n",
    "\u00a0\u3000",  # no-break and ideographic spaces only
    "nul\x00inside",
    "escape\x1b[31m",
    "line\u2028separator",
    "\x85",
]


@pytest.mark.parametrize("text", FAQ_TEXTS)
@pytest.mark.parametrize("field", ["alternatives", "tags", "question"])
def test_faq_text_the_schema_accepts_is_exactly_what_the_server_accepts(
    client: TestClient, field: str, text: str
) -> None:
    body: dict[str, object] = {"id": "schema-check", "question": "Do you?", "answer": "We do."}
    body[field] = [text] if field != "question" else text
    schema = client.get("/openapi.json").json()
    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/FaqCreate", **schema})
    valid_by_schema = validator.is_valid(body)
    response = client.post("/v1/faq", json=body, headers=ADMIN)
    assert response.status_code in (201, 422), response.text
    assert (response.status_code == 201) == valid_by_schema, f"schema says {valid_by_schema}: {response.text}"
    if response.status_code == 201:
        assert client.delete("/v1/faq/schema-check", headers=ADMIN).status_code == 204
    else:
        assert f"body.{field}" in response.json()["message"]
