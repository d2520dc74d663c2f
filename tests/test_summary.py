"""MLP.summary(), _repr_html_ and the import promise of the learning shells."""

from __future__ import annotations

import subprocess
import sys

from mlplab import MLP


def test_summary_lists_every_layer_with_shapes_and_counts():
    net = MLP([2, 8, 8, 3], activation="tanh", output_activation="softmax", loss="cross_entropy")
    text = net.summary()
    lines = text.splitlines()
    assert lines[0] == "MLP 2-8-8-3"
    assert any(
        line.split()[:4] == ["hidden", "1", "2", "->"] and "(2, 8)" in line for line in lines
    )
    assert any(
        line.startswith("output") and "softmax" in line and "(8, 3)" in line for line in lines
    )
    assert sum("tanh" in line for line in lines) == 2
    # 2*8+8 + 8*8+8 + 8*3+3 = 123
    assert net.n_params == 123 and "123 parameters" in text


def test_summary_of_the_seed_network_says_it_has_no_bias():
    text = MLP([3, 4, 1], bias=False, init="seed", seed=0).summary()
    assert "16 parameters (no bias vectors, as in the seed)" in text
    assert "init seed, seed 0" in text


def test_summary_of_a_stack_shows_the_leading_axis():
    text = MLP([3, 4, 1], stack=5, seed=0).summary()
    assert "a stack of 5 networks" in text
    assert "(5, 3, 4)" in text and "(5, 4)" in text
    assert f"{5 * (12 + 4 + 4 + 1)} parameters" in text


def test_html_is_a_table_and_escapes():
    net = MLP([3, 4, 1])
    html = net._repr_html_()
    assert html.count("<tr>") == 1 + 2  # header and two layers
    assert "<th>params</th>" in html and "4 -&gt; 1" in html
    assert "21 parameters" in html


def test_repr_is_one_line():
    text = repr(MLP([3, 4, 1], bias=False))
    assert "\n" not in text and text.startswith("MLP(3-4-1") and "params=16" in text


def test_import_mlplab_stays_light():
    code = (
        "import sys, mlplab, mlplab.summary, mlplab.diagnostics, mlplab.progress\n"
        "heavy = {'matplotlib', 'nbclient', 'mkdocs', 'sklearn', 'IPython', 'tqdm'}\n"
        "heavy &= set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
