"""Each detector sees the situation built on purpose, and stays quiet on healthy runs."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import MLP, ConfigError, load_dataset
from mlplab.cli import main
from mlplab.diagnostics import Diagnostics, Event, loss_events

XOR = load_dataset("xor")
XOR2D = load_dataset("xor2d")


def train(net: MLP, data, **kwargs):
    watch = Diagnostics(net)
    history = net.fit(*data, callbacks=[watch], **kwargs)
    return history, watch


def kinds(history) -> set[str]:
    return {event.kind for event in history.events}


def relu_net(**kwargs) -> MLP:
    options = dict(activation="relu", loss="binary_cross_entropy", reduction="mean", seed=0)
    return MLP([2, 8, 1], **{**options, **kwargs})


@pytest.fixture(scope="module")
def healthy_runs():
    """Three runs that learn cleanly: the seed's network, tanh and ReLU on the 2-D XOR."""
    seed = MLP([3, 4, 1], bias=False, init="seed", seed=1)
    tanh = relu_net(activation="tanh", init="glorot")
    relu = relu_net(init="he")
    return {
        "seed": train(seed, XOR, epochs=5000)[0],
        "tanh": train(tanh, XOR2D, epochs=2000, lr=0.5)[0],
        "relu": train(relu, XOR2D, epochs=2000, lr=0.5)[0],
    }


@pytest.mark.parametrize("run", ["seed", "tanh", "relu"])
def test_healthy_runs_report_nothing(healthy_runs, run):
    history = healthy_runs[run]
    assert history.final_loss < 0.01  # it did learn
    assert history.events == [], [str(e) for e in history.events]


@pytest.fixture(scope="module")
def saturated_run():
    """The seed's network with every hidden unit's bias weight at 10: all pinned near 1."""
    net = MLP([3, 4, 1], bias=False, init="seed", seed=1)
    net.params[0]["W"][2] = 10.0  # the constant-1 input's row
    return train(net, XOR, epochs=3000)


def test_saturated_units_are_reported(saturated_run):
    history, _ = saturated_run
    (event,) = [e for e in history.events if e.kind == "saturated"]
    assert event.layer == 1
    assert "4 of 4 units saturated" in event.message
    assert event.start == 0 and event.end == 2999


def test_plateau_is_reported_with_its_range(saturated_run):
    history, _ = saturated_run
    (event,) = [e for e in history.events if e.kind == "plateau"]
    assert event.start <= 100 and event.end >= 2900
    assert "loss flat near 0.5" in event.message
    assert str(event).startswith(f"epochs {event.start}-{event.end}: plateau")


def test_collapsed_gradient_with_the_loss_still_high(saturated_run):
    history, _ = saturated_run
    events = [e for e in history.events if e.kind == "vanishing_gradient"]
    assert events and "its size at the start" in events[0].message


def test_vanishing_gradient_through_depth():
    net = MLP([3, *[4] * 10, 1], init="uniform", seed=0)  # ten sigmoid layers
    history, _ = train(net, XOR, epochs=400, lr=0.1)
    (event,) = [e for e in history.events if "largest layer" in e.message]
    assert event.kind == "vanishing_gradient"
    assert event.layer == 1 and event.start == 0


def test_dead_relus_are_reported():
    net = relu_net(init="he")
    net.params[0]["b"][:3] = -100.0  # three units below zero for every point
    history, _ = train(net, XOR2D, epochs=500, lr=0.5)
    (event,) = [e for e in history.events if e.kind == "dead_relu"]
    assert "3 of 8 units dead" in event.message
    assert event.start == 0


def test_oscillation_from_a_step_too_large():
    history, _ = train(relu_net(init="glorot"), XOR2D, epochs=1000, lr=2.0)
    events = [e for e in history.events if e.kind == "oscillation"]
    assert events and events[0].start == 0
    assert "step too large" in events[0].message


def test_loss_events_on_made_up_curves():
    flat_then_drop = np.concatenate(
        [np.linspace(0.5, 0.4999, 400), 0.5 * np.exp(-np.arange(600) / 50)]
    )
    (plateau,) = loss_events(flat_then_drop)
    assert plateau.kind == "plateau" and plateau.start == 0 and 350 <= plateau.end <= 410

    zigzag = 1.0 + 0.1 * (np.arange(1000) % 2) - np.arange(1000) * 1e-4
    (osc,) = loss_events(zigzag)
    assert osc.kind == "oscillation" and osc.start == 0 and osc.end >= 990

    assert loss_events(1 / np.arange(1, 1001)) == []  # steady 1/t progress
    assert loss_events(np.exp(-np.arange(1000) / 20)) == []  # converged to ~0: not a plateau


def test_sampling_is_sparse_and_stacks_are_refused():
    net = MLP([3, 4, 1], bias=False, init="seed", seed=1)
    watch = Diagnostics(net, every=100)
    net.fit(*XOR, epochs=1000, callbacks=[watch])
    assert [s.epoch for s in watch.samples] == [*range(0, 1000, 100), 999]
    with pytest.raises(ConfigError, match="one network"):
        Diagnostics(MLP([3, 4, 1], stack=3))
    with pytest.raises(ConfigError, match="every"):
        Diagnostics(net, every=0)


def test_event_to_dict_round_trip():
    event = Event("plateau", 0, 10, "plateau, loss flat near 0.5")
    assert Event(**event.to_dict()) == event


def test_cli_prints_events(capsys):
    assert main(["train", "--epochs", "3000", "--activation", "relu", "--lr", "3"]) == 0
    out = capsys.readouterr().out
    assert "seen during training:" in out
    assert "units dead" in out and "plateau" in out


def test_cli_quiet_on_a_healthy_run(capsys):
    assert main(["train", "--epochs", "5000", "--seed", "1"]) == 0
    assert "seen during training" not in capsys.readouterr().out
