"""The playground's step-through and hovers: the traced step is training's own, the message
carries the trace's arrays, and a hovered unit's formula is the forward pass at the point."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import require

require("pydantic")

from mlplab import MLP, SGD, ConfigError, TrainingDivergedError  # noqa: E402
from mlplab.playground.schema import MessageError, Settings, parse_message  # noqa: E402
from mlplab.playground.session import Session  # noqa: E402
from mlplab.playground.stepthrough import ROWS  # noqa: E402


def copy_of(net: MLP) -> MLP:
    """A network of the same shape with the same weights, to trace beside the session."""
    copy = MLP(**{k: v for k, v in net.config().items() if k != "stack"})
    for mine, theirs in zip(copy.params, net.params, strict=True):
        for name in mine:
            mine[name][...] = theirs[name]
    return copy


def library_trace(session: Session):
    """The library's trace of the session's first epoch, on a copy, with the same options."""
    s = session.settings
    return copy_of(session.net).trace(
        session.inputs["train"],
        session.targets["train"],
        optimizer=SGD(s.lr),
        batch_size=s.batch_size,
        seed=np.random.default_rng(s.seed),  # the session's batch order at epoch 0
    )


def test_a_traced_step_is_the_step_training_takes():
    settings = Settings(hidden=(3, 2), lr=0.3, batch_size=7, regularization="L2", reg_rate=0.01,
                        seed=5)  # fmt: skip
    stepped, traced = Session(settings), Session(settings)
    stepped.step()
    stepped.step()
    traced.step()
    message = traced.trace()  # the second epoch, traced
    assert message["epoch"] == 1 and traced.epoch == 2 == stepped.epoch
    for a, b in zip(stepped.net.params, traced.net.params, strict=True):
        np.testing.assert_array_equal(a["W"], b["W"])
        np.testing.assert_array_equal(a["b"], b["b"])
    stepped.step()
    traced.step()  # the batch order goes on from the same generator
    for a, b in zip(stepped.net.params, traced.net.params, strict=True):
        np.testing.assert_array_equal(a["W"], b["W"])
    assert traced.frame()["epoch"] == 3


def test_the_message_is_the_library_trace_s_first_batch_cut_to_its_first_rows():
    session = Session(Settings(hidden=(4, 2), batch_size=10, lr=0.1, seed=2))
    expected = library_trace(session)
    message = json.loads(json.dumps(session.trace(), allow_nan=False))  # what goes over the wire
    first = expected.batch(0)
    n_train = len(session.inputs["train"])
    assert message["batches"] == math.ceil(n_train / 10) == expected.batches
    assert message["batch_rows"] == 10 and message["rows_shown"] == ROWS == 4
    assert message["batch_note"].startswith(f"batch 1 of {expected.batches}: 10 rows")
    assert [line["text"] for line in message["lines"]] == [s.line for s in first]
    for line, step in zip(message["lines"], first, strict=True):
        assert line["source"] == str(step.source) and line["code"] == step.source.code
        arrays = {a["name"]: a for a in line["arrays"]}
        out = arrays[f"{step.name} after" if step.before is not None else step.name]
        assert out["role"] == "out" and out["shape"] == list(np.shape(step.value))
        value = np.asarray(step.value)
        if out["rows_shown"] is not None:  # one row per example: the first rows
            assert value.shape[0] == 10 and out["rows_shown"] == ROWS
            value = value[:ROWS]
        np.testing.assert_array_equal(np.asarray(out["values"], dtype=float), value)
        for name, read in step.inputs.items():
            if step.before is not None and name == step.name:
                continue  # an update shows its parameter before and after instead
            rows = arrays[name]["rows_shown"]
            read = np.asarray(read) if rows is None else np.asarray(read)[:rows]
            np.testing.assert_array_equal(np.asarray(arrays[name]["values"], dtype=float), read)
        if step.before is not None:
            np.testing.assert_array_equal(arrays[f"{step.name} before"]["values"], step.before)
            assert out["changed"] == np.asarray(step.changed).tolist()
    h1 = next(line for line in message["lines"] if line["text"].startswith("h1 ="))
    X = next(a for a in h1["arrays"] if a["name"] == "X")
    assert X["shape"] == [10, 2] and len(X["values"]) == ROWS


def test_each_line_touches_its_layer_and_links_in_the_diagram():
    message = Session(Settings(hidden=(4, 2))).trace()  # columns 0 (inputs) to 3 (output)
    touched = {line["text"].split(" ")[0]: (line["columns"], line["links"])
               for line in message["lines"]}  # fmt: skip
    assert touched["h1"] == ([0, 1], [0])  # h1 = tanh(X @ W1 + b1): inputs, layer 1, W1
    assert touched["h2"] == ([1, 2], [1])
    assert touched["y"] == ([2, 3], [2])
    assert touched["L"] == ([3], [])  # the loss: the output
    assert touched["delta3"] == ([3], [])  # the output delta
    assert touched["dW3"] == ([2, 3], [2]) and touched["db3"] == ([3], [])
    assert touched["delta2"] == ([2], [2])  # a hidden delta: its units, through W3.T
    assert touched["delta1"] == ([1], [1])
    assert touched["W1"] == ([0, 1], [0]) and touched["b1"] == ([1], [])
    assert touched["W3"] == ([2, 3], [2]) and touched["b3"] == ([3], [])
    phases = [line["phase"] for line in message["lines"]]
    assert phases[:4] == ["forward", "forward", "forward", "loss"]
    assert phases[-6:] == ["update"] * 6


def test_the_seed_s_four_points_are_one_batch_shown_whole():
    session = Session(Settings(dataset="xor", hidden=(4,)))
    message = session.trace()
    assert message["batches"] == 1 and message["batch_rows"] == 4
    assert message["batch_note"] == "one batch: all 4 training rows (all shown)"
    h1 = message["lines"][0]
    assert h1["text"] == "h1 = tanh(X @ W1 + b1)"
    X = next(a for a in h1["arrays"] if a["name"] == "X")
    np.testing.assert_array_equal(X["values"], session.inputs["train"])


def test_a_unit_s_formula_is_the_forward_pass_at_the_point():
    settings = Settings(features=("x1", "x2", "sinx1"), hidden=(3, 2), activation="tanh")
    session = Session(settings)
    session.step()
    point = (0.7, -1.3)
    row = np.array([[0.7, -1.3, np.sin(0.7)]])
    h1, h2, y = session.net.forward(row)
    W1, b1 = session.net.params[0]["W"], session.net.params[0]["b"]

    unit = session.inspect_unit(1, 2, point)  # layer 1, unit 3
    assert unit["name"] == "h1_3" and unit["activation"] == "tanh" and unit["point"] == [0.7, -1.3]
    assert [t["input"] for t in unit["terms"]] == ["x1", "x2", "sin(x1)"]
    np.testing.assert_array_equal([t["value"] for t in unit["terms"]], row[0])
    np.testing.assert_array_equal([t["weight"] for t in unit["terms"]], W1[:, 2])
    assert unit["bias"] == b1[2]
    assert unit["z"] == pytest.approx(row[0] @ W1[:, 2] + b1[2], abs=1e-12)
    assert unit["output"] == h1[0, 2] == pytest.approx(math.tanh(unit["z"]), abs=1e-12)

    hidden = session.inspect_unit(2, 0, point)  # reads layer 1's outputs
    assert [t["input"] for t in hidden["terms"]] == ["h1_1", "h1_2", "h1_3"]
    np.testing.assert_array_equal([t["value"] for t in hidden["terms"]], h1[0])
    assert hidden["output"] == h2[0, 0]

    out = session.inspect_unit(3, 0, point)
    assert out["name"] == "y" and out["activation"] == "sigmoid"
    assert out["output"] == y[0, 0] == pytest.approx(1 / (1 + math.exp(-out["z"])), abs=1e-12)

    feature = session.inspect_unit(0, 2, point)
    assert feature["name"] == "sin(x1)" and feature["activation"] is None
    assert feature["output"] == np.sin(0.7)
    with pytest.raises(ConfigError, match="column 4 does not exist; the network has 4"):
        session.inspect_unit(4, 0, point)
    with pytest.raises(ConfigError, match="column 2 has 2 units; there is no unit 2"):
        session.inspect_unit(2, 2, point)


def test_a_softmax_output_unit_names_its_class():
    session = Session(Settings(dataset="spiral3", hidden=(4,)))
    units = [session.inspect_unit(2, k, (1.0, 2.0)) for k in range(3)]
    assert [u["name"] for u in units] == ["y_1", "y_2", "y_3"]
    assert {u["activation"] for u in units} == {"softmax"}
    z = np.array([u["z"] for u in units])
    np.testing.assert_allclose([u["output"] for u in units], np.exp(z) / np.exp(z).sum())


def test_a_link_shows_its_weight_and_the_gradient_of_the_last_batch():
    session = Session(Settings(hidden=(4, 2), batch_size=10, seed=3))
    before = session.inspect_link(0, 1, 2)
    assert before["weight"] == session.net.params[0]["W"][1, 2]
    assert before["grad"] is None  # no step yet
    expected = library_trace(session)
    session.trace()
    last = expected.batches - 1  # the gradient the epoch's last update used
    link = session.inspect_link(0, 1, 2)
    assert link["weight"] == session.net.params[0]["W"][1, 2] != before["weight"]
    assert link["grad"] == expected.step("dW1", batch=last).value[1, 2]
    bias = session.inspect_link(2, -1, 0)
    assert bias["grad"] == expected.step("db3", batch=last).value[0]
    session.rewind()
    assert session.inspect_link(0, 1, 2)["grad"] is None
    with pytest.raises(
        ConfigError, match="no weight from unit 2 to unit 0 in layer 0: it is 2 x 4"
    ):
        session.inspect_link(0, 2, 0)


def test_the_compiled_engine_s_gradient_is_shown_after_a_traced_step():
    require("jax")
    session = Session(Settings(hidden=(2,)), engine="jax")
    assert session.inspect_link(0, 0, 0)["grad"] is None
    session.trace()  # traced on NumPy: its gradients are the network's last
    assert session.inspect_link(0, 0, 0)["grad"] == session.net.grads[0]["W"][0, 0]


def test_a_diverging_traced_step_pauses_and_keeps_the_weights_before_it():
    session = Session(Settings(dataset="plane", problem="regression", hidden=(8, 8), lr=10.0,
                               batch_size=1))  # fmt: skip
    for layer, p in enumerate(session.net.params):
        for i in range(p["W"].shape[0]):
            for j in range(p["W"].shape[1]):
                session.set_weight(layer, i, j, 50.0)
    weights = session.net.params[0]["W"].copy()
    with pytest.raises(TrainingDivergedError, match=r"diverged by epoch 1.*paused at epoch 0"):
        session.trace()
    assert session.epoch == 0 and not session.playing
    np.testing.assert_array_equal(session.net.params[0]["W"], weights)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"type": "trace", "epochs": 2}', "'epochs' is not part of a trace message"),
        ('{"type": "inspect_unit", "column": 9, "unit": 0, "x1": 0, "x2": 0}',
         "the column of a unit must be between 0 and 7"),
        ('{"type": "inspect_unit", "column": 1, "unit": 0, "x1": 1e999, "x2": 0}',
         "the point's x1 must be between -1e+06 and 1e+06"),
        ('{"type": "inspect_unit", "column": 1, "unit": 0, "x1": 0}', "the point's x2 is missing"),
        ('{"type": "inspect_link", "layer": 0, "source": -2, "target": 0}',
         "the unit a weight comes from must be between -1 and 7"),
    ],
)  # fmt: skip
def test_bad_step_through_and_hover_messages_are_refused_in_the_page_s_words(raw, message):
    with pytest.raises(MessageError) as caught:
        parse_message(raw)
    assert str(caught.value) == message


def test_over_the_socket_a_trace_comes_with_the_frame_after_it_and_hovers_are_answered():
    require("starlette")
    require("httpx2")
    from starlette.testclient import TestClient

    from mlplab.playground.app import create_app

    base = "http://127.0.0.1:8000"
    with TestClient(create_app(), base_url=base) as client:
        assert client.get("/static/stepthrough.js").status_code == 200
        assert 'id="next-line"' in client.get("/").text
        with client.websocket_connect("ws://127.0.0.1:8000/ws", headers={"origin": base}) as ws:
            while ws.receive_json()["type"] != "frame":
                pass
            ws.send_json({"type": "play"})
            ws.send_json({"type": "trace"})  # pauses, then the traced step
            while (message := ws.receive_json())["type"] != "trace":
                pass
            frame = ws.receive_json()
            assert frame["type"] == "frame" and not frame["playing"]
            assert frame["epoch"] == message["epoch"] + 1
            assert message["lines"][0]["text"] == "h1 = tanh(X @ W1 + b1)"
            ws.send_json({"type": "inspect_unit", "column": 1, "unit": 0, "x1": 1.5, "x2": -2})
            unit = ws.receive_json()
            assert unit["type"] == "unit_formula" and unit["name"] == "h1_1"
            assert unit["point"] == [1.5, -2.0]
            ws.send_json({"type": "inspect_link", "layer": 0, "source": 1, "target": 0})
            link = ws.receive_json()
            assert link["type"] == "link_value"
            assert link["weight"] == pytest.approx(frame["weights"][0]["W"][1][0], abs=1e-5)
            assert isinstance(link["grad"], float)
            ws.send_json({"type": "inspect_link", "layer": 5, "source": 0, "target": 0})
            assert ws.receive_json() == {
                "type": "error",
                "message": "layer 5 does not exist; the network has 3",
            }
