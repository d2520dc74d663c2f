"""ProgressBar: a fit callback that fills a tqdm bar and closes it."""

from __future__ import annotations

import io
import sys
import time

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


def test_progress_bar_shows_accuracy_and_validation(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    from mlplab.progress import terminal_progress

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    X, T = load_dataset("gaussians3", n=90, seed=0)
    net = MLP([2, 8, 3], "tanh", "softmax", "cross_entropy", "mean", init="glorot", seed=0)

    def slow(epoch, logs):  # past tqdm's 0.1 s refresh interval, however fast the machine
        time.sleep(0.002)

    with terminal_progress(200, quiet=False) as callbacks:
        net.fit(X, T, epochs=200, lr=0.5, validation=0.2, callbacks=[*callbacks, slow])
    shown = screen.getvalue()
    assert "acc=" in shown
    assert "val_loss=" in shown
    assert "val_acc=" in shown
