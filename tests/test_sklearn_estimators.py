"""mlplab.sklearn: scikit-learn's estimator checks, its tools, and its fitted attributes."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import require

# these tests are about other things; tests/test_sklearn_parity.py checks when it is warned
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def estimators():
    require("sklearn")
    from mlplab import sklearn as ours

    return ours


@pytest.fixture(scope="module")
def digits():
    require("sklearn")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


@pytest.mark.parametrize(
    "settings", [{}, {"standardize": False}, {"solver": "lbfgs"}], ids=["scaled", "raw", "lbfgs"]
)
@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_check_estimator_passes(estimators, name, settings):
    from sklearn.exceptions import ConvergenceWarning, SkipTestWarning
    from sklearn.utils.estimator_checks import check_estimator

    # max_iter=100: what scikit-learn's own suite gives its MLPs under check_estimator
    # (sklearn.utils._test_common.instance_generator), half the default 200; but L-BFGS's
    # classifier keeps 200, where the multilabel check below fails as scikit-learn's does
    lbfgs_classifier = name == "MLPClassifier" and "solver" in settings
    max_iter = 200 if lbfgs_classifier else 100
    estimator = getattr(estimators, name)(random_state=0, max_iter=max_iter, **settings)
    expected = {}
    if "solver" not in settings:  # scikit-learn runs this check on its MLPs with lbfgs only
        expected["check_sample_weight_equivalence_on_dense_data"] = (
            "mini-batches: repeated rows change the batches (scikit-learn's own MLPs fail it too)"
        )
    elif name == "MLPClassifier":  # scikit-learn's MLPClassifier(solver="lbfgs") fails it too
        expected["check_classifiers_multilabel_output_format_predict_proba"] = (
            "L-BFGS fits the small multilabel set to probabilities of exactly 1.0"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkipTestWarning)  # the array-API check needs SciPy's flag
        warnings.simplefilter("ignore", ConvergenceWarning)  # as scikit-learn's own MLPs warn
        results = check_estimator(estimator, on_fail=None, expected_failed_checks=expected)
    failed = [f"{r['check_name']}: {r['exception']!r}" for r in results if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 50


def test_parameters_are_scikit_learns(estimators):
    from sklearn.neural_network import MLPClassifier as Theirs

    theirs = set(Theirs().get_params())
    ours = set(estimators.MLPClassifier().get_params())
    assert theirs - ours == set()
    assert ours - theirs == {"init", "dtype", "standardize", "engine"}
    from sklearn.neural_network import MLPRegressor as TheirRegressor

    theirs = TheirRegressor().get_params()
    ours = estimators.MLPRegressor().get_params()
    assert set(ours) - set(theirs) == {"init", "dtype", "standardize", "engine"}
    assert {name: ours[name] for name in theirs} == theirs  # the same defaults
    import inspect

    their_order = list(inspect.signature(TheirRegressor).parameters)
    our_order = [p for p in inspect.signature(estimators.MLPRegressor).parameters
                 if p in their_order]  # fmt: skip
    assert our_order == their_order  # loss first, then as the classifier's
    reg = estimators.MLPRegressor("poisson", (5,), "tanh", alpha=0.5)
    assert (reg.loss, reg.hidden_layer_sizes, reg.activation, reg.alpha) == ("poisson", (5,),
                                                                             "tanh", 0.5)
    with pytest.raises(TypeError):
        estimators.MLPRegressor("poisson", (5,), "tanh", "adam")  # keywords from solver on
    with pytest.raises(TypeError, match="unexpected keyword argument 'alpah'"):
        estimators.MLPRegressor(alpah=0.5)


def test_pipeline_grid_search_and_cross_val_score(estimators, digits):
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    pipe = make_pipeline(
        StandardScaler(),
        estimators.MLPClassifier((32,), batch_size=32, max_iter=30, random_state=0),
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.min() > 0.75
    from sklearn.neural_network import MLPClassifier as Theirs

    theirs = make_pipeline(
        StandardScaler(), Theirs((32,), batch_size=32, max_iter=30, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their ConvergenceWarning
        reference = cross_val_score(theirs, X, y, cv=3)
    assert scores.mean() > reference.mean() - 0.05  # scikit-learn's own: about 0.85 here
    grid = GridSearchCV(
        estimators.MLPClassifier(batch_size=32, max_iter=20, random_state=0),
        {"hidden_layer_sizes": [(4,), (32,)], "alpha": [1e-4, 1e-2]},
        cv=2,
    ).fit(X, y)
    assert grid.best_params_["hidden_layer_sizes"] == (32,)
    assert grid.best_score_ > 0.7


def test_fitted_attributes_match_scikit_learns_shapes(estimators, digits):
    from sklearn.neural_network import MLPClassifier as Theirs

    X, y = digits
    kwargs = {"hidden_layer_sizes": (20, 10), "max_iter": 15, "random_state": 0}
    ours = estimators.MLPClassifier(**kwargs).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their ConvergenceWarning
        theirs = Theirs(**kwargs).fit(X, y)
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_iter_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert len(ours.loss_curve_) == ours.n_iter_ == 15
    assert ours.loss_curve_[-1] < ours.loss_curve_[0] * 0.9
    proba = ours.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ours.classes_[proba.argmax(axis=1)])


def test_string_labels_binary_and_early_stopping(estimators, digits):
    X, y = digits
    names = np.where(y % 2 == 0, "even", "odd")
    clf = estimators.MLPClassifier(
        (32,), early_stopping=True, n_iter_no_change=3, max_iter=300, random_state=1
    ).fit(X, names)
    assert list(clf.classes_) == ["even", "odd"]
    assert clf.out_activation_ == "logistic"
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.score(X, names) > 0.8  # 3 epochs without a better validation accuracy end it
    assert set(clf.predict(X[:5])) <= {"even", "odd"}


def test_regressor_learns_a_curve_in_float32(estimators):
    X = np.linspace(-3, 3, 300)[:, None]
    y = np.sin(X[:, 0])
    reg = estimators.MLPRegressor(
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        max_iter=300,
        learning_rate_init=0.01,
        random_state=0,
        dtype="float32",
    )
    reg.fit(X, y)
    assert reg.coefs_[0].dtype == np.float32
    assert reg.predict(X).shape == (300,)
    assert reg.score(X, y) > 0.95
    two = estimators.MLPRegressor(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
    two.fit(X, np.c_[y, -y])
    assert two.predict(X).shape == (300, 2)


@pytest.mark.parametrize("solver", ["sgd", "momentum", "nesterov", "adam"])
def test_solvers_and_schedules(estimators, digits, solver):
    X, y = digits
    clf = estimators.MLPClassifier(
        (32,),
        solver=solver,
        learning_rate_init=0.05 if solver != "adam" else 0.01,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_warm_start_continues_and_pickle_round_trips(estimators, digits):
    X, y = digits
    clf = estimators.MLPClassifier((16,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    first = clf.loss_curve_[-1]
    clf.fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 10  # the curve goes on, as theirs
    assert clf.loss_curve_[5] < first  # started from the trained weights
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))


def test_pickles_name_the_public_path_only(estimators, digits):
    X, y = digits
    for est in (estimators.MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y),
                estimators.MLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)):
        data = pickle.dumps(est)
        assert b"mlplab.sklearn._" not in data  # no private module a later version may move
        np.testing.assert_array_equal(pickle.loads(data).predict(X), est.predict(X))


def test_unsupported_settings_raise_value_errors(estimators, digits):
    from sklearn.neural_network import MLPClassifier as Theirs

    X, y = digits
    for kwargs, message in [  # scikit-learn's parameter check, in its words, for both
        ({"solver": "newton"}, r"The 'solver' parameter of MLPClassifier must be a str among "
                               r".*\. Got 'newton' instead\."),
        ({"solver": "lbfgs", "max_fun": 0}, r"The 'max_fun' parameter of MLPClassifier must be "
                                            r"an int in the range \[1, inf\)\. Got 0 instead\."),
        ({"solver": "sgd", "learning_rate": "optimal"}, r"The 'learning_rate' parameter .* Got "
                                                        r"'optimal' instead\."),
        ({"activation": "swish"}, r"The 'activation' parameter .* Got 'swish' instead\."),
    ]:
        for cls in (estimators.MLPClassifier, Theirs):
            with pytest.raises(ValueError, match=message):
                cls(max_iter=2, **kwargs).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be positive"):
        estimators.MLPClassifier(max_iter=2, hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match=r"The 'activation' parameter .* among .*'leaky_relu'"):
        estimators.MLPClassifier(max_iter=2, activation="swish").fit(X, y)  # mlplab's names too


def test_verbose_prints_scikit_learns_lines(estimators, digits, capsys):
    X, y = digits
    estimators.MLPClassifier((8,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Iteration 1, loss = ")


def test_import_mlplab_does_not_import_scikit_learn():
    code = "import sys, mlplab; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("missing", ["scipy", "sklearn"])
def test_without_the_sklearn_extra_the_import_says_what_to_install(missing):
    code = f"""
