"""The playground's web app through Starlette's TestClient: pages, /ws, refusals."""

from __future__ import annotations

import json
import time

import pytest
from conftest import require

require("starlette")
require("httpx2")

from starlette.testclient import TestClient, WebSocketDenialResponse  # noqa: E402

from mlplab.playground.app import create_app, origin_allowed  # noqa: E402

BASE = "http://127.0.0.1:8000"
WS = "ws://127.0.0.1:8000/ws"


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    with TestClient(app, base_url=BASE) as c:
        yield c


def receive(ws, kind: str, limit: int = 50) -> dict:
    """The next message of ``kind``, skipping others."""
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in {limit}")


def open_session(client, **headers):
    ws = client.websocket_connect(WS, headers={"origin": BASE, **headers})
    return ws


def test_page_and_modules_are_served(client):
    page = client.get("/")
    assert page.status_code == 200
    for hook in ('id="play"', ">Step<", ">Reset<", ">Rewind<", ">Show code<", ">Add layer<",
                 'for="dataset">Data<', 'data-testid="epoch"', 'data-testid="train-loss"',
                 'data-testid="test-loss"'):  # fmt: skip
        assert hook in page.text
    for name in ("main.js", "diagram.js", "plots.js", "url.js", "colors.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_a_session_says_hello_then_streams_frames_while_playing(client):
    with open_session(client) as ws:
        hello = receive(ws, "hello")
        assert hello["limits"]["layers"] == 6 and "tanh" in hello["activations"]
        state = receive(ws, "state")
        assert state["sizes"] == [2, 4, 2, 1] and state["settings"]["dataset"] == "circle"
        assert receive(ws, "frame")["epoch"] == 0
        ws.send_json({"type": "play"})
        epochs = [receive(ws, "frame")["epoch"] for _ in range(5)]
        assert epochs[-1] > epochs[0] and epochs == sorted(epochs)
        ws.send_json({"type": "pause"})
        while receive(ws, "frame")["playing"]:
            pass
        ws.send_json({"type": "step"})
        stepped = receive(ws, "frame")
        assert not stepped["playing"]
        ws.send_json({"type": "config", "settings": {**state["settings"], "hidden": [3, 3, 3]}})
        assert receive(ws, "state")["sizes"] == [2, 3, 3, 3, 1]
        ws.send_json({"type": "code", "epochs": 5})
        code = receive(ws, "code")
        assert "import numpy as np" in code["source"] and code["rows"] == 250
        assert len(code["data"].splitlines()) == 1 + 250 and "..." in code["printed"]


def test_commands_reset_rewind_regenerate_upload_and_set_weight(client):
    with open_session(client) as ws:
        state = receive(ws, "state")
        receive(ws, "frame")
        ws.send_json({"type": "step"})
        assert receive(ws, "frame")["epoch"] == 1
        ws.send_json({"type": "rewind"})
        assert receive(ws, "state")["settings"]["seed"] == state["settings"]["seed"]
        assert receive(ws, "frame")["epoch"] == 0
        ws.send_json({"type": "reset"})
        assert receive(ws, "state")["settings"]["seed"] == state["settings"]["seed"] + 1
        receive(ws, "frame")
        ws.send_json({"type": "regenerate"})
        assert receive(ws, "state")["settings"]["data_seed"] == 1
        receive(ws, "frame")
        ws.send_json({"type": "set_weight", "layer": 0, "source": 1, "target": 2, "value": 3.0})
        assert receive(ws, "frame")["weights"][0]["W"][1][2] == 3.0
        csv = "\n".join(f"{i},{i % 3},{i % 2}" for i in range(10))
        ws.send_json({"type": "upload", "csv": csv, "name": "mine.csv"})
        uploaded = receive(ws, "state")
        assert uploaded["settings"]["dataset"] == "upload"
        assert len(uploaded["points"]["train"]["x"]) + len(uploaded["points"]["test"]["x"]) == 10


def test_bad_messages_get_a_clear_error_and_the_session_goes_on(client):
    with open_session(client) as ws:
        receive(ws, "frame")
        for raw, reason in [
            ("{not json", "not valid JSON"),
            (json.dumps({"type": "config", "settings": {"hidden": [1] * 9}}), "at most 6"),
            (json.dumps({"type": "upload", "csv": "x" * 200_000}), "message too large"),
            (json.dumps({"type": "upload", "csv": "1,2\n"}), "at least 4 rows"),
        ]:
            ws.send_text(raw)
            assert reason in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00")
        assert "not binary" in receive(ws, "error")["message"]
        ws.send_json({"type": "step"})
        assert receive(ws, "frame")["epoch"] == 1  # still serving


def test_one_tab_s_bad_input_does_not_disturb_another(client):
    with open_session(client) as good, open_session(client) as bad:
        receive(good, "frame")
        receive(bad, "frame")
        good.send_json({"type": "play"})
        bad.send_text("garbage")
        assert "not valid JSON" in receive(bad, "error")["message"]
        first = receive(good, "frame")["epoch"]
        later = [receive(good, "frame")["epoch"] for _ in range(3)][-1]
        assert later > first


def test_a_foreign_origin_is_refused(client):
    foreign = {"origin": "http://evil.example"}
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect(WS, headers=foreign),
    ):
        pass
    assert refused.value.status_code == 403
    assert "origin http://evil.example may not use this playground" in refused.value.text


