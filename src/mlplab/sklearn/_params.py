"""The estimators' parameters, checked from one table with scikit-learn's own machinery.

``PARAMETER_CONSTRAINTS`` is scikit-learn's ``_parameter_constraints`` for its MLPs
(``sklearn.utils._param_validation``), with mlplab's extra activations and solvers and
its four extra parameters. ``fit`` and ``partial_fit`` check it through ``_fit_context``
and refuse a value outside it with scikit-learn's ``InvalidParameterError`` (a
``ValueError``), worded as scikit-learn words it::

    The 'solver' parameter of MLPClassifier must be a str among {...}. Got 'newton' instead.

NumPy scalars count as the numbers they hold (``alpha=np.int64(0)``), as in scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from mlplab.nn.init import INITS

__all__ = ["ACTIVATIONS", "OUT_NAMES", "PARAMETER_CONSTRAINTS", "SGD_FAMILY", "SOLVERS",
           "hidden_sizes"]  # fmt: skip

# scikit-learn's activation names, and mlplab's own, to mlplab's
ACTIVATIONS = {
    "identity": "identity",
    "logistic": "sigmoid",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "softplus": "softplus",
}
# mlplab's output activations to scikit-learn's ``out_activation_`` names
OUT_NAMES = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity", "exp": "exp"}
SGD_FAMILY = ("sgd", "momentum", "nesterov")
SOLVERS = ("adam", *SGD_FAMILY, "lbfgs")

PARAMETER_CONSTRAINTS: Mapping[str, list[Any]] = MappingProxyType(
    {
        # scikit-learn's, as its BaseMultilayerPerceptron declares them (activation and
        # solver with mlplab's additions)
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        # mlplab's own
        "init": [StrOptions({"sklearn", *INITS})],
        "dtype": [
            None,
            StrOptions({"float32", "float64"}),
            Options(type, {np.float32, np.float64}),
            Options(np.dtype, {np.dtype(np.float32), np.dtype(np.float64)}),
        ],
        "standardize": ["boolean"],
        "engine": [str],  # which names: mlplab.engines says, the one place engines are checked
    }
)


def hidden_sizes(value: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints (one int is one layer)."""
    sizes = [value] if isinstance(value, Integral) else list(value)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {value!r}")
    return [int(s) for s in sizes]
