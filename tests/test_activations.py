"""Activations' derivatives, and users' activations (exercise 3)."""

import numpy as np
import pytest

import mlplab
from mlplab.nn.activations import ACTIVATIONS, get_activation


@pytest.fixture
def registry():
    """Remove activations a test registers, so tests stay independent."""
    before = set(ACTIVATIONS)
    yield
    for name in set(ACTIVATIONS) - before:
        del ACTIVATIONS[name]


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.hidden])
def test_builtin_derivatives_match_finite_differences(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-4, 4, 101) + 0.013  # off relu's kink at 0
    h = act.f(z)
    numeric = (act.f(z + 1e-6) - act.f(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(act.derivative(h), numeric, atol=1e-6)
    out = np.empty_like(z)
    np.testing.assert_array_equal(act.forward(z, out), h)


def test_register_activation_then_train_with_it(registry):
    act = mlplab.register_activation(
        "swish",
        lambda z: z / (1 + np.exp(-z)),
        lambda z: (1 + np.exp(-z) + z * np.exp(-z)) / (1 + np.exp(-z)) ** 2,
        from_output=False,
    )
    assert ACTIVATIONS["swish"] is act
    net = mlplab.MLP([3, 5, 1], activation="swish", init="glorot", seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    T = np.random.default_rng(1).uniform(size=(5, 1))
    assert mlplab.gradcheck(net, X, T).ok
    history = net.fit(X, T, epochs=200, lr=0.5)
    assert history.loss[-1] < history.loss[0]


def test_wrong_derivative_is_refused(registry):
    with pytest.raises(mlplab.ConfigError, match="disagrees with finite differences"):
        mlplab.register_activation("bad", np.tanh, lambda h: 1 - h)
    assert "bad" not in ACTIVATIONS


def test_output_form_given_as_input_form_names_the_mixup(registry):
    # sigmoid's derivative h * (1 - h) is in terms of the output; registered as taking z:
    with pytest.raises(mlplab.ConfigError, match=r"in terms of the output h.*from_output=True"):
        mlplab.register_activation(
            "mysig", lambda z: 1 / (1 + np.exp(-z)), lambda h: h * (1 - h), from_output=False
        )


def test_input_form_given_as_output_form_names_the_mixup(registry):
    # tanh's derivative 1 - tanh(z)^2 is in terms of the input; registered as taking h:
    with pytest.raises(mlplab.ConfigError, match=r"in terms of the input z.*from_output=False"):
        mlplab.register_activation("mytanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2)


def test_names_are_checked(registry):
    with pytest.raises(mlplab.ConfigError, match="built in"):
        mlplab.register_activation("tanh", np.tanh, lambda h: 1 - h * h, replace=True)
    with pytest.raises(mlplab.ConfigError, match="identifier"):
        mlplab.register_activation("my act", np.tanh, lambda h: 1 - h * h)
    with pytest.raises(mlplab.ConfigError, match="expected one of: sigmoid, tanh"):
        get_activation("sigmod")
    with pytest.raises(mlplab.ConfigError, match="output activation 'relu'"):
        get_activation("relu", where="output")


def test_a_registered_activation_trains_a_stack_as_it_trains_one_network(registry):
    """A user's activation writes no buffer (no ``f_into``): the stack still matches singles."""
    from mlplab import MLP, load_dataset

    mlplab.register_activation("mytanh", np.tanh, lambda h: 1 - h * h, from_output=True)
    X, t = load_dataset("xor")
    stack = MLP([3, 4, 1], activation="mytanh", init="glorot", seed=2, stack=10)
    stack.fit(X, t, epochs=300, lr=0.1)
    for i in (0, 9):
        single = MLP([3, 4, 1], activation="mytanh", init="glorot", seed=2 + i)
        single.fit(X, t, epochs=300, lr=0.1)
        np.testing.assert_allclose(stack.predict(X)[i], single.predict(X), atol=1e-12)


def test_the_registry_adds_only_through_register_and_keeps_the_builtins():
    from collections.abc import Mapping

    from mlplab.nn.activations import ActivationRegistry

    assert isinstance(ACTIVATIONS, ActivationRegistry) and isinstance(ACTIVATIONS, Mapping)
    with pytest.raises(mlplab.ConfigError, match="added with register_activation"):
        ACTIVATIONS["mine"] = ACTIVATIONS["tanh"]
    with pytest.raises(mlplab.ConfigError, match="built in and cannot be removed"):
        del ACTIVATIONS["tanh"]
    own = ActivationRegistry([ACTIVATIONS["sigmoid"]])  # a registry of one's own
    act = own.register("cube_own", lambda z: z**3, lambda z: 3 * z**2, from_output=False)
    assert "cube_own" in own and "cube_own" not in ACTIVATIONS and own["cube_own"] is act
    assert own.hidden_names() == ["sigmoid", "cube_own"] and own.output_names() == ["sigmoid"]
