"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` backed by mlplab.

Switching from scikit-learn is a one-line import change::

    from mlplab.sklearn import MLPClassifier  # was: from sklearn.neural_network import ...

The constructor parameters carry scikit-learn's names and meanings; ``fit``,
``partial_fit``, ``predict``, ``predict_proba``, ``score`` and the fitted attributes
(``loss_curve_``, ``n_iter_``, ``t_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_``, ``classes_``, ``coefs_``, ``intercepts_``, ``n_layers_``,
``n_outputs_``, ``out_activation_``, ``n_features_in_``, ``feature_names_in_``) behave as
scikit-learn 1.9's: ``sample_weight``, multilabel targets, ``warm_start`` (with its
class check), ``partial_fit`` (with ``classes=``), ``loss="poisson"``, float32 kept as
float32, the stratified early-stopping split, ``n_iter_no_change`` counted as
scikit-learn counts it (``mlplab.train.stopping.NoImprovement``) and its
``ConvergenceWarning`` (L-BFGS's too, at ``max_iter`` or at ``max_fun``). The weights
start as scikit-learn's do, drawn from the same ``random_state`` stream. Differences,
each on purpose (``docs/sklearn.md`` lists them with what was measured):

- ``standardize`` (not in scikit-learn) defaults to ``True``: the network scales its
  inputs to mean 0 and standard deviation 1 per column (weighted by ``sample_weight``),
  learnt on the training rows of the first fit and applied by ``predict``
  (``net_.input_scaler``), as scikit-learn's documentation advises doing with a
  ``StandardScaler`` (so the L-BFGS ``ConvergenceWarning`` leaves out that advice). ``coefs_`` and
  ``intercepts_`` keep scikit-learn's meaning, weights on the raw inputs: the scaler is
  folded into the first layer's (copies, not the network's own arrays: assign the list to
  change them, and the scaler is unfolded on the way in).
  ``standardize=False`` trains on the inputs as given, exactly as scikit-learn does.
- ``engine`` (not in scikit-learn), default ``"numpy"``: where the sgd and adam epochs
  run; ``"jax"`` compiles them (``mlplab.engines``; ``pip install 'mlplab[jax]'``), with
  the same results to rounding. L-BFGS always runs on NumPy.
- ``init`` (not in scikit-learn) defaults to ``"sklearn"``, scikit-learn's start; any
  name from ``mlplab.INITS`` draws the weights that way and zero biases.
- ``dtype`` (not in scikit-learn), default ``None``: the input's (float32 stays
  float32, anything else float64); ``"float32"`` or ``"float64"`` forces one. With
  ``solver="lbfgs"`` float32 stays float32 too (scikit-learn returns float64 there).
- ``activation`` also takes mlplab's ``"leaky_relu"``, ``"softplus"`` and ``"sigmoid"``;
  ``solver`` also ``"momentum"`` and ``"nesterov"`` (``"sgd"`` with momentum).
- Mini-batches are drawn from a NumPy ``Generator`` seeded from ``random_state``, not
  scikit-learn's ``shuffle``: the same start and the same split, a different batch order,
  so stochastic runs agree with scikit-learn's in distribution, not to the bit.
  ``solver="lbfgs"`` with ``standardize=False`` follows scikit-learn's path to 1e-8.
- The L2 term is ``alpha / (2 * batch_size)`` for every batch (scikit-learn divides by
  each batch's own size, so its last, shorter batch differs); with ``sample_weight`` it
  is divided by the batch size times the mean weight, and an epoch's loss averages the
  batches by weight (scikit-learn: by rows).
- ``solver="lbfgs"`` records ``loss_curve_`` (the objective after each iteration),
  which scikit-learn leaves unset; ``partial_fit`` is refused for it on the regressor
  too (scikit-learn 1.9's regressor runs a full L-BFGS fit there).
- ``loss="poisson"`` refuses negative targets (scikit-learn trains on to a NaN loss).
- A diverging run without early stopping raises ``DivergedError`` (a ``ValueError``
  and mlplab's ``TrainingDivergedError``) at the first non-finite loss, naming the
  epoch and the largest input; scikit-learn trains on to ``max_iter`` and then raises a
  ``ValueError``. With early stopping both end at ``max_iter`` with NaN validation
  scores and the best weights.
- As scikit-learn 1.9's code does, only one-output (binary) targets get a stratified
  early-stopping split (its documentation says every target but multilabel).
- ``check_estimator``'s sample-weight equivalence check fails for the stochastic solvers
  and its multilabel ``predict_proba`` check for L-BFGS, as for scikit-learn's own MLPs.
- Sparse input (``scipy.sparse`` CSR/CSC): ``predict``, ``predict_proba`` and ``score``
  make ``PREDICT_ROWS`` rows dense at a time; ``fit`` and ``partial_fit`` with sgd or adam
  make one mini-batch dense at a time (the input scaler's moments come from the stored
  values); ``solver="lbfgs"``, whose one batch is every row, makes them dense once.

Parameters are checked from one table (``_params.PARAMETER_CONSTRAINTS``) by
scikit-learn's own ``_parameter_constraints`` machinery, with its words and its
``InvalidParameterError``; NumPy scalars are accepted wherever numbers are. ``coefs_``
and ``intercepts_`` can be assigned, as in scikit-learn, and predictions follow them.

This package imports scikit-learn and SciPy (``pip install 'mlplab[sklearn]'``; without
them importing it says so); ``import mlplab`` does not import it. Its private modules:
``_params`` (the parameter table), ``_base`` (the shared estimator), ``_network`` (the
network's start, scaler, rows and weights), ``_stochastic`` and ``_lbfgs`` (the solvers),
``_classifier`` and ``_regressor``.
"""

from __future__ import annotations

try:  # the `sklearn` extra: say so rather than "No module named 'scipy'"
    import scipy.sparse  # noqa: F401
    import sklearn  # noqa: F401
except ModuleNotFoundError as e:
    raise ModuleNotFoundError(
        f"mlplab.sklearn needs scikit-learn and SciPy, and {e.name!r} is not installed: "
        "pip install 'mlplab[sklearn]'",
        name=e.name,
    ) from None

from mlplab.sklearn._classifier import MLPClassifier
from mlplab.sklearn._regressor import MLPRegressor
from mlplab.sklearn._stochastic import DivergedError

__all__ = ["DivergedError", "MLPClassifier", "MLPRegressor"]

# pickles (joblib files) name the public path, which stays when the private modules move
MLPClassifier.__module__ = MLPRegressor.__module__ = DivergedError.__module__ = __name__