def test_sessions_are_limited(app, client):
    app.state.hub.max_sessions = 1
    with open_session(client) as ws:
        receive(ws, "frame")
        with pytest.raises(WebSocketDenialResponse) as refused, open_session(client):
            pass
        assert refused.value.status_code == 503 and "too many sessions" in refused.value.text


def test_an_unknown_host_name_is_refused(app):
    with TestClient(app, base_url="http://rebound.example:8000") as other:
        assert other.get("/").status_code == 400


def test_origin_rule():
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert origin_allowed(None, "127.0.0.1:8000")  # not a browser page
    assert not origin_allowed("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not origin_allowed("null", "127.0.0.1:8000")
    assert not origin_allowed("file:///tmp/x.html", "127.0.0.1:8000")


def test_a_session_is_dropped_when_its_tab_goes_away(app, client):
    hub = app.state.hub
    with open_session(client) as ws:
        receive(ws, "frame")
        ws.send_json({"type": "play"})
        receive(ws, "frame")
        assert len(hub.sessions) == 1
    deadline = time.monotonic() + 5
    while hub.sessions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hub.sessions == set()


def test_a_link_message_applies_its_valid_fields_and_names_the_rest(client):
    with open_session(client) as ws:
        receive(ws, "frame")
        ws.send_json({"type": "link", "fields": {"dataset": "spiral", "lr": "1e309"}})
        state = receive(ws, "state")
        assert state["settings"]["dataset"] == "spiral" and state["settings"]["lr"] == 0.03
        error = receive(ws, "error")["message"]
        assert error == (
            "ignored in the link: lr=1e309 (the learning rate must be above 0 and at most 10); "
            "the rest applied"
        )


def test_steps_are_trained_and_shown_by_the_next_frame(client):
    with open_session(client) as ws:
        receive(ws, "frame")
        for _ in range(5):
            ws.send_json({"type": "step"})
        epochs = 0
        while epochs < 5:
            frame = receive(ws, "frame")
            assert not frame["playing"] and frame["epoch"] >= epochs
            epochs = frame["epoch"]
        assert epochs == 5


def test_a_websocket_by_another_host_name_is_refused_and_logged_once(app, caplog):
    with TestClient(app, base_url="http://evil.example:8000") as other:
        headers = {"origin": "http://evil.example:8000"}  # a rebound name: same-origin to it
        with (
            caplog.at_level("WARNING", logger="mlplab.playground"),
            pytest.raises(WebSocketDenialResponse) as refused,
            other.websocket_connect("ws://evil.example:8000/ws", headers=headers),
        ):
            pass
    assert refused.value.status_code == 403
    assert "Host evil.example:8000 is not a name this server answers to" in refused.value.text
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "refused a WebSocket" in lines[0] and "evil.example" in lines[0]


def test_host_names_with_ports_and_ipv6():
    from mlplab.playground.app import host_allowed

    allowed = ["127.0.0.1", "localhost", "[::1]", "lab.example"]
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "LAB.example:80"):
        assert host_allowed(host, allowed), host
    for host in ("evil.com:8000", "", "127.0.0.2:8000", "lab.example.evil.com"):
        assert not host_allowed(host, allowed), host
    assert host_allowed("anything:1", ["*"])
