"""The seed's 11 lines, verbatim apart from being wrapped in a function (the reference)."""

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
