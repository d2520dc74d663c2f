"""ProgressBar: a fit callback that fills a tqdm bar and closes it."""

from __future__ import annotations

import io

from mlplab import MLP, load_dataset
from mlplab.progress import ProgressBar


def test_bar_reaches_the_end_and_shows_the_loss():
    X, t = load_dataset("xor")
    out = io.StringIO()
    bar = ProgressBar(1000, file=out, desc="xor")
    MLP([3, 4, 1], bias=False, init="seed", seed=1).fit(X, t, epochs=1000, callbacks=[bar])
    text = out.getvalue()
    assert "xor" in text and "1000/1000" in text and "loss=" in text
    assert bar._bar is None  # closed


def test_a_stack_shows_its_mean_loss_and_zero_epochs_draw_nothing():
    X, t = load_dataset("xor")
    out = io.StringIO()
    MLP([3, 4, 1], stack=3, seed=0).fit(X, t, epochs=10, callbacks=[ProgressBar(10, file=out)])
    assert "10/10" in out.getvalue()
    empty = io.StringIO()
    MLP([3, 4, 1]).fit(X, t, epochs=0, callbacks=[ProgressBar(0, file=empty)])
    assert empty.getvalue() == ""
