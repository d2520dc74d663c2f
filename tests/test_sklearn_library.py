"""The library pieces mlplab.sklearn drives, used directly: ``NoImprovement`` through
``MLP.fit``'s callbacks and ``minimize_lbfgs`` on a network's own gradients."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import mlplab
from mlplab.errors import ConfigError
from mlplab.train.lbfgs import minimize_lbfgs
from mlplab.train.regularization import L1, L2
from mlplab.train.stopping import NoImprovement


def _net(seed: int = 0) -> mlplab.MLP:
    return mlplab.MLP([2, 8, 1], activation="tanh", output_activation="identity",
                      reduction="mean", init="glorot", seed=seed)  # fmt: skip


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    return X, np.sin(X[:, :1]) + X[:, 1:] ** 2


def _logs(values):
    return [{"loss": v} for v in values]


def test_no_improvement_counts_more_than_patience_stalls():
    stop = NoImprovement(patience=2, tol=0.1)
    net = _net()
    stop.on_train_begin(net)
    # 1.0 beats inf; 0.95 beats the best by less than tol (a stall, but becomes the best);
    # 0.9 beats 0.95 by less than tol; 0.89 likewise: the third stall stops
    said = [stop.on_epoch_end(e, logs) for e, logs in enumerate(_logs([1.0, 0.95, 0.9, 0.89]))]
    assert said == [False, False, False, True]
    assert stop.best == 0.89 and stop.stopped
    never = NoImprovement(patience=math.inf, tol=10.0)
    never.on_train_begin(net)
    assert not any(never.on_epoch_end(e, logs) for e, logs in enumerate(_logs([1.0] * 50)))
    with pytest.raises(ConfigError, match="patience must be a positive integer or inf"):
        NoImprovement(patience=0)


def test_no_improvement_stops_fit_and_on_stall_may_go_on():
    X, T = _data()
    net = _net()
    history = net.fit(X, T, epochs=200, optimizer="adam", lr=0.01, batch_size=16,
                      callbacks=[NoImprovement(patience=3, tol=1e9)])  # fmt: skip
    assert history.epochs == 5  # the first epoch improves on inf, then 4 stalls
    stalls = []

    def on_stall() -> bool:
        stalls.append(True)
        return len(stalls) == 3  # go on twice, then stop

    history = _net().fit(X, T, epochs=200, optimizer="adam", lr=0.01, batch_size=16,
                         callbacks=[NoImprovement(1, 1e9, on_stall=on_stall)])  # fmt: skip
    assert history.epochs == 1 + 2 + 2 + 2 and len(stalls) == 3


def test_no_improvement_with_a_score_keeps_and_restores_the_best_weights():
    X, T = _data()
    net = _net()
    scores = iter([0.1, 0.5, 0.4, 0.3, 0.2])
    seen = {}

    def score(network):
        value = next(scores)
        seen[value] = network.params[0]["W"].copy()
        return value

    stop = NoImprovement(patience=2, tol=0.0, score=score)
    history = net.fit(X, T, epochs=50, optimizer="adam", lr=0.05, batch_size=16,
                      callbacks=[stop])  # fmt: skip
    assert history.epochs == 5 and stop.scores == [0.1, 0.5, 0.4, 0.3, 0.2]
    np.testing.assert_array_equal(net.params[0]["W"], seen[0.5])  # the best epoch's, back
    copy = pickle.loads(pickle.dumps(NoImprovement(keep_state=True)))
    assert copy.keep_state and copy.best == math.inf


def test_keep_state_carries_the_count_into_the_next_fit():
    X, T = _data()
    stop = NoImprovement(patience=3, tol=1e9, keep_state=True)
    net = _net()
    assert net.fit(X, T, epochs=2, optimizer="adam", lr=0.01, callbacks=[stop]).epochs == 2
    assert stop.count == 1  # one stall so far
    assert net.fit(X, T, epochs=50, optimizer="adam", lr=0.01, callbacks=[stop]).epochs == 3


def test_minimize_lbfgs_fits_with_the_networks_gradients_and_penalties():
    X, T = _data()
    net = _net()
    before = net.evaluate(X, T)
    history = minimize_lbfgs(net, X, T, max_iter=200, tol=1e-8)
    assert history.extra["status"] in (0, 1) and history.epochs == len(history.loss) <= 200
    assert history.loss[-1] == pytest.approx(net.evaluate(X, T), rel=1e-9)
    assert net.evaluate(X, T) < before / 20
    decayed = _net()
    minimize_lbfgs(decayed, X, T, max_iter=200, regularization=L2(1.0))
    sparse = _net()
    minimize_lbfgs(sparse, X, T, max_iter=200, regularization=[L1(0.05)])
    norms = [np.abs(n.params[0]["W"]).sum() for n in (net, decayed, sparse)]
    assert norms[1] < norms[0] and norms[2] < norms[0]
    few = minimize_lbfgs(_net(), X, T, max_iter=200, max_fun=3)
    assert few.extra["status"] == 1 and few.extra["n_fun"] <= 4
    with pytest.raises(ConfigError, match="max_fun must be a positive integer"):
        minimize_lbfgs(_net(), X, T, max_fun=0)


def test_minimize_lbfgs_weights_rows():
    X, T = _data()
    w = np.r_[np.full(32, 3.0), np.zeros(32)]
    weighted, first = _net(), _net()
    minimize_lbfgs(weighted, X, T, max_iter=50, sample_weight=w)
    minimize_lbfgs(first, X[:32], T[:32], max_iter=50)  # zero weight: as if removed
    np.testing.assert_allclose(weighted.predict(X), first.predict(X), rtol=1e-6, atol=1e-8)
