"""mlplab.sklearn side by side with scikit-learn itself: same data, same parameters.

Each test fits both estimators and compares what a scikit-learn user observes: ``n_iter_``,
warnings, errors and their messages, attribute shapes and dtypes, and losses (exactly where
the paths are the same: L-BFGS on raw inputs from one ``random_state``, to 1e-8).
"""

from __future__ import annotations

import copy
import io
import re
import warnings

import numpy as np
import pytest
from conftest import require

require("sklearn")
from sklearn.datasets import load_diabetes, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier as TheirClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as TheirRegressor  # noqa: E402

from mlplab.sklearn import DivergedError, MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


def quietly(estimator, *args, **kwargs):
    """Fit with scikit-learn's ConvergenceWarning silenced (the tests about it do not), and,
    for scikit-learn's estimators, its overflow warnings on diverging runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if type(estimator).__module__.startswith("sklearn"):
            warnings.simplefilter("ignore", RuntimeWarning)
        return estimator.fit(*args, **kwargs)


# --- n_iter_no_change and ConvergenceWarning ---------------------------------------------


@pytest.mark.parametrize("patience, epochs", [(1, 3), (2, 4), (5, 7), (10, 12)])
def test_n_iter_no_change_counts_as_scikit_learns(iris, patience, epochs):
    X, y = iris  # with tol=1e9 no epoch improves enough: patience + 2 epochs, in both
    settings = dict(hidden_layer_sizes=(8,), tol=1e9, n_iter_no_change=patience, max_iter=100,
                    random_state=0)  # fmt: skip
    assert MLPClassifier(**settings).fit(X, y).n_iter_ == epochs
    assert TheirClassifier(**settings).fit(X, y).n_iter_ == epochs


def test_a_loss_falling_by_less_than_tol_stops_and_inf_never_stops(iris):
    X, y = iris
    settings = dict(hidden_layer_sizes=(8,), tol=1.0, n_iter_no_change=3, max_iter=50,
                    random_state=0)  # fmt: skip
    ours, theirs = MLPClassifier(**settings).fit(X, y), TheirClassifier(**settings).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 5  # the first epoch beats inf, then 4 stalls
    assert ours.best_loss_ == min(ours.loss_curve_)
    forever = dict(settings, n_iter_no_change=np.inf, max_iter=20)
    for cls in (MLPClassifier, TheirClassifier):
        with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(20\) reached"):
            assert cls(**forever).fit(X, y).n_iter_ == 20


def _warnings_of(fit, *args) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(*args)
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_convergence_warning_when_max_iter_ends_training(iris, solver):
    X, y = iris
    settings = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=3, random_state=0)
    ours = _warnings_of(lambda: MLPClassifier(**settings).fit(X, y))
    theirs = _warnings_of(lambda: TheirClassifier(**settings).fit(X, y))
    assert ours == theirs == [
        "Stochastic Optimizer: Maximum iterations (3) reached and the optimization hasn't "
        "converged yet."
    ]
    stopped = dict(settings, max_iter=50, tol=1e9, n_iter_no_change=1)  # stops at epoch 3
    assert _warnings_of(lambda: MLPClassifier(**stopped).fit(X, y)) == []
    assert _warnings_of(lambda: TheirClassifier(**stopped).fit(X, y)) == []
    clf = MLPClassifier(**settings)
    assert _warnings_of(lambda: clf.partial_fit(X, y, classes=[0, 1, 2])) == []  # as theirs


@pytest.mark.parametrize("limit", [{"max_iter": 3}, {"max_fun": 4}])
def test_lbfgs_warns_as_scikit_learn_when_a_limit_ends_it(iris, limit):
    X, y = iris
    settings = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, **limit)
    ours = _warnings_of(lambda: MLPClassifier(standardize=False, **settings).fit(X, y))
    theirs = _warnings_of(lambda: TheirClassifier(**settings).fit(X, y))
    assert len(ours) == 1 and ours == theirs
    assert ours[0].startswith("lbfgs failed to converge after")


# --- L-BFGS, sample weights and the Poisson loss, on scikit-learn's own path -------------


def test_lbfgs_with_sample_weights_follows_scikit_learns_path(iris):
    X, y = iris
    w = np.random.default_rng(0).uniform(0, 3, len(X))
    # 20 iterations: later, rounding differences grow along this non-convex path (1e-4 by 60)
    settings = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=20, alpha=0.01,
                    random_state=3)  # fmt: skip
    ours = quietly(MLPClassifier(standardize=False, **settings), X, y, sample_weight=w)
    theirs = quietly(TheirClassifier(**settings), X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)


def test_a_weight_of_two_is_a_repeated_row_and_zero_a_removed_one(iris):
    X, y = iris
    w = np.ones(len(X))
    w[:20], w[20:30] = 2.0, 0.0
    rows = np.r_[np.arange(20), np.arange(20), np.arange(30, len(X))]
    settings = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=40, random_state=1)
    weighted = quietly(MLPClassifier(**settings), X, y, sample_weight=w)
    repeated = quietly(MLPClassifier(**settings), X[rows], y[rows])
    # the weighted scaler (standardize=True) equals the one of the repeated rows, too
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-7)


def test_sample_weight_trains_stochastic_solvers_and_early_stopping(iris):
    X, y = iris
    w = np.where(y == 2, 0.0, 1.0)  # class 2 does not count
    clf = MLPClassifier((16,), max_iter=300, learning_rate_init=0.01, random_state=0)
    quietly(clf, X, y, sample_weight=w)
    assert (clf.predict(X[y == 2]) == 2).mean() < 0.2
    assert clf.score(X[y < 2], y[y < 2]) > 0.95
    stopped = MLPClassifier((16,), early_stopping=True, max_iter=300, random_state=0)
    quietly(stopped, X, y, sample_weight=np.ones(len(X)))
    assert len(stopped.validation_scores_) == stopped.n_iter_ < 300
    for est in (MLPClassifier(max_iter=2), TheirClassifier(max_iter=2)):
        with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero"):
            quietly(est, X, y, sample_weight=np.zeros(len(X)))


def test_poisson_loss_follows_scikit_learns_path(diabetes):
    X, y = diabetes
    counts = np.round(y / 50)
    settings = dict(loss="poisson", hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50,
                    random_state=0)  # fmt: skip
    ours = quietly(MLPRegressor(standardize=False, **settings), X, counts)
    theirs = quietly(TheirRegressor(**settings), X, counts)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)
    assert (ours.predict(X) > 0).all()
    adam = quietly(MLPRegressor("poisson", (16,), max_iter=200, learning_rate_init=0.01,
                                random_state=0), X, counts)  # fmt: skip
    assert adam.score(X, counts) > 0.3
    assert MLPRegressor().get_params()["loss"] == TheirRegressor().get_params()["loss"]
    with pytest.raises(ValueError, match="loss='poisson' needs non-negative targets"):
        MLPRegressor(loss="poisson", max_iter=2).fit(X, -counts)
    for cls in (MLPRegressor, TheirRegressor):  # scikit-learn's parameter check, its words
        with pytest.raises(ValueError, match=r"The 'loss' parameter of MLPRegressor must be a "
                                             r"str among .*\. Got 'absolute' instead\."):
            cls(loss="absolute", max_iter=2).fit(X, counts)


# --- partial_fit and warm_start --------------------------------------------------------


def test_partial_fit_as_scikit_learns(iris):
    X, y = iris
    for cls in (MLPClassifier, TheirClassifier):
        with pytest.raises(ValueError, match="classes must be passed on the first call"):
            cls().partial_fit(X, y)
        clf = cls((8,), random_state=0)
        clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
        clf.partial_fit(X, y)
        assert (clf.n_iter_, clf.t_, len(clf.loss_curve_)) == (1, 200, 2)
        with pytest.raises(ValueError, match=re.escape("`y` has classes not in `self.classes_`")):
            clf.partial_fit(X, np.where(y == 2, 5, y))
        fitted = quietly(cls((8,), max_iter=3, random_state=0), X, y)
        fitted.partial_fit(X, y)
        assert (fitted.n_iter_, fitted.t_, len(fitted.loss_curve_)) == (1, 600, 4)
        twin = copy.deepcopy(fitted)
        fitted.partial_fit(X, y, sample_weight=np.where(y == 0, 3.0, 1.0))  # weighted, too
        twin.partial_fit(X, y)
        assert fitted.t_ == twin.t_ == 750 and fitted.loss_curve_[-1] != twin.loss_curve_[-1]
        with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
            cls(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
        assert not hasattr(cls(solver="lbfgs"), "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")  # refused: a difference


def test_partial_fit_goes_on_after_a_joblib_round_trip(iris, tmp_path):
    joblib = require("joblib")
    X, y = iris
    clf = MLPClassifier((8,), random_state=0)
    for _ in range(5):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    joblib.dump(clf, tmp_path / "model.joblib")
    copy = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    for est in (clf, copy):  # the optimizer's state travelled with it: the same next steps
        est.partial_fit(X, y)
    np.testing.assert_allclose(copy.predict_proba(X), clf.predict_proba(X), rtol=1e-12)
    assert copy.loss_curve_ == clf.loss_curve_ and copy._optimizer_.t == clf._optimizer_.t > 0
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    reg.partial_fit(X, y.astype(float))
    buffer = io.BytesIO()
    joblib.dump(reg, buffer)
    buffer.seek(0)
    again = joblib.load(buffer)
    again.partial_fit(X, y.astype(float))
    assert again.t_ == 300


def test_warm_start_refuses_other_classes_with_scikit_learns_error(iris):
    X, y = iris
    for cls in (MLPClassifier, TheirClassifier):
        clf = quietly(cls((8,), max_iter=3, warm_start=True, random_state=0), X, y)
        for labels in (y[y < 2], np.where(y == 2, 3, y)):  # fewer classes, other classes
            keep = slice(None) if len(labels) == len(y) else y < 2
            with pytest.raises(ValueError, match="warm_start can only be used where `y` has the "
                                                 "same classes as in the previous call to fit"):
                clf.fit(X[keep], labels)
        coefs = [c.copy() for c in clf.coefs_]
        quietly(clf, X, y)  # the same classes: continues
        assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6 and clf.t_ == 900
        assert not np.allclose(coefs[0], clf.coefs_[0])


# --- multilabel, dtype, early-stopping split, attributes ----------------------------------


def test_multilabel_indicator_targets(iris):
    X, y = iris
    Y = np.c_[y == 0, y == 1, y > 0].astype(int)  # three labels, two of them can be on at once
    ours = quietly(MLPClassifier((16,), max_iter=300, learning_rate_init=0.01, random_state=0),
                   X, Y)  # fmt: skip
    theirs = quietly(TheirClassifier((16,), max_iter=300, learning_rate_init=0.01,
                                     random_state=0), X, Y)  # fmt: skip
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert ours.n_outputs_ == theirs.n_outputs_ == 3
    assert ours.predict(X).shape == theirs.predict(X).shape == (150, 3)
    assert ours.predict_proba(X).shape == theirs.predict_proba(X).shape == (150, 3)
    assert set(np.unique(ours.predict(X))) <= {0, 1}
    assert ours.score(X, Y) > theirs.score(X, Y) - 0.1 and ours.score(X, Y) > 0.8
    np.testing.assert_array_equal(ours.predict(X), (ours.predict_proba(X) > 0.5).astype(int))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_stays_float32_and_float64_float64(iris, solver):
    X, y = iris
    for dtype in (np.float32, np.float64):
        clf = quietly(MLPClassifier((8,), solver=solver, max_iter=5, random_state=0),
                      X.astype(dtype), y)  # fmt: skip
        assert {a.dtype for a in clf.coefs_ + clf.intercepts_} == {np.dtype(dtype)}
        assert clf.predict_proba(X.astype(dtype)).dtype == dtype
        reg = quietly(MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=5,
                                   random_state=0), X.astype(dtype), y.astype(dtype))  # fmt: skip
        assert reg.predict(X.astype(dtype)).dtype == dtype
    theirs = quietly(TheirClassifier((8,), max_iter=5, random_state=0), X.astype(np.float32), y)
    assert theirs.coefs_[0].dtype == np.float32  # as scikit-learn does for adam
    forced = quietly(MLPClassifier((8,), max_iter=2, dtype="float32"), X, y)
    assert forced.coefs_[0].dtype == np.float32


def test_early_stopping_split_is_stratified_and_its_error_names_validation_fraction():
    y = np.r_[np.zeros(90), np.ones(10)].astype(int)
    X = np.random.default_rng(0).normal(size=(100, 3))
    for seed in range(20):
        clf = MLPClassifier(early_stopping=True, random_state=seed)
        clf._validate_params()
        clf._validate_input(X, y, incremental=False, reset=True)
        T, _, _ = clf._targets(y)
        *_, yv, _ = clf._split(X, T, y, None, np.random.RandomState(seed))
        assert len(yv) == 10 and yv.sum() == 1  # a tenth of each class
    for cls in (MLPRegressor, TheirRegressor):  # one validation row of 50
        with pytest.raises(ValueError, match=r"The validation set is too small\. Increase "
                                             r"'validation_fraction'"):  # fmt: skip
            cls(early_stopping=True, validation_fraction=0.01).fit(X[:50], X[:50, 0])


def test_fitted_attributes_are_scikit_learns(iris):
    pandas = require("pandas")
    X, y = iris
    frame = pandas.DataFrame(X, columns=["a", "b", "c", "d"])
    names = ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_", "n_features_in_")
    for settings in ({}, {"early_stopping": True}, {"solver": "lbfgs"}):
        kwargs = dict(hidden_layer_sizes=(8, 4), max_iter=20, random_state=0, **settings)
        ours = quietly(MLPClassifier(standardize=False, **kwargs), frame, y)
        theirs = quietly(TheirClassifier(**kwargs), frame, y)
        for name in names:
            assert getattr(ours, name) == getattr(theirs, name), (settings, name)
        np.testing.assert_array_equal(ours.feature_names_in_, theirs.feature_names_in_)
        for name in ("best_loss_", "validation_scores_", "best_validation_score_"):
            assert hasattr(ours, name) == hasattr(theirs, name), (settings, name)
            if hasattr(theirs, name):
                assert (getattr(ours, name) is None) == (getattr(theirs, name) is None)
        if settings.get("early_stopping"):
            assert len(ours.validation_scores_) == ours.n_iter_
            assert ours.best_validation_score_ == max(ours.validation_scores_)
            assert 0 <= ours.best_validation_score_ <= 1  # an accuracy, as theirs
        if not settings:
            assert ours.best_loss_ == min(ours.loss_curve_)
            assert ours.loss_ == pytest.approx(theirs.loss_, rel=0.25)  # one start, other batches


# --- divergence -----------------------------------------------------------------------


def test_divergence_ends_as_scikit_learns(diabetes):
    X, y = diabetes
    X = X * 10
    settings = dict(solver="sgd", learning_rate_init=0.5, max_iter=30, random_state=0)
    ours = quietly(MLPRegressor(early_stopping=True, standardize=False, **settings), X, y)
    theirs = quietly(TheirRegressor(early_stopping=True, **settings), X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 30
    assert len(ours.validation_scores_) == len(theirs.validation_scores_) == 30
    assert np.isnan(ours.validation_scores_).sum() > 20
    assert np.isnan(theirs.validation_scores_).sum() > 20
    assert all(np.isfinite(c).all() for c in ours.coefs_)  # the best weights, restored
    assert np.isfinite(ours.predict(X)).all()
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        quietly(TheirRegressor(**settings), X, y)
    with pytest.raises(ValueError, match="the loss became inf at epoch") as caught:
        quietly(MLPRegressor(standardize=False, **settings), X, y)
    assert isinstance(caught.value, DivergedError) and caught.value.epoch >= 0


def test_huge_inputs_say_what_was_too_large(diabetes):
    X, y = diabetes
    huge = X * 1e300
    with pytest.raises(ValueError, match=r"too large to standardize: up to 1\.99e\+299 in "
                                         r"absolute value \(column 5\)"):  # fmt: skip
        MLPRegressor(max_iter=2).fit(huge, y)
    with pytest.raises(ValueError, match=r"The inputs reach 1\.99e\+299 .*\(column 5\): too "
                                         r"large"):  # fmt: skip
        MLPRegressor(max_iter=2, standardize=False).fit(huge, y)


# --- sparse input ---------------------------------------------------------------------


def test_sparse_rows_predict_and_fit_with_lbfgs(iris):
    from scipy import sparse

    X, y = iris
    Xs = sparse.csr_matrix(np.where(X > 3, X, 0.0))  # some zeros
    dense = Xs.toarray()
    settings = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    ours = quietly(MLPClassifier(standardize=False, **settings), Xs, y)
    theirs = quietly(TheirClassifier(**settings), Xs, y)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.predict_proba(Xs), theirs.predict_proba(Xs), atol=1e-8)
    np.testing.assert_array_equal(ours.predict_proba(sparse.csc_array(Xs)),
                                  ours.predict_proba(dense))  # fmt: skip
    big = sparse.random(3000, 4, density=0.3, format="csr", random_state=0)
    assert ours.predict(big).shape == (3000,)  # dense PREDICT_ROWS rows at a time
    adam = quietly(MLPClassifier((8,), max_iter=5, random_state=0), dense, y)
    np.testing.assert_array_equal(adam.predict(Xs), adam.predict(dense))



@pytest.mark.parametrize("early_stopping", [False, True])
def test_sparse_rows_train_mini_batches_as_their_dense_twins(iris, early_stopping):
    from scipy import sparse

    X, y = iris
    Xs = sparse.csr_matrix(np.where(X > 3, X, 0.0))
    settings = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0, batch_size=32,
                    early_stopping=early_stopping)  # fmt: skip
    on_rows = quietly(MLPClassifier(**settings), Xs, y)  # standardised from the stored values
    on_dense = quietly(MLPClassifier(**settings), Xs.toarray(), y)
    assert on_rows.n_iter_ == on_dense.n_iter_
    np.testing.assert_allclose(on_rows.loss_curve_, on_dense.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(on_rows.predict_proba(Xs), on_dense.predict_proba(Xs), atol=1e-10)
    if early_stopping:
        return  # partial_fit refuses early stopping, as scikit-learn's does
    on_rows.partial_fit(Xs, y)
    on_dense.partial_fit(Xs.toarray(), y)
    np.testing.assert_allclose(on_rows.predict_proba(Xs), on_dense.predict_proba(Xs), atol=1e-10)


def test_a_warm_start_may_switch_early_stopping_on(iris, capsys):
    X, y = iris
    clf = quietly(MLPClassifier((8,), max_iter=5, warm_start=True, random_state=0), X, y)
    assert clf.validation_scores_ is None and clf.best_loss_ == min(clf.loss_curve_)
    clf.set_params(early_stopping=True, max_iter=300, verbose=True)
    quietly(clf, X, y)  # a fresh count, on the validation score
    assert len(clf.validation_scores_) == clf.n_iter_ < 300
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = ") and lines[1].startswith("Validation score:")
    assert lines[-1].startswith("Validation score did not improve more than tol=")


# --- parameters, fitted attributes, warnings and messages, as scikit-learn's --------------


def _constraint(c) -> tuple:
    """A constraint as comparable values (a set's order differs from run to run)."""
    if hasattr(c, "options"):
        return type(c).__name__, c.type, frozenset(c.options)
    if hasattr(c, "closed"):
        return type(c).__name__, c.type, c.left, c.right, c.closed
    return (str(c),)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_every_parameter_is_checked_from_the_table_as_scikit_learn_checks(cls):
    from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron
    from sklearn.utils.estimator_checks import check_param_validation

    check_param_validation(cls.__name__, cls(max_iter=2))  # scikit-learn's own check
    theirs = (TheirClassifier if cls is MLPClassifier else TheirRegressor)._parameter_constraints
    ours = cls._parameter_constraints
    assert set(ours) - set(theirs) == {"init", "dtype", "standardize", "engine"}
    for name in set(theirs) - {"activation", "solver"}:  # the same constraints, one by one
        assert [_constraint(c) for c in ours[name]] == [_constraint(c) for c in theirs[name]]
    base = BaseMultilayerPerceptron._parameter_constraints
    for name in ("activation", "solver"):  # scikit-learn's names, and mlplab's beside them
        assert base[name][0].options < ours[name][0].options


def _numpy_scalars(settings: dict) -> dict:
    """Each number as a NumPy scalar of its kind (exactly representable floats in float32)."""
    def as_numpy(value):
        if isinstance(value, bool):
            return np.bool_(value)
        if isinstance(value, int):
            return np.int64(value)
        if isinstance(value, float):
            return np.float32(value) if float(np.float32(value)) == value else np.float64(value)
        return value

    return {name: as_numpy(value) for name, value in settings.items()}


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_numpy_scalars_are_taken_as_the_numbers_they_hold(iris, solver):
    X, y = iris
    settings = dict(hidden_layer_sizes=8, solver=solver, alpha=0, batch_size=32,
                    learning_rate_init=0.0625, power_t=0.5, max_iter=6, tol=1e-4, momentum=0.5,
                    validation_fraction=0.25, beta_1=0.75, beta_2=0.999, epsilon=1e-8,
                    n_iter_no_change=10, max_fun=15000, shuffle=True, nesterovs_momentum=False,
                    early_stopping=False, warm_start=False, random_state=0)  # fmt: skip
    scalars = _numpy_scalars(settings)
    assert type(scalars["alpha"]) is np.int64 and type(scalars["power_t"]) is np.float32
    for ours, theirs in ((MLPClassifier, TheirClassifier), (MLPRegressor, TheirRegressor)):
        target = y if ours is MLPClassifier else y.astype(float)
        quietly(theirs(**scalars), X, target)  # scikit-learn takes them
        given = quietly(ours(standardize=False, **scalars), X, target)
        plain = quietly(ours(standardize=False, **settings), X, target)
        assert given.n_iter_ == plain.n_iter_
        np.testing.assert_array_equal(given.loss_curve_, plain.loss_curve_)
    hidden = quietly(MLPClassifier(hidden_layer_sizes=(np.int64(8), np.int32(4)), max_iter=2),
                     X, y)  # fmt: skip
    assert [c.shape[1] for c in hidden.coefs_] == [8, 4, 3]


@pytest.mark.parametrize("standardize", [True, False])
def test_coefs_and_intercepts_may_be_assigned_and_predictions_follow(iris, standardize):
    X, y = iris
    X = X * 10 + 5  # far from scaled: the scaler, when there is one, is unfolded on assigning
    settings = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    theirs = quietly(TheirClassifier(**settings), X, y)
    ours = quietly(MLPClassifier(standardize=standardize, **dict(settings, random_state=1)), X, y)
    assert not np.allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)
    ours.coefs_ = theirs.coefs_  # scikit-learn's weights into ours: the same predictions
    ours.intercepts_ = theirs.intercepts_
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    for mine, their in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                           strict=True):  # fmt: skip
        np.testing.assert_allclose(mine, their, rtol=1e-12, atol=1e-12)
    for est in (ours, theirs):  # one attribute at a time, the other kept
        intercepts = [b.copy() for b in est.intercepts_]
        est.coefs_ = [c * 0 for c in est.coefs_]
        np.testing.assert_allclose(est.intercepts_[-1], intercepts[-1], rtol=1e-12)
        assert np.ptp(est.predict_proba(X), axis=0).max() < 1e-12  # every row alike now
    with pytest.raises(ValueError, match=r"coefs_ must be 2 arrays of shapes "
                                         r"\[\(4, 8\), \(8, 3\)\]"):
        ours.coefs_ = [np.zeros((4, 8))]
    ours.partial_fit(X, y)  # training goes on from the assigned weights
    assert np.isfinite(ours.loss_curve_[-1])


