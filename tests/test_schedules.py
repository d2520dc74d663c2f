"""Learning-rate schedules that read the loss: ``Adaptive``, scikit-learn's ``"adaptive"``."""

from __future__ import annotations

import pytest

from mlplab import MLP, SCHEDULES, ConfigError, load_dataset
from mlplab.train.optimizers import SGD
from mlplab.train.schedules import Adaptive, get_schedule


def test_adaptive_divides_the_rate_after_more_than_patience_stalled_epochs():
    s = Adaptive(tol=0.1, patience=2, factor=5.0, min_lr=0.01)
    opt = SGD(1.0)  # the rate lives in the optimizer; the schedule gives the next one
    opt.use_schedule(s)
    opt.start_epoch(0)
    assert opt.lr == 1.0
    rates = []
    # 10 sets the best; 9.95 and 9.92 improve by less than tol (stalls 1, 2); 9.9: stall 3 > 2
    for loss in [10.0, 9.95, 9.92, 9.9, 5.0, 5.0, 5.0, 5.0]:
        assert opt.read_loss(loss) is False
        opt.start_epoch(1)
        rates.append(opt.lr)
    assert rates == [1.0, 1.0, 1.0, 0.2, 0.2, 0.2, 0.2, 0.04]
    for loss in [5.0, 5.0, 5.0]:  # 0.04 -> 0.008, now below min_lr
        assert opt.read_loss(loss) is False
    opt.start_epoch(1)
    assert opt.lr == pytest.approx(0.008)
    assert [opt.read_loss(5.0) for _ in range(3)] == [False, False, True]  # the next stall stops
    fresh = SGD(0.5)
    fresh.use_schedule(s)
    fresh.start_epoch(0)
    assert fresh.lr == 0.5 and s.stalled == 0  # epoch 0 of a new run starts again
    # the pure rule: (lr, stop) from (loss, lr), and the floor
    assert Adaptive(factor=5.0, min_lr=0.01).lower(1.0) == (0.2, False)
    assert Adaptive(factor=5.0, min_lr=0.01).lower(0.01) == (0.01, True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tol": -1.0}, "tol must be a non-negative number"),
        ({"patience": 0}, "patience must be a positive integer"),
        ({"factor": 1.0}, "factor must be greater than 1"),
        ({"min_lr": 0}, "min_lr must be a positive number"),
    ],
)
def test_bad_adaptive_settings_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Adaptive(**kwargs)


def _net() -> MLP:
    return MLP([2, 8, 1], "tanh", "sigmoid", "binary_cross_entropy", "mean", init="glorot", seed=0)


def test_the_training_loop_lowers_the_rate_and_stops_when_it_cannot():
    X, T = load_dataset("moons", n=100, noise=0.1, seed=0)
    opt = SGD(0.5)
    rates = []
    schedule = Adaptive(tol=10.0, patience=3)  # nothing improves by 10: a stall every epoch
    history = _net().fit(X, T, epochs=1000, optimizer=opt, schedule=schedule,
                         callbacks=[lambda epoch, loss: rates.append(opt.lr)])  # fmt: skip
    # epoch 0 sets the best; epochs 1-4 stall, so after epoch 4 the rate is divided, and again
    # every 4 epochs: 0.5 / 5**9 <= 1e-6 after epoch 36; epochs 37-40 stall again: stop
    assert rates[4] == 0.5 and rates[5] == pytest.approx(0.1)
    assert min(rates) == pytest.approx(0.5 / 5**9)
    assert history.epochs == len(rates) == 41
    assert get_schedule("adaptive").patience == 10 and "adaptive" in SCHEDULES


def test_a_loss_reading_schedule_is_refused_for_a_stack():
    X, T = load_dataset("xor")
    with pytest.raises(ConfigError, match="reads the loss of one network, not a stack"):
        MLP([3, 4, 1], stack=2, seed=0).fit(X, T, epochs=2, schedule=Adaptive())
    assert not hasattr(Adaptive(), "lr")  # the rate lives in the optimizer, not the schedule