import sys

class Missing:  # as if {missing} were not installed
    def find_spec(self, name, path=None, target=None):
        if name == {missing!r} or name.startswith({missing!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, Missing())
import mlplab
from mlplab.sklearn import MLPClassifier
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        f"ModuleNotFoundError: mlplab.sklearn needs scikit-learn and SciPy, and {missing!r} is "
        "not installed: pip install 'mlplab[sklearn]'"
    )
    assert "No module named" not in out.stderr  # one clear error, not the one behind it


def test_starts_as_scikit_learn_does_or_from_an_mlplab_init(estimators, digits):
    X, y = digits
    ours = estimators.MLPClassifier((16,), max_iter=1, learning_rate_init=1e-12, random_state=0,
                                    standardize=False)  # coefs_ are the network's own weights
    ours.fit(X, y)
    assert ours.get_params()["init"] == "sklearn"
    bound = np.sqrt(6 / (64 + 16))
    assert 0 < np.abs(ours.intercepts_[0]).max() <= bound  # biases drawn, as scikit-learn's
    assert np.abs(ours.coefs_[0]).max() <= bound * (1 + 1e-6)
    glorot = estimators.MLPClassifier((16,), max_iter=1, learning_rate_init=1e-12, init="glorot",
                                      random_state=0, standardize=False).fit(X, y)  # fmt: skip
    assert np.abs(glorot.intercepts_[0]).max() < 1e-9  # zero biases, moved by one tiny step
    he = estimators.MLPClassifier((16,), max_iter=1, init="he", random_state=0,
                                  standardize=False).fit(X, y)  # fmt: skip
    assert he.coefs_[0].std() > glorot.coefs_[0].std()  # He: sqrt(2 / 64) against Glorot's