@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("estimators", ["classifier", "regressor"])
def test_lbfgs_warns_when_max_fun_ends_it_as_when_max_iter_does(iris, diabetes, estimators,
                                                                 standardize):  # fmt: skip
    ours, theirs, (X, y) = ((MLPClassifier, TheirClassifier, iris) if estimators == "classifier"
                            else (MLPRegressor, TheirRegressor, diabetes))  # fmt: skip
    for limit in ({"max_fun": 10}, {"max_iter": 5}):
        settings = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, **limit)
        mine = _warnings_of(ours(standardize=standardize, **settings).fit, X, y)
        their = _warnings_of(theirs(**settings).fit, X, y)
        assert len(mine) == len(their) == 1
        assert mine[0].startswith("lbfgs failed to converge after")
        said = "EVALUATIONS EXCEEDS LIMIT" if "max_fun" in limit else "ITERATIONS REACHED LIMIT"
        assert said in mine[0] and said in their[0]
        if not standardize:
            assert mine == their
        else:  # scaled already: no advice to scale
            assert "scale the data" not in mine[0] and "scale the data" in their[0]


def test_messages_name_the_class_labels_as_given():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.r_[np.zeros(39, dtype=bool), True]  # one True: too few to stratify the split
    said = {}
    for cls in (MLPClassifier, TheirClassifier):
        with pytest.raises(ValueError, match="Classes with too few members are") as caught:
            cls(max_iter=2, early_stopping=True).fit(X, y)
        said[cls] = str(caught.value)
    assert said[MLPClassifier].endswith("are: [True]")  # as given (it said [1.0])
    assert said[TheirClassifier].endswith("are: ['True']")  # its one-column labels, as text
    names = np.where(y, "rare", "common")
    with pytest.raises(ValueError, match=re.escape("too few members are: ['rare']")):
        MLPClassifier(max_iter=2, early_stopping=True).fit(X, names)
    clf = quietly(MLPClassifier(max_iter=2, warm_start=True), X, np.arange(40) % 2 == 0)
    for est in (clf, quietly(TheirClassifier(max_iter=2, warm_start=True), X,
                             np.arange(40) % 2 == 0)):  # fmt: skip
        with pytest.raises(ValueError, match=re.escape("Previously got [False  True], `y` has "
                                                       "[0 2]")):  # fmt: skip
            est.fit(X, np.where(np.arange(40) % 2 == 0, 2, 0))
