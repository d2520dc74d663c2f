"""``mlplab explain``: the seed's lines with the arrays one epoch computes, checked against the
seed's own program (changed by hand as its exercises say) to the printed precision."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from seed_program import seed_step

from mlplab.cli import main

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?")


def explain(capsys, *args: str) -> str:
    assert main(["explain", *args]) == 0
    return capsys.readouterr().out


def printed_arrays(out: str) -> dict[str, np.ndarray]:
    """Every ``NAME =`` followed by a NumPy-printed array (first one of each name)."""
    arrays: dict[str, np.ndarray] = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if not line.endswith(" =") or line.startswith(" "):
            continue
        body = []
        for following in lines[i + 1 :]:
            if not re.match(r"\s*[-\[\d]", following):  # an array's line, maybe wrapped
                break
            body.append(following.split("  (first")[0])
        values = [float(v) for v in NUMBER.findall(" ".join(body))]
        arrays.setdefault(line[:-2], np.array(values))
    return arrays


def check_against_the_seed(out: str, expected: dict[str, np.ndarray]) -> None:
    printed = printed_arrays(out)
    assert set(expected) <= set(printed), sorted(set(expected) - set(printed))
    for name, value in expected.items():
        # the printed precision: 8 decimals (NumPy's), or 8 significant digits in e-notation
        np.testing.assert_allclose(printed[name], np.ravel(value), rtol=1e-7, atol=6e-9,
                                   err_msg=name)  # fmt: skip


def test_explain_with_no_options_is_the_seeds_first_step(capsys):
    out = explain(capsys)
    assert out.startswith("mlplab explain: xor, seed 0, epoch 0, before any update\n")
    for line in ["line 6: h = 1 / (1 + np.exp(-(np.dot(X, W1))))",
                 "line 7: y = 1 / (1 + np.exp(-(np.dot(h, W2))))",
                 "line 8: y_delta = (t - y) * (y * (1 - y))",
                 "line 9: h_delta = np.dot(y_delta, W2.T) * (h * (1 - h))",
                 "line 10: W2 += np.dot(h.T, y_delta)",
                 "line 11: W1 += np.dot(X.T, h_delta)"]:  # fmt: skip
        assert f"\n{line}\n" in out, line
    assert "mlplab  delta2 = (y - t) * y * (1 - y)" in out
    assert "delta2 = -y_delta" in out and "W2 -= lr * dW2 with lr = 1" in out
    assert "at mlplab.nn.layer:" in out and "in Dense.forward" in out
    check_against_the_seed(out, seed_step(0, 0))
    assert len(printed_arrays(out)) == 12


def test_explain_at_epoch_1000_is_the_seed_stepped_there(capsys):
    out = explain(capsys, "--epoch", "1000")
    assert "epoch 1000, after 1000 epochs of training" in out
    check_against_the_seed(out, seed_step(0, 1000))


@pytest.mark.parametrize("args, hidden, activation", [
    (["--hidden", "8"], (8,), "sigmoid"),
    (["--hidden", "4,4"], (4, 4), "sigmoid"),
    (["--activation", "tanh"], (4,), "tanh"),
    (["--hidden", "4,4", "--activation", "tanh", "--seed", "3", "--epoch", "10"], (4, 4), "tanh"),
])  # fmt: skip
def test_explain_follows_the_exercises(capsys, args, hidden, activation):
    out = explain(capsys, *args)
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    epoch = int(args[args.index("--epoch") + 1]) if "--epoch" in args else 0
    expected = seed_step(seed, epoch, hidden, activation)
    check_against_the_seed(out, expected)
    if len(hidden) == 2:
        assert "h2_delta = np.dot(y_delta, W3.T)" in out and "W3 += np.dot(h2.T, y_delta)" in out
        assert "\nline " not in out  # the seed's line numbers are for its own network


def test_explain_rows_limits_the_rows_shown(capsys):
    out = explain(capsys, "--rows", "2")
    assert "(first 2 of 4 rows)" in out
    printed = printed_arrays(out)
    assert printed["h"].size == 8 and printed["W1"].size == 12  # weights are not rows


def test_explain_json_is_the_trace(capsys):
    doc = json.loads(explain(capsys, "--json"))
    assert doc["format"] == "mlplab-trace/1" and doc["epoch"] == 0
    names = [s["name"] for s in doc["steps"]]
    assert names == ["h1", "y", "L", "delta2", "dW2", "delta1", "dW1", "W1", "W2"]
    expected = seed_step(0, 0)
    assert np.array_equal(doc["steps"][1]["value"], expected["y"])
    assert np.array_equal(doc["steps"][-1]["value"], expected["W2 (after)"])


def test_explain_shows_an_optimizer_the_seed_lacks_in_mlplabs_lines(capsys):
    out = explain(capsys, "--optimizer", "adam", "--lr", "0.1", "--batch-size", "2")
    assert "The first of 2 batches (2 rows) is shown." in out
    assert "mlplab  step = lr * sqrt(1 - beta2**k) / (1 - beta1**k)" in out
    assert "mlplab  m_W2 = beta1 * m_W2 + (1 - beta1) * dW2" in out
    assert "in _adam_into:" in out


def test_explain_refuses_bad_options(capsys):
    assert main(["explain", "--epoch", "-1"]) != 0
    assert main(["explain", "--epochs", "5"]) != 0  # --epoch is the one that trains first
    assert "No such option '--epochs'" in capsys.readouterr().err
