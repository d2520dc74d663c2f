"""fit's advice: one warning when a fit clearly stalls for a reason it can name, none otherwise;
the run's title for its plot."""

import warnings

import numpy as np
import pytest

from mlplab.cli import main
from mlplab.nn.network import MLP
from mlplab.train.advice import StalledFitWarning, constant_loss

# three iris-like classes: four raw measurements of 0.2 to 7, as the iris file holds them
CENTRES = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
LABELS = np.repeat([0, 1, 2], 50)
X = CENTRES[LABELS] + np.random.default_rng(0).normal(0, 0.4, (150, 4))


def _fit(net: MLP, X, T, **kwargs) -> tuple[list[warnings.WarningMessage], object]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = net.fit(X, T, **kwargs)
    return caught, history


def test_a_stall_on_unscaled_inputs_is_one_warning_naming_the_cure():
    caught, history = _fit(MLP([4, 8, 3], seed=0), X, LABELS, epochs=2000)
    assert [w.category for w in caught] == [StalledFitWarning]
    message = str(caught[0].message)
    assert message.startswith("the fit stalled: after 2000 epochs the loss is ")
    assert "no better than always answering the targets' mean (50)" in message
    assert "The inputs are not scaled (column " in message and "standardize=True" in message
    assert caught[0].filename == __file__  # it points at the user's line
    assert history.final_loss >= 50


def test_scaled_inputs_that_learn_get_no_warning():
    net = MLP([4, 8, 3], seed=0, reduction="mean")
    caught, history = _fit(net, X, LABELS, epochs=2000, standardize=True)
    assert caught == []
    assert history.final_loss < 0.1


def test_a_short_or_still_moving_fit_on_raw_inputs_gets_no_warning():
    caught, _ = _fit(MLP([4, 8, 3], seed=0), X, LABELS, epochs=50)
    assert caught == []
    rng = np.random.default_rng(1)
    raw = rng.normal(0, 10, (40, 2))
    t = (raw[:, :1] > 0).astype(float)  # separable: the sigmoid units' saturation is no stall
    caught, history = _fit(MLP([2, 4, 1], seed=0, reduction="mean"), raw, t, epochs=1000)
    assert caught == [] and history.final_loss < 0.5 * constant_loss(MLP([2, 1]), t)


def test_an_output_that_cannot_reach_the_targets_is_named():
    t = np.random.default_rng(0).normal(50, 10, (150, 1))
    caught, _ = _fit(MLP([4, 8, 1], seed=0), X, t, epochs=500, standardize=True)
    assert [w.category for w in caught] == [StalledFitWarning]
    message = str(caught[0].message)
    assert "a sigmoid output gives values in (0, 1)" in message
    assert "output_activation='identity'" in message and "not scaled" not in message


def test_the_constant_answer_loss_in_each_reduction():
    T = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    assert constant_loss(MLP([2, 2]), T) == pytest.approx(0.5 * 4 * 2 * 0.75 * 0.25)
    ce = MLP([2, 2], loss="cross_entropy", output_activation="softmax", reduction="mean")
    assert constant_loss(ce, T) == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))


def test_the_history_carries_the_runs_title():
    history = MLP([3, 4, 1], bias=False, init="seed", seed=0).fit(
        np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]), [0, 1, 1, 0], epochs=10
    )
    assert history.extra["title"] == (
        "3-4-1 sigmoid/sigmoid, squared_error (sum), 10 epochs, lr 1, init seed, seed 0"
    )


def test_the_command_line_says_the_warning_in_one_line(tmp_path, capsys):
    path = tmp_path / "flowers.csv"
    rows = np.column_stack([X, LABELS])
    np.savetxt(path, rows, delimiter=",", header="a,b,c,d,kind", comments="", fmt="%g")
    args = ["train", "--data", str(path), "--no-standardize", "--reduction", "sum",
            "--epochs", "1500", "-q"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("warning: the fit stalled: after 1500 epochs")
