"""The playground's session logic: it trains, its frames carry what they claim, limits hold."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import require

require("pydantic")

from mlplab import MLP, SGD, ConfigError, DataError, TrainingDivergedError  # noqa: E402
from mlplab.playground.features import feature_matrix  # noqa: E402
from mlplab.playground.schema import LIMITS, MessageError, Settings, parse_message  # noqa: E402
from mlplab.playground.session import GRID, NEURON_STRIDE, Session, decode_grid  # noqa: E402


def grid_points(session: Session, stride: int = 1) -> np.ndarray:
    lo, hi = session.domain
    centres = lo + (np.arange(GRID) + 0.5) * (hi - lo) / GRID
    x1, x2 = np.meshgrid(centres, centres[::-1])
    s = slice(stride // 2, None, stride)  # the centres of the coarser grid
    return np.column_stack([x1[s, s].ravel(), x2[s, s].ravel()])


def test_default_circle_reaches_test_loss_below_point_one_in_a_few_hundred_epochs():
    session = Session()
    assert session.settings.dataset == "circle" and session.net.sizes == (2, 4, 2, 1)
    for _ in range(30):  # at most 300 epochs (measured: 70)
        session.train_for(math.inf, max_epochs=10)
        if session.losses()[1] < 0.1:
            break
    assert session.losses()[1] < 0.1
    assert session.epoch > 0


def test_frame_carries_epoch_losses_output_units_and_weights():
    session = Session(Settings(hidden=(3, 2)))
    session.step()
    session.step()
    frame = json.loads(json.dumps(session.frame()))  # what goes over the wire
    assert frame["epoch"] == 2 == session.epoch
    train, test = session.losses()
    assert frame["train_loss"] == pytest.approx(train) and frame["test_loss"] == pytest.approx(test)
    assert train == pytest.approx(
        session.net.evaluate(session.inputs["train"], session.targets["train"])
    )
    # the output grid is the network's prediction over the plane, to 1/255
    y = session.net.predict(feature_matrix(grid_points(session), ["x1", "x2"]))
    output = decode_grid(frame["output"], *frame["output_range"])
    np.testing.assert_allclose(output, y[:, 0], atol=0.5 / 255 + 1e-12)
    # and the output unit's input (its logit), which the page interpolates before the sigmoid
    logit = decode_grid(frame["output_z"], *frame["z_range"])
    expected_z = np.clip(np.log(y[:, 0] / (1 - y[:, 0])), *frame["z_range"])
    np.testing.assert_allclose(logit, expected_z, atol=24 / 255 / 2 + 1e-4)
    # every unit's heatmap: hidden layers then the output, every NEURON_STRIDE-th point
    outs = session.net.forward(feature_matrix(grid_points(session, NEURON_STRIDE), ["x1", "x2"]))
    g = frame["unit_grid"]
    units = decode_grid(frame["units"], -1, 1).reshape(3 + 2 + 1, g * g)
    expected = np.clip(np.concatenate(outs, axis=1).T, -1, 1)
    np.testing.assert_allclose(units, expected, atol=1 / 255 + 1e-12)
    for sent, param in zip(frame["weights"], session.net.params, strict=True):
        np.testing.assert_allclose(sent["W"], param["W"], atol=1e-5)
        np.testing.assert_allclose(sent["b"], param["b"], atol=1e-5)


def test_a_session_epoch_is_the_library_mini_batch_step():
    """The flat-buffer update gives the same weights as MLP + SGD over the same batches."""
    settings = Settings(hidden=(5, 3), lr=0.3, batch_size=7, seed=4)
    session = Session(settings)
    net = MLP(**session.net.config())  # the same start: same seed and init
    for mine, theirs in zip(net.params, session.net.params, strict=True):
        np.testing.assert_array_equal(mine["W"], theirs["W"])
    X, T = session.inputs["train"], session.targets["train"]
    order = np.random.default_rng(settings.seed).permutation(len(X))
    opt = SGD(settings.lr)
    params = [v for p in net.params for v in p.values()]
    for s in range(0, len(X), 7):
        net.loss_and_backward(X[order][s : s + 7], T[order][s : s + 7])
        opt.step(params, [v for g in net.grads for v in g.values()])
    session.step()
    for mine, theirs in zip(net.params, session.net.params, strict=True):
        np.testing.assert_array_equal(mine["W"], theirs["W"])
        np.testing.assert_array_equal(mine["b"], theirs["b"])


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_regularisation_adds_its_gradient_to_the_weights_only(kind):
    settings = Settings(hidden=(4,), lr=0.1, batch_size=LIMITS["points"], regularization=kind,
                        reg_rate=0.05)  # fmt: skip
    session = Session(settings)
    net = MLP(**session.net.config())
    _, grads = net.gradients(session.inputs["train"], session.targets["train"])
    session.step()  # one full batch
    for p, g, after in zip(net.params, grads, session.net.params, strict=True):
        reg = p["W"] if kind == "L2" else np.sign(p["W"])
        np.testing.assert_allclose(after["W"], p["W"] - 0.1 * (g["W"] + 0.05 * reg), atol=1e-12)
        np.testing.assert_allclose(after["b"], p["b"] - 0.1 * g["b"], atol=1e-12)


def test_rewind_replays_the_same_start_and_reset_draws_a_new_one():
    session = Session()
    start = [p["W"].copy() for p in session.net.params]
    for _ in range(3):
        session.step()
    after_three = [p["W"].copy() for p in session.net.params]
    session.rewind()
    assert session.epoch == 0
    np.testing.assert_array_equal(session.net.params[0]["W"], start[0])
    for _ in range(3):
        session.step()
    for a, b in zip(after_three, session.net.params, strict=True):
        np.testing.assert_array_equal(a, b["W"])
    session.reset()
    assert session.settings.seed == 2 and session.epoch == 0
    assert not np.array_equal(session.net.params[0]["W"], start[0])


def test_configure_rebuilds_only_what_changed():
    session = Session()
    session.step()
    W = session.net.params[0]["W"].copy()
    session.configure(session.settings.model_copy(update={"lr": 0.1, "batch_size": 5}))
    np.testing.assert_array_equal(session.net.params[0]["W"], W)  # kept: a live change
    assert session.epoch == 1
    session.configure(session.settings.model_copy(update={"hidden": (8, 8, 8)}))
    assert session.net.sizes == (2, 8, 8, 8, 1) and session.epoch == 0
    session.configure(session.settings.model_copy(update={"features": ("x1", "x2", "x1x2")}))
    assert session.net.sizes[0] == 3 and session.state()["features"] == ["x1", "x2", "x1*x2"]
    np.testing.assert_allclose(session.inputs["train"][:, 2], session.points["train"].prod(axis=1))


def test_multi_class_trains_with_softmax_and_one_plane_per_class():
    session = Session(Settings(dataset="gaussians3", hidden=(4,), lr=0.1))
    assert session.classes == 3 and session.net.output_activation.name == "softmax"
    before = session.losses()[0]
    session.train_for(math.inf, max_epochs=30)
    assert session.losses()[0] < before
    frame = session.frame()
    probabilities = decode_grid(frame["output"], 0, 1).reshape(3, GRID * GRID)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1, atol=3 / 255)


def test_regression_uses_a_linear_output_and_squared_error():
    session = Session(Settings(problem="regression"))
    assert session.net.output_activation.name == "identity"
    assert session.net.loss.name == "squared_error"


def test_the_seed_xor_trains_and_tests_on_its_four_points():
    session = Session(Settings(dataset="xor", hidden=(4,), lr=1.0, batch_size=4))
    assert len(session.points["train"]) == len(session.points["test"]) == 4
    assert session.domain == (-0.5, 1.5)


def test_set_weight_edits_the_network_and_refuses_missing_links():
    session = Session()
    session.set_weight(0, 1, 3, 2.5)
    session.set_weight(1, -1, 0, -0.75)
    assert session.net.params[0]["W"][1, 3] == 2.5
    assert session.net.params[1]["b"][0] == -0.75
    assert session.frame()["weights"][0]["W"][1][3] == 2.5
    with pytest.raises(ConfigError, match="no weight"):
        session.set_weight(0, 2, 0, 1.0)
    with pytest.raises(ConfigError, match="layer 5 does not exist"):
        session.set_weight(5, 0, 0, 1.0)


def test_divergence_pauses_and_keeps_finite_weights():
    session = Session(Settings(problem="regression", activation="relu", lr=10.0, hidden=(8,) * 6))
    session.playing = True
    with pytest.raises(TrainingDivergedError, match="Lower the learning rate"):
        for _ in range(100):
            session.train_for(math.inf, max_epochs=5)
    assert not session.playing
    assert all(np.isfinite(v).all() for p in session.net.params for v in p.values())


def test_upload_uses_the_points_and_bad_files_are_refused_by_row_and_column():
    session = Session()
    rows = "\n".join(f"{x},{-x},{int(x > 0)}" for x in np.linspace(-3, 3, 20))
    session.upload("x1,x2,label\n" + rows, "mine.csv")
    assert session.settings.dataset == "upload" and session.classes == 2
    assert len(session.points["train"]) + len(session.points["test"]) == 20
    session.train_for(0.05)
    bad = {
        "1,2\n3,4\n5,6\n7,8\n": "row 1 has 2 columns",
        "1,2,0\n3,x,1\n5,6,0\n7,8,1\n": "row 2, column x2: 'x' is not a number",
        "1,2,0\n3,4,1\n5,6,0.5\n7,8,1\n": "row 3, column label: 0.5 is not a class number",
        "1,2,0\n3,4,0\n5,6,0\n7,8,0\n": "at least 2 classes",
        "1,2,0\n": "at least 4 rows",
        "1,2,0\n3,inf,1\n5,6,0\n7,8,1\n": "row 2, column x2: 'inf' is not a finite number",
        "\n".join(["1,2,0", "2,1,1"] * 501): "1002 rows; the limit is 1000",
    }
    for text, message in bad.items():
        with pytest.raises(DataError, match=re.escape(message)):
            session.upload(text, "bad.csv")
    assert len(session.points["train"]) + len(session.points["test"]) == 20  # unchanged


def test_uploaded_numbers_are_not_classes_until_they_are_class_numbers():
    session = Session(Settings(problem="regression"))
    session.upload("\n".join(f"{x},{x * x},{x / 3}" for x in range(-5, 6)), "values.csv")
    assert session.net.output_activation.name == "identity" and session.classes == 2
    assert session.output_range() == (-5 / 3, 5 / 3)
    with pytest.raises(DataError, match="is not a class number"):
        session.configure(session.settings.model_copy(update={"problem": "classification"}))
    assert session.settings.problem == "regression"  # refused: nothing changed
    session.upload("\n".join(f"{x},{-x},{x % 3}" for x in range(12)), "three.csv")
    session.configure(session.settings.model_copy(update={"problem": "classification"}))
    assert session.classes == 3 and session.net.output_activation.name == "softmax"


def test_no_hidden_layer_is_a_linear_model_with_one_heatmap():
    session = Session(Settings(hidden=()))
    assert session.net.sizes == (2, 1)
    frame = session.frame()
    assert len(decode_grid(frame["units"], -1, 1)) == frame["unit_grid"] ** 2


def test_choosing_upload_before_uploading_is_refused_and_changes_nothing():
    session = Session()
    with pytest.raises(DataError, match="no uploaded points"):
        session.configure(session.settings.model_copy(update={"dataset": "upload"}))
    assert session.settings.dataset == "circle"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"hidden": [8] * 7}, "a network may have at most 6 hidden layers"),
        ({"hidden": [9]}, "a hidden layer must have between 1 and 8 neurons"),
        ({"hidden": [0]}, "a hidden layer must have between 1 and 8 neurons"),
        ({"points": 100000}, "the number of points must be between 10 and 1000"),
        ({"lr": 0}, "the learning rate must be above 0 and at most 10"),
        ({"lr": 1e9}, "the learning rate must be above 0 and at most 10"),
        ({"reg_rate": -1}, "the regularization rate must be between 0 and 10"),
        ({"activation": "softmax"}, "the activation must be one of 'sigmoid', 'tanh'"),
        ({"dataset": "mnist"}, "the data set must be one of 'circle'"),
        ({"features": []}, "choose at least one input feature"),
        ({"features": ["x1", "x1"]}, "a feature may be chosen only once"),
        ({"batch_size": 0}, "the batch size must be between 1 and 1000"),
        ({"nonsense": 1}, "'nonsense' is not a setting the page knows"),
    ],
)
def test_settings_out_of_range_are_refused(settings, message):
    with pytest.raises(MessageError, match=re.escape(message)):
        parse_message(json.dumps({"type": "config", "settings": settings}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "message is not valid JSON"),
        (b"\x00\x01", "messages must be JSON text, not binary"),
        ('{"type": "launch"}', "unknown message type 'launch'; expected 'config'"),
        ("[1, 2]", "a message must be a JSON object with a type"),
        ('{"type": "play", "extra": 1}', "'extra' is not part of a play message"),
        (
            '{"type": "set_weight", "layer": 0, "source": 0, "target": 0, "value": 1e300}',
            "a weight must be between -100 and 100",
        ),
        ('{"type": "code", "epochs": 10000000}', "the program's epochs must be between 0 and"),
        (
            '{"type": "upload", "csv": "' + "1" * (LIMITS["message_bytes"] + 1) + '"}',
            "message too large",
        ),
        # 1e309 is infinite in JSON: refused like 1e300, not taken as 0 or inf
        (
            '{"type": "set_weight", "layer": 0, "source": 0, "target": 0, "value": 1e309}',
            "a weight must be between -100 and 100",
        ),
        ("[" * 60000 + "]" * 60000, "message is nested too deeply"),
        ('{"type": "config"}', "the settings are missing"),
        ('{"type": "link", "fields": {"lr": 3}}', "the link's field lr must be text"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(raw, message):
    with pytest.raises(MessageError, match=re.escape(message)):
        parse_message(raw)


def test_show_code_program_prints_what_the_page_shows(tmp_path):
    session = Session(Settings(hidden=(3,), points=40))
    session.train_for(0.05)
    code = session.code(epochs=50)
    (tmp_path / "shown.py").write_text(code["source"])
    (tmp_path / code["data_file"]).write_text(code["data"])
    run = subprocess.run([sys.executable, "shown.py"], capture_output=True, text=True, check=True,
                         cwd=tmp_path)  # fmt: skip
    # the page shows NumPy's printout of the array, as the program prints it: its ends
    assert run.stdout.strip() == code["printed"]
    printed = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", code["printed"])]
    assert code["printed"].startswith("[[") and "..." in code["printed"] and len(printed) == 6
    copy = MLP(**session.net.config())
    for mine, theirs in zip(copy.params, session.net.params, strict=True):
        mine["W"][...], mine["b"][...] = theirs["W"], theirs["b"]
    copy.fit(session.inputs["train"], session.targets["train"], epochs=50, lr=session.settings.lr)
    y = copy.predict(session.inputs["train"])[:, 0]
    np.testing.assert_allclose(printed, np.r_[y[:3], y[-3:]], rtol=1e-6, atol=1e-8)


def test_show_code_reads_the_data_from_a_file_not_from_inline_rows():
    session = Session()  # 250 training points
    code = session.code(epochs=10)
    assert code["rows"] == len(session.points["train"]) == 250
    assert len(code["source"].splitlines()) < 80  # the weights, the loop, no data rows
    assert f'np.loadtxt("{code["data_file"]}"' in code["source"]
    data = np.loadtxt(code["data"].splitlines(), delimiter=",", skiprows=1)
    np.testing.assert_array_equal(data[:, :2], session.inputs["train"])  # exact, every digit
    np.testing.assert_array_equal(data[:, 2:], session.targets["train"])
    assert code["data"].splitlines()[0] == "x1,x2,t1"
    assert len(code["printed"].splitlines()) == 7  # 3 rows, "...", 3 rows


def test_an_overflowing_loss_is_sent_as_null_not_as_invalid_json():
    session = Session(Settings(problem="regression", activation="identity", hidden=(2,)))
    session.net.params[0]["W"][...] = 1e200  # past anything the page allows: only in place
    assert session.losses() == (None, None)
    frame = json.loads(json.dumps(session.frame(), allow_nan=False))
    assert frame["train_loss"] is None and frame["test_loss"] is None


def test_data_controls_regenerate_split_and_add_noise():
    session = Session()
    before = session.points["train"].copy()
    session.regenerate()
    assert session.settings.data_seed == 1
    assert not np.array_equal(session.points["train"], before)
    session.configure(session.settings.model_copy(update={"train_ratio": 0.8, "points": 100}))
    assert (len(session.points["train"]), len(session.points["test"])) == (80, 20)
    quiet = session.points["train"].copy()
    session.configure(session.settings.model_copy(update={"noise": 0.5}))
    assert np.abs(session.points["train"] - quiet).max() > 0.5


def test_state_carries_points_and_each_input_s_heatmap():
    session = Session(Settings(features=("x1", "x2sq")))
    state = json.loads(json.dumps(session.state()))
    assert state["sizes"] == [2, 4, 2, 1] and state["features"] == ["x1", "x2^2"]
    assert len(state["points"]["train"]["x"]) == len(state["points"]["train"]["label"]) == 250
    g = state["unit_grid"]
    x1, x2sq = decode_grid(state["inputs"], -1, 1).reshape(2, g, g)
    # scaled to [-1, 1]: x1 grows to the right, x2^2 is largest at the top and bottom edges
    assert x1[0, 0] < 0 < x1[0, -1] and x1[0, -1] == pytest.approx(1, abs=0.01)
    assert x2sq[0, g // 2] == pytest.approx(1, abs=0.01) and x2sq[g // 2, 0] < 0.05


def test_the_session_trains_through_the_library_fit():
    session = Session(Settings(hidden=(3,), batch_size=25))
    session.step()
    session.train_for(0.05)
    # MLP.fit counts every epoch it ran in the network's training metadata
    assert session.net.training_metadata["epochs"] == session.epoch > 1


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_mini_batch_regularisation_matches_sgd_with_the_penalty_batch_by_batch(kind):
    settings = Settings(hidden=(4,), lr=0.1, batch_size=9, regularization=kind, reg_rate=0.02)
    session = Session(settings)
    net = MLP(**session.net.config())
    X, T = session.inputs["train"], session.targets["train"]
    order = np.random.default_rng(settings.seed).permutation(len(X))
    for s in range(0, len(X), 9):
        net.loss_and_backward(X[order][s : s + 9], T[order][s : s + 9])
        for p, g in zip(net.params, net.grads, strict=True):
            g["W"] += 0.02 * (p["W"] if kind == "L2" else np.sign(p["W"]))
            p["W"] -= 0.1 * g["W"]
            p["b"] -= 0.1 * g["b"]
    session.step()
    for mine, theirs in zip(net.params, session.net.params, strict=True):
        np.testing.assert_allclose(theirs["W"], mine["W"], rtol=0, atol=1e-14)
        np.testing.assert_allclose(theirs["b"], mine["b"], rtol=0, atol=1e-14)


def test_step_presses_queue_as_epochs_and_pause_playing():
    session = Session()
    session.playing = True
    for _ in range(3):
        session.ask_step()
    assert not session.playing and session.pending == 3 and session.busy
    session.train_for(10.0)  # only the three epochs asked for, however long it may take
    assert session.epoch == 3 and session.pending == 0 and not session.busy


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("plane", lambda x, y: (x + y) / 10),
        ("multigaussian", None),
    ],
)
def test_regression_sets_are_tensorflow_playground_s_and_train(name, expected):
    session = Session(Settings(dataset=name, problem="regression", hidden=(6, 4), lr=0.03))
    assert session.net.output_activation.name == "identity" and session.domain == (-6.0, 6.0)
    x, v = session.points["train"], session.labels["train"]
    if expected is not None:
        np.testing.assert_allclose(v, expected(x[:, 0], x[:, 1]))
    else:  # +-1 at the six centres, falling to 0 two units away
        assert v.min() >= -1 and v.max() <= 1 and (np.abs(v) < 1e-12).mean() > 0.3
        centres = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1)]
        for cx, cy, sign in centres:
            near = np.hypot(x[:, 0] - cx, x[:, 1] - cy) < 0.5
            assert near.any() and (np.sign(v[near]) == sign).all()
    before = session.losses()[1]
    session.train_for(math.inf, max_epochs=400)
    assert session.losses()[1] < 0.5 * before
    with pytest.raises(DataError, match=f"{name} is a regression data set"):
        session.configure(session.settings.model_copy(update={"problem": "classification"}))
    assert session.settings.problem == "regression"


def test_a_link_keeps_its_valid_fields_and_names_the_ignored_ones():
    session = Session()
    fields = {"dataset": "moons", "lr": "abc", "hidden": "3,9", "activation": "relu",
              "wings": "2", "features": "x1,x2,x1x2", "show_test": "true"}  # fmt: skip
    ignored = session.apply_link(fields)
    s = session.settings
    assert (s.dataset, s.activation, s.features, s.show_test) == (
        "moons",
        "relu",
        ("x1", "x2", "x1x2"),
        True,
    )
    assert s.lr == Settings().lr and s.hidden == Settings().hidden  # the defaults stand
    assert ignored == [
        "lr=abc (the learning rate must be above 0 and at most 10)",
        "hidden=3,9 (a hidden layer must have between 1 and 8 neurons)",
        "wings (not a setting)",
    ]
    assert session.apply_link({"dataset": "upload"}) == [
        "dataset=upload (uploaded points are not part of a link)"
    ]
    assert session.settings.dataset == "moons"  # the data set shown stays
    session.apply_link({"dataset": "plane"})  # a regression set brings its problem type
    assert session.settings.problem == "regression"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\x00\x01safetensors\x00" + "x" * 50, "bad.csv: not a text CSV file (it holds binary"),
        ("1,2,0\n3,4\r5,6\n", "bad.csv: not a CSV file of x1,x2,label rows (new-line"),
        ("1,2,0\nab\ufffd\ufffd,1,1\n", "bad.csv: not a text CSV file"),
    ],
)
def test_files_that_are_not_csv_text_get_one_readable_line(text, message):
    session = Session()
    with pytest.raises(DataError, match=re.escape(message)) as refused:
        session.upload(text, "bad.csv")
    assert "\n" not in str(refused.value)
