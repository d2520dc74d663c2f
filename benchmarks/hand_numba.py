"""The benchmarks' numba kernels, at module level so that numba's on-disk cache finds them again.

(Defined inside a function, a kernel that calls another is compiled afresh in every process:
numba's cache misses on it.) Importing this module needs numba; ``peers.numba_kernels`` and
``layout.lanes_numba_kernel`` import it only when numba is installed.
"""

from __future__ import annotations

import numba
import numpy as np

# ---- peers.py: one network per prange step -------------------------------------------------


@numba.njit(cache=True)
def train_one(W1, W2, X, t, epochs, one):
    h = np.empty((4, 4), W1.dtype)
    hd = np.empty((4, 4), W1.dtype)
    yd = np.empty(4, W1.dtype)
    for _ in range(epochs):
        for n in range(4):
            s2 = one - one
            for j in range(4):
                s = one - one
                for i in range(3):
                    s += X[n, i] * W1[i, j]
                h[n, j] = one / (one + np.exp(-s))
                s2 += h[n, j] * W2[j, 0]
            y = one / (one + np.exp(-s2))
            yd[n] = (t[n, 0] - y) * (y * (one - y))
            for j in range(4):
                hd[n, j] = yd[n] * W2[j, 0] * (h[n, j] * (one - h[n, j]))
        for j in range(4):
            s = one - one
            for n in range(4):
                s += h[n, j] * yd[n]
            W2[j, 0] += s
        for i in range(3):
            for j in range(4):
                s = one - one
                for n in range(4):
                    s += X[n, i] * hd[n, j]
                W1[i, j] += s

@numba.njit(parallel=True, cache=True)
def train_stack(W1, W2, X, t, epochs, one):
    for k in numba.prange(W1.shape[0]):
        train_one(W1[k], W2[k], X, t, epochs, one)

@numba.njit(cache=True)
def train_serial(W1, W2, X, t, epochs, one):
    for k in range(W1.shape[0]):
        train_one(W1[k], W2[k], X, t, epochs, one)


# ---- layout.py: the last-axis layout, in chunks of networks --------------------------------


@numba.njit(cache=True, fastmath=True)
def train_chunk(W1, W2, X, t, epochs, one):
    K = W1.shape[2]
    h = np.empty((4, 4, K), W1.dtype)
    hd = np.empty((4, 4, K), W1.dtype)
    yd = np.empty((4, K), W1.dtype)
    for _ in range(epochs):
        for n in range(4):
            for j in range(4):
                for k in range(K):
                    z = X[n, 0] * W1[0, j, k] + X[n, 1] * W1[1, j, k] + X[n, 2] * W1[2, j, k]
                    h[n, j, k] = one / (one + np.exp(-z))
            for k in range(K):
                z = h[n, 0, k] * W2[0, k] + h[n, 1, k] * W2[1, k]
                z += h[n, 2, k] * W2[2, k] + h[n, 3, k] * W2[3, k]
                y = one / (one + np.exp(-z))
                yd[n, k] = (t[n, 0] - y) * (y * (one - y))
            for j in range(4):
                for k in range(K):
                    hd[n, j, k] = yd[n, k] * W2[j, k] * (h[n, j, k] * (one - h[n, j, k]))
        for j in range(4):
            for k in range(K):
                W2[j, k] += h[0, j, k] * yd[0, k] + h[1, j, k] * yd[1, k] + (
                    h[2, j, k] * yd[2, k] + h[3, j, k] * yd[3, k])
        for i in range(3):
            for j in range(4):
                for k in range(K):
                    W1[i, j, k] += X[0, i] * hd[0, j, k] + X[1, i] * hd[1, j, k] + (
                        X[2, i] * hd[2, j, k] + X[3, i] * hd[3, j, k])

@numba.njit(parallel=True, cache=True)
def train_lanes(W1, W2, X, t, epochs, one, chunk):
    K = W1.shape[2]
    for c in numba.prange((K + chunk - 1) // chunk):
        lo, hi = c * chunk, min(K, (c + 1) * chunk)
        w1, w2 = W1[:, :, lo:hi].copy(), W2[:, lo:hi].copy()
        train_chunk(w1, w2, X, t, epochs, one)
        W1[:, :, lo:hi] = w1
        W2[:, lo:hi] = w2
