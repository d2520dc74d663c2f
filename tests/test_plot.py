"""mlplab.plot: figures that draw what they claim, inline or saved."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, ConfigError, load_dataset
from mlplab.diagnostics import Event
from mlplab.train.fit import History


@pytest.fixture(autouse=True)
def _matplotlib():
    require("matplotlib")


def test_history_plot_marks_each_event():
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    events = [
        Event("plateau", 0, 49, "plateau, loss flat near 0.5"),
        Event("saturated", 10, 99, "x"),
    ]
    history = History(np.linspace(1, 0.1, 100), 100, events=events)
    fig = history.plot(title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    spans = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(spans) == 2
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts == [str(e) for e in events]
    assert ax.get_lines()[0].get_ydata()[-1] == pytest.approx(0.1)


def test_history_plot_without_events_has_no_event_legend():
    fig = History(np.linspace(1, 0.1, 10), 10).plot()
    assert fig.legends == []


def test_decision_boundary_of_a_gate_in_the_x1_x2_plane(tmp_path):
    from mlplab.plot import decision_boundary, save_figure

    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, init="seed", seed=1)
    net.fit(X, t, epochs=3000)
    fig = decision_boundary(net, X, t)
    ax = fig.axes[0]
    assert ax.get_xlim()[0] < 0 < 1 < ax.get_xlim()[1]
    points = ax.collections[-1].get_offsets()
    np.testing.assert_array_equal(points, X[:, :2])
    path = tmp_path / "boundary.png"
    save_figure(fig, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_decision_boundary_draws_what_the_network_answers():
    from mlplab.plot import decision_boundary

    X = np.array([[-1.0, 0.0], [1.0, 0.0]])
    net = MLP([2, 1], output_activation="sigmoid", seed=0)
    net.params[0]["W"][:] = [[5.0], [0.0]]  # class 1 where x1 > 0
    fig = decision_boundary(net, X, [0, 1], resolution=50)
    contour_set = fig.axes[0].collections[0]
    levels = np.asarray(contour_set.levels)
    assert levels.min() == 0 and levels.max() == 1  # filled probabilities


def test_decision_boundary_of_three_classes_and_bad_inputs():
    from mlplab.plot import decision_boundary

    X, t = load_dataset("gaussians3", n=60)
    net = MLP([2, 5, 3], output_activation="softmax", loss="cross_entropy", seed=0)
    fig = decision_boundary(net, X, t, resolution=40)
    assert len(fig.axes) == 1  # classes need no colour bar
    with pytest.raises(ConfigError, match="2 inputs"):
        decision_boundary(MLP([4, 2, 1]), np.zeros((3, 4)), np.zeros(3))


def test_network_drawing_one_line_per_weight_coloured_by_sign():
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    from mlplab.plot import NEGATIVE, POSITIVE, network

    net = MLP([3, 4, 2], seed=0)
    fig = network(net)
    lines = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert [len(c.get_segments()) for c in lines] == [12, 8]
    W = net.params[0]["W"].ravel()
    colours = lines[0].get_colors()
    expected = [to_rgba(POSITIVE if w >= 0 else NEGATIVE, 0.7) for w in W]
    np.testing.assert_allclose(colours, expected)
    widths = np.asarray(lines[0].get_linewidths())
    assert widths[np.argmax(np.abs(W))] == widths.max()


def test_network_drawing_of_a_stack_picks_one():
    from mlplab.plot import network

    fig = network(MLP([3, 4, 1], stack=3, seed=0), index=2)
    assert "network 2 of 3" in fig.axes[0].get_title()


def test_cli_plot_still_uses_the_loss_figure(tmp_path):
    from mlplab.cli import main

    path = tmp_path / "loss.png"
    assert main(["train", "--epochs", "200", "-q", "--plot", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_figures_show_themselves_in_jupyter():
    from mlplab.plot import network

    png = network(MLP([3, 4, 1], seed=0))._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def test_an_empty_figure_for_your_own_pictures():
    from matplotlib.figure import Figure

    from mlplab.plot import figure

    fig = figure(3, 2)
    assert isinstance(fig, Figure) and tuple(fig.get_size_inches()) == (3, 2)
    assert hasattr(fig, "_repr_png_")


def test_heatmap_shows_the_solved_fraction_averaged_over_other_axes():
    require("matplotlib")
    from mlplab.plot import sweep_figure

    rows = [
        {"hidden": [2], "activation": "tanh", "lr": 1.0, "solved_fraction": 0.2},
        {"hidden": [2], "activation": "tanh", "lr": 2.0, "solved_fraction": 0.4},
        {"hidden": [4], "activation": "tanh", "lr": 1.0, "solved_fraction": 1.0},
        {"hidden": [2], "activation": "relu", "lr": 1.0, "solved_fraction": 0.0},
    ]
    fig = sweep_figure(rows, "hidden", "activation")
    image = fig.axes[0].images[0].get_array()
    assert image[0, 0] == pytest.approx(0.3)  # tanh, 2: the mean over both lr
    assert image[0, 1] == 1.0 and image[1, 0] == 0.0
    assert image.mask[1, 1]  # relu, 4: no cell


def test_importing_the_plot_module_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, mlplab.plot; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