def _forward_by_hand(clf, X):
    """scikit-learn's forward pass from ``coefs_`` and ``intercepts_`` on raw inputs."""
    h = X
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True)):
        z = h @ W + b
        h = np.maximum(z, 0) if i < len(clf.coefs_) - 1 else z
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_standardize_is_the_default_and_coefs_are_on_the_raw_inputs(estimators, digits):
    X, y = digits
    X = X * 40 + 3  # far from scaled: the scaler matters
    clf = estimators.MLPClassifier((16,), max_iter=20, random_state=0).fit(X, y)
    scaler = clf.net_.input_scaler
    assert clf.get_params()["standardize"] is True and scaler is not None
    np.testing.assert_allclose(scaler.mean, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(_forward_by_hand(clf, X), clf.predict_proba(X), rtol=1e-9,
                               atol=1e-12)  # fmt: skip
    assert not np.allclose(clf.coefs_[0], clf.net_.params[0]["W"])  # folded: not the net's own
    np.testing.assert_array_equal(clf.coefs_[1], clf.net_.params[1]["W"])
    raw = estimators.MLPClassifier((16,), max_iter=20, random_state=0, standardize=False)
    raw.fit(X, y)
    assert raw.net_.input_scaler is None and raw.coefs_[0] is raw.net_.params[0]["W"]
    np.testing.assert_allclose(_forward_by_hand(raw, X), raw.predict_proba(X), rtol=1e-9,
                               atol=1e-12)  # fmt: skip
    assert clf.score(X, y) > raw.score(X, y)


def test_the_scaler_survives_pickling_and_warm_starts(estimators, digits):
    X, y = digits
    X = X * 40 + 3
    clf = estimators.MLPClassifier((16,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    scaler = clf.net_.input_scaler
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.net_.input_scaler.scale, scaler.scale)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    clf.fit(X[:300] * 2, y[:300])  # continues with the scaler its weights were learnt with
    assert clf.net_.input_scaler is scaler
    with pytest.raises(ValueError, match=r"The 'standardize' parameter of MLPClassifier must be "
                                         r"an instance of 'bool' .* Got 'yes' instead\."):
        estimators.MLPClassifier(max_iter=1, standardize="yes").fit(X, y)


def test_adaptive_learning_rate_as_scikit_learns(estimators, digits):
    X, y = digits
    clf = estimators.MLPClassifier((16,), solver="sgd", learning_rate="adaptive", tol=10.0,
                                   n_iter_no_change=2, max_iter=200, random_state=0)  # fmt: skip
    clf.fit(X, y)  # nothing improves by 10: the rate falls 0.001 -> <= 1e-6 and training stops
    # 0.001 / 5**5 <= 1e-6: five divisions, 3 stalled epochs each after the first, 3 to stop
    assert clf.n_iter_ == 1 + 3 * 5 + 3
    from sklearn.neural_network import MLPClassifier as Theirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their ConvergenceWarning
        theirs = Theirs((16,), solver="sgd", learning_rate="adaptive", tol=10.0,
                        n_iter_no_change=2, max_iter=200, random_state=0).fit(X, y)  # fmt: skip
    assert theirs.n_iter_ == clf.n_iter_  # the same rule, epoch for epoch
    steady = estimators.MLPClassifier((16,), solver="sgd", learning_rate="adaptive",
                                      learning_rate_init=0.1, max_iter=40, random_state=0)
    assert steady.fit(X, y).n_iter_ == 40 and steady.score(X, y) > 0.9
    assert clf._optimizer_.lr == pytest.approx(theirs._optimizer.learning_rate)


def test_lbfgs_from_the_same_random_state_is_scikit_learns(estimators, digits):
    from sklearn.neural_network import MLPClassifier as Theirs

    X, y = digits
    settings = {"hidden_layer_sizes": (16,), "solver": "lbfgs", "max_iter": 40,
                "random_state": 0, "alpha": 1e-3}  # fmt: skip
    ours = estimators.MLPClassifier(standardize=False, **settings).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # their ConvergenceWarning
        theirs = Theirs(**settings).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_  # the same start, objective and path
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    for mine, their in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                           strict=True):  # fmt: skip
        np.testing.assert_allclose(mine, their, atol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)


def test_lbfgs_reports_its_loss_and_honours_max_fun(estimators, digits):
    X, y = digits
    clf = estimators.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=500,
                                  alpha=0.1, random_state=0)  # fmt: skip
    clf.fit(X, y.astype(float))
    net = clf.net_
    penalty = 0.5 * 0.1 / len(X) * sum(np.sum(p["W"] ** 2) for p in net.params)
    assert clf.loss_ == pytest.approx(net.evaluate(X, y.astype(float)) + penalty, rel=1e-9)
    assert len(clf.loss_curve_) == clf.n_iter_ and clf.loss_curve_[-1] == clf.loss_
    few = estimators.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=500,
                                  max_fun=5, random_state=0)  # fmt: skip
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="EVALUATIONS EXCEEDS LIMIT"):
        few.fit(X, y.astype(float))
    assert few.n_iter_ <= 5  # stopped by evaluations, not iterations


def test_engine_jax_fits_as_engine_numpy():
    require("jax")
    from sklearn.datasets import load_iris

    from mlplab.sklearn import MLPClassifier

    X, y = load_iris(return_X_y=True)
    settings = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0, batch_size=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter ends both fits early
        on_numpy = MLPClassifier(**settings).fit(X, y)
        on_jax = MLPClassifier(engine="jax", **settings).fit(X, y)
    assert on_jax.get_params()["engine"] == "jax" and on_numpy.n_iter_ == on_jax.n_iter_
    np.testing.assert_allclose(on_jax.loss_curve_, on_numpy.loss_curve_, rtol=1e-8)
    np.testing.assert_allclose(on_jax.predict_proba(X), on_numpy.predict_proba(X), atol=1e-8)
    with pytest.raises(ValueError, match="unknown engine 'gpu'"):
        MLPClassifier(engine="gpu", max_iter=1).fit(X, y)
