"""mlplab.plot: figures that draw what they claim, inline or saved."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import require

from mlplab import MLP, ConfigError, load_dataset
from mlplab.diagnostics import Event
from mlplab.train.history import History


@pytest.fixture(autouse=True)
def _matplotlib():
    require("matplotlib")
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # imported by another test in this process:
    if pyplot is not None:  # the pictures drew on its figures; start the next test afresh
        pyplot.close("all")


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


def test_decision_boundary_of_a_stack_draws_its_network_index():
    from mlplab.plot import _one_network, decision_boundary

    X, t = load_dataset("moons", n=40)
    stack = MLP([2, 4, 1], stack=3, seed=0, widths=[4, 2, 3])
    stack.fit(X, t, epochs=50, lr=0.5, standardize=True)
    grid = np.random.default_rng(0).normal(size=(30, 2))
    for i in range(3):  # widths, biases and input scaling as the stack has them
        np.testing.assert_allclose(_one_network(stack, i).predict(grid), stack.predict(grid)[i])

    def picture(net, **options):
        fig = decision_boundary(net, X, t, resolution=30, **options)
        return [p.vertices for p in fig.axes[0].collections[0].get_paths()]

    alone = _one_network(stack, 1)
    for drawn, expected in zip(picture(stack, index=1), picture(alone), strict=True):
        np.testing.assert_allclose(drawn, expected)
    assert _one_network(alone, 0) is alone


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
    from mlplab.plot import figure, network

    png = network(MLP([3, 4, 1], seed=0), ax=figure().add_subplot())._repr_png_()
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


PYPLOT_SCRIPT = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from mlplab import MLP, load_dataset, plot

X, t = load_dataset("xor")
net = MLP([3, 4, 1], bias=False, init="seed", seed=0)
history = net.fit(X, t, epochs=500)
fig = history.plot()
assert fig is plt.gcf(), "drawn on pyplot's figure"
assert fig.axes[0].get_title().replace("\\n", " ") == history.extra["title"]
plt.savefig(sys.argv[1])
plt.close("all")
fig, (left, right) = plt.subplots(1, 2)
assert plot.network(net, ax=left) is fig and plot.decision_boundary(net, X, t, ax=right) is fig
assert left.texts and right.collections
plt.savefig(sys.argv[2])
plt.close("all")
history.plot()
plot.network(net)  # another picture: a figure of its own, not drawn over the loss curve
assert len(plt.get_fignums()) == 2 and len(plt.gcf().axes) == 1
"""


def test_a_plot_saved_through_pyplot_after_history_plot_has_drawn_pixels(tmp_path):
    import subprocess
    import sys

    from matplotlib.image import imread

    first, second = tmp_path / "loss.png", tmp_path / "two.png"
    script = [sys.executable, "-c", PYPLOT_SCRIPT, str(first), str(second)]
    result = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for path in (first, second):
        pixels = imread(path)[..., :3]
        drawn = np.mean(np.any(pixels < 0.9, axis=-1))  # not white
        assert drawn > 0.02, path.name


def test_every_picture_draws_on_the_axes_it_is_given():
    from mlplab.plot import decision_boundary, figure, loo_figure, network, sweep_figure

    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, seed=0)
    rows = [{"hidden": [2], "lr": 1.0, "solved_fraction": 0.5}]
    for draw in (
        lambda ax: History(np.linspace(1, 0.1, 10), 10).plot(ax=ax),
        lambda ax: decision_boundary(net, X, t, resolution=20, ax=ax),
        lambda ax: network(net, ax=ax),
        lambda ax: sweep_figure(rows, "hidden", "lr", ax=ax),
    ):
        fig = figure()
        ax = fig.add_subplot()
        assert draw(ax) is fig
        assert len(fig.axes) <= 2  # the axes given (and a colour bar)
        assert ax.has_data() or ax.texts
    fig = figure()
    panels = fig.subplots(1, 2)
    curve = np.linspace(1, 0.5, 5)
    assert loo_figure(np.arange(1, 6), [curve] * 2, [curve] * 2, ["a", "b"], ax=panels) is fig
    with pytest.raises(ConfigError, match="2 axes given; this picture draws 3 panels"):
        loo_figure(np.arange(1, 6), [curve] * 3, [curve] * 3, ["a", "b", "c"], ax=panels)


def test_the_loss_plot_is_titled_as_the_command_line_titles_the_run(capsys):
    from mlplab.cli import main

    X, t = load_dataset("xor")
    # the seed's run but shorter: the title names the epochs, whichever count they are
    history = MLP([3, 4, 1], bias=False, init="seed", seed=0).fit(X, t, epochs=600)
    assert history.plot().axes[0].get_title().replace("\n", " ") == history.extra["title"]
    assert main(["train", "--epochs", "600"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "xor: " + history.extra["title"]


def test_a_long_title_wraps_inside_the_figure():
    fig = History(np.linspace(1, 0.1, 10), 10).plot(title="word " * 40)
    title = fig.axes[0].title
    assert title.get_text().count("\n") >= 2
    fig.canvas.draw()
    box = title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width


def test_a_narrow_log_range_gets_decimal_tick_labels():
    fig = History(np.linspace(0.15, 0.11, 50), 50).plot()
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels()]
    shown = [label for label in labels if label]
    assert shown and all(label.replace(".", "").isdigit() for label in shown), shown
    assert ax.get_legend() is None  # one curve: the axis label says what it is
    wide = History(np.logspace(0, -5, 50), 50).plot()
    wide.canvas.draw()
    assert any("10^" in t.get_text() for t in wide.axes[0].get_yticklabels())


def test_classes_are_orange_and_blue_and_the_seeds_inputs_are_named():
    from matplotlib.colors import to_rgba

    from mlplab.plot import NEGATIVE, POSITIVE, decision_boundary, network

    X, t = load_dataset("xor")
    net = MLP([3, 4, 1], bias=False, seed=0)
    points = decision_boundary(net, X, t, resolution=20).axes[0].collections[-1]
    points.update_scalarmappable()
    colours = points.get_facecolors()
    np.testing.assert_allclose(colours[0], to_rgba(NEGATIVE), atol=0.01)  # target 0
    np.testing.assert_allclose(colours[1], to_rgba(POSITIVE), atol=0.01)  # target 1
    labels = [text.get_text() for text in network(net).axes[0].texts]
    assert labels[-3:] == ["x1", "x2", "1"]
    labels = [text.get_text() for text in network(MLP([2, 3, 1])).axes[0].texts]
    assert labels[-2:] == ["x1", "x2"]
