"""The seed's 11 lines, verbatim apart from being wrapped in a function (the reference)."""

import itertools

import numpy as np


def seed_run(seed: int, epochs: int = 60000):
    """Run the seed after ``np.random.seed(seed)``; return W1, W2 and ``predict``'s outputs."""
    np.random.seed(seed)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    t = np.array([[0, 1, 1, 0]]).T
    W1 = 2 * np.random.random((3, 4)) - 1
    W2 = 2 * np.random.random((4, 1)) - 1
    for j in range(epochs):  # noqa: B007 (the seed, verbatim)
        h = 1 / (1 + np.exp(-(np.dot(X, W1))))
        y = 1 / (1 + np.exp(-(np.dot(h, W2))))
        y_delta = (t - y) * (y * (1 - y))
        h_delta = np.dot(y_delta, W2.T) * (h * (1 - h))
        W2 += np.dot(h.T, y_delta)
        W1 += np.dot(X.T, h_delta)

    def predict(x):
        z1 = np.dot(x, W1)
        h = 1 / (1 + np.exp(-(z1)))
        z2 = np.dot(h, W2)
        y = 1 / (1 + np.exp(-(z2)))
        return y

    return W1, W2, np.array([predict(x) for x in X])


def seed_step(seed: int = 0, epoch: int = 0, hidden=(4,), activation: str = "sigmoid"):
    """The seed's loop changed by hand as its exercises say (more hidden units, another
    hidden layer, tanh in the hidden layers), stepped ``epoch`` times; then the arrays of
    the next step: ``h`` (``h1``, ``h2``, ... for several hidden layers), ``y``, ``y_delta``,
    each hidden delta, every weight before and after (``"W1 (after)"``) and the increments
    ``np.dot(h.T, y_delta)`` under the seed's own names."""
    np.random.seed(seed)
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    t = np.array([[0, 1, 1, 0]]).T
    sizes = [3, *hidden, 1]
    W = [2 * np.random.random(shape) - 1 for shape in itertools.pairwise(sizes)]
    names = ["h"] if len(hidden) == 1 else [f"h{i + 1}" for i in range(len(hidden))]

    def act(z):
        return np.tanh(z) if activation == "tanh" else 1 / (1 + np.exp(-z))

    def slope(h):
        return (1 - h**2) if activation == "tanh" else (h * (1 - h))

    for _ in range(epoch + 1):
        before = [w.copy() for w in W]
        hs = [X]
        for w in W[:-1]:
            hs.append(act(np.dot(hs[-1], w)))
        y = 1 / (1 + np.exp(-(np.dot(hs[-1], W[-1]))))
        deltas = [(t - y) * (y * (1 - y))]
        for k in range(len(W) - 1, 0, -1):
            deltas.insert(0, np.dot(deltas[0], W[k].T) * slope(hs[k]))
        steps = [np.dot(h.T, d) for h, d in zip(hs, deltas, strict=True)]
        for k in range(len(W) - 1, -1, -1):
            W[k] += steps[k]
    arrays = {"X": X, "t": t, "y": y, "y_delta": deltas[-1]}
    out_names = ["X", *names]
    delta_names = [f"{n}_delta" for n in names] + ["y_delta"]
    for k, name in enumerate(names):
        arrays[name] = hs[k + 1]
        arrays[delta_names[k]] = deltas[k]
    for k in range(len(W)):
        arrays[f"W{k + 1}"] = before[k]
        arrays[f"W{k + 1} (after)"] = W[k]
        arrays[f"np.dot({out_names[k]}.T, {delta_names[k]})"] = steps[k]
    return arrays
