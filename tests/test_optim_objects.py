"""Optimizers beyond plain SGD: their update rules, state, dtype and errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require

from mlplab import ConfigError
from mlplab.train.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, get_optimizer

SHAPES = [(3, 4), (4,), (4, 2)]


def _grads(steps: int, seed: int = 0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def _params(seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def _run(optimizer, params, grads):
    for g in grads:
        optimizer.step(params, g)
    return params


def test_momentum_follows_its_docstring_rule():
    grads = _grads(5)
    params = _run(Momentum(0.1, 0.8), _params(), grads)
    expected, v = _params(), [np.zeros(s) for s in SHAPES]
    for g in grads:
        for p, vi, gi in zip(expected, v, g, strict=True):
            vi[...] = 0.8 * vi - 0.1 * gi
            p += vi
    for a, b in zip(params, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_nesterov_follows_its_docstring_rule():
    grads = _grads(5)
    params = _run(Nesterov(0.1, 0.8), _params(), grads)
    expected, v = _params(), [np.zeros(s) for s in SHAPES]
    for g in grads:
        for p, vi, gi in zip(expected, v, g, strict=True):
            vi[...] = 0.8 * vi - 0.1 * gi
            p += 0.8 * vi - 0.1 * gi
    for a, b in zip(params, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_adam_follows_its_docstring_rule():
    grads = _grads(6)
    params = _run(Adam(0.01, 0.9, 0.99, 1e-8), _params(), grads)
    expected = _params()
    m = [np.zeros(s) for s in SHAPES]
    v = [np.zeros(s) for s in SHAPES]
    for t, g in enumerate(grads, start=1):
        for p, mi, vi, gi in zip(expected, m, v, g, strict=True):
            mi[...] = 0.9 * mi + 0.1 * gi
            vi[...] = 0.99 * vi + 0.01 * gi**2
            p -= 0.01 * np.sqrt(1 - 0.99**t) / (1 - 0.9**t) * mi / (np.sqrt(vi) + 1e-8)
    for a, b in zip(params, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_sgd_with_any_rate_is_w_minus_lr_dw():
    grads = _grads(1)
    params = _run(SGD(0.3), _params(), grads)
    for p, p0, g in zip(params, _params(), grads[0], strict=True):
        np.testing.assert_allclose(p, p0 - 0.3 * g, rtol=1e-15)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: SGD(0.05), lambda torch, p: torch.optim.SGD(p, lr=0.05)),
        (lambda: Momentum(0.05, 0.9), lambda torch, p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        (
            lambda: Nesterov(0.05, 0.9),
            lambda torch, p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        ),
        (lambda: Adam(0.01), lambda torch, p: torch.optim.Adam(p, lr=0.01)),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_optimizers_match_pytorch(ours, theirs):
    torch = require("torch")
    grads = _grads(8)
    params = _run(ours(), _params(), grads)
    tensors = [torch.tensor(p, requires_grad=True) for p in _params()]
    opt = theirs(torch, tensors)
    for g in grads:
        for t, gi in zip(tensors, g, strict=True):
            t.grad = torch.tensor(gi)
        opt.step()
    atol = 2e-7 if isinstance(ours(), Adam) else 1e-13
    for a, t in zip(params, tensors, strict=True):
        # Adam (as scikit-learn's) adds eps before the bias correction, PyTorch after it:
        # an effective eps of 1e-8 / sqrt(1 - 0.999^t) ~ 1e-7, so the steps differ by ~1e-7.
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-12, atol=atol)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_parameters_and_state_stay_float32(name):
    params = [p.astype(np.float32) for p in _params()]
    optimizer = get_optimizer(name, 0.1)
    _run(optimizer, params, [[g.astype(np.float32) for g in gs] for gs in _grads(3)])
    assert all(p.dtype == np.float32 for p in params)
    state = optimizer.state_dict() if name != "sgd" else {}  # plain SGD keeps no state
    assert all(v.dtype == np.float32 for k, v in state.items() if k != "step")


@pytest.mark.parametrize("make", [lambda: Momentum(0.1), lambda: Nesterov(0.1), lambda: Adam(0.1)])
def test_state_dict_resumes_exactly(make):
    grads = _grads(6)
    straight = _run(make(), _params(), grads)
    first = make()
    params = _run(first, _params(), grads[:3])
    second = make()
    second.load_state_dict(first.state_dict())
    resumed = _run(second, params, grads[3:])
    for a, b in zip(straight, resumed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_optimizer_state_is_refused():
    with pytest.raises(ConfigError, match=r"needs arrays m\.0, \.\.\., v\.0"):
        Adam().load_state_dict({"step": np.array(1)})
    opt = Momentum()
    opt.load_state_dict({"velocity.0": np.zeros(3), "step": np.array(2)})
    with pytest.raises(ConfigError, match="loaded optimizer state has shapes"):
        opt.step([np.zeros(4)], [np.ones(4)])


def test_get_optimizer_refuses_unknown_names_and_objects():
    with pytest.raises(ConfigError, match="expected one of: sgd, momentum, nesterov, adam"):
        get_optimizer("rmsprop", 0.1)
    with pytest.raises(ConfigError, match="step"):
        get_optimizer(object(), 0.1)
    opt = Adam(0.5)
    assert get_optimizer(opt, 0.1) is opt
    assert isinstance(get_optimizer(None, 0.1), SGD)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Momentum(0.1, 1.5), "momentum must be a number in"),
        (lambda: Adam(0.1, beta2=1.0), "beta2"),
        (lambda: Adam(0.1, eps=0), "eps must be a positive"),
        (lambda: Adam(-1.0), "learning rate must be a positive"),
    ],
)
def test_bad_settings_are_refused(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "make",
    [lambda: SGD(0.3), lambda: SGD(1.0), lambda: Momentum(0.05, 0.9),
     lambda: Nesterov(0.05, 0.8), lambda: Adam(0.01, 0.9, 0.99, 1e-7)],
)  # fmt: skip
def test_the_in_place_step_is_the_plain_rule_bit_for_bit(make, dtype):
    """``step`` (in place, NumPy's buffers) and the pure rule the compiled engine runs."""
    grads = [[g.astype(dtype) for g in step] for step in _grads(7)]
    optimizer = make()
    params = _run(optimizer, [p.astype(dtype) for p in _params()], grads)
    rule = make().rule()
    plain, slots = [p.astype(dtype) for p in _params()], rule.init(_params())
    slots = tuple(tuple(s.astype(dtype) for s in slot) for slot in slots)
    for count, g in enumerate(grads, start=1):
        plain, slots = rule(plain, g, slots, optimizer.lr, count)
    for a, b in zip(params, plain, strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)
    assert rule == make().rule() and rule.slots == optimizer.slots  # compares by value


def test_the_rate_is_read_only_and_set_by_the_optimizer_alone():
    from mlplab.train.schedules import StepDecay

    opt = SGD(0.4)
    with pytest.raises(AttributeError):
        opt.lr = 0.1  # type: ignore[misc]
    opt.use_schedule(StepDecay(step=2, gamma=0.5))
    np.testing.assert_array_equal(opt.rates(0, 5), [0.4, 0.4, 0.2, 0.2, 0.1])
    assert opt.lr == 0.1  # left at the last epoch's, as after running them one by one
    opt.start_epoch(1)
    assert opt.lr == 0.4 and opt.initial_lr == 0.4


def test_no_code_outside_the_optimizer_module_writes_a_learning_rate():
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "mlplab"
    writes = re.compile(r"\.(lr|_lr)\s*([-+*/]?=)(?!=)")
    found = [
        f"{path.relative_to(src)}:{i}"
        for path in sorted(src.rglob("*.py"))
        if path.relative_to(src).as_posix() != "train/optimizers.py"
        for i, line in enumerate(path.read_text().splitlines(), start=1)
        if writes.search(line)
    ]
    assert not found, found


def test_the_engines_hold_no_optimizer_penalty_or_activation_formula():
    from pathlib import Path

    engines = Path(__file__).resolve().parents[1] / "src" / "mlplab" / "engines"
    text = "\n".join(p.read_text() for p in sorted(engines.glob("*.py")))
    for formula in ("momentum", "beta1", "beta2", "sign(", "sqrt(", "tanh(", "exp(", "sigmoid",
                    '"sgd"', '"adam"', '"l1"', '"l2"'):  # fmt: skip
        assert formula not in text, formula


@pytest.mark.parametrize("penalty", ["L1", "L2"])
def test_a_penalty_in_place_is_its_plain_rule(penalty):
    from mlplab.train import regularization

    weights = [p for p in _params() if p.ndim == 2]
    grads = [g for g in _grads(1)[0] if g.ndim == 2]
    obj = getattr(regularization, penalty)(0.3)
    in_place = [g.copy() for g in grads]
    value = obj(weights, in_place, 0.25)
    plain, plain_value = obj.rule()(weights, grads, 0.25)
    assert value == plain_value
    for a, b in zip(in_place, plain, strict=True):
        np.testing.assert_array_equal(a, b)



def test_adam_updates_float32_parameters_in_float32():
    """The bias-corrected step size (float64) is cast to the parameters' dtype before it
    scales the update: no float64 pass over a float32 network's arrays (whose rounding
    differs from float32's in some elements of 1000)."""
    rng = np.random.default_rng(3)
    p, g = rng.normal(size=(2, 1000)).astype(np.float32)
    beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 0.0123
    step_size = np.float32(lr * np.sqrt(1 - beta2) / (1 - beta1))
    m, v = g * np.float32(1 - beta1), (g * g) * np.float32(1 - beta2)
    want = p - m / (np.sqrt(v) + np.float32(eps)) * step_size  # all float32
    assert want.dtype == np.float32
    zeros = ((np.zeros_like(p),), (np.zeros_like(p),))
    plain, _ = Adam(lr, beta1, beta2, eps).rule()([p], [g], zeros, lr, 1)
    in_place = [p.copy()]
    Adam(lr, beta1, beta2, eps).step(in_place, [g])
    np.testing.assert_array_equal(plain[0], want)
    np.testing.assert_array_equal(in_place[0], want)
