"""A stack's initial weights drawn at once (``init_stack``) are each network's drawn alone."""

import numpy as np
import pytest

from mlplab import MLP
from mlplab.errors import ConfigError
from mlplab.nn.init import init_stack, init_weights, scaled

WIDTHS = np.array([2, 4, 3, 8, 8, 1, 2, 5])
SCALES = np.linspace(0.5, 2.0, len(WIDTHS))


@pytest.mark.parametrize("init", ["seed", "uniform", "glorot", "he"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("per_network", [False, True])
def test_each_network_is_its_own_draw_bit_for_bit(init, dtype, per_network):
    K = len(WIDTHS)
    widths, scales = (WIDTHS, SCALES) if per_network else (None, 1.5)
    stack = init_stack(init, [(3, 8), (8, 2)], 7 + np.arange(K), np.dtype(dtype), scales,
                       None if widths is None else widths[:, None])  # fmt: skip
    for i in range(K):
        width = 8 if widths is None else int(widths[i])
        scale = scales[i] if per_network else scales
        alone = scaled(init_weights(init, [(3, width), (width, 2)], 7 + i, np.dtype(dtype)), scale)
        for full, own in zip(stack, alone, strict=True):
            assert full.dtype == own.dtype
            assert np.array_equal(full[i, : own.shape[0], : own.shape[1]], own)
            assert not full[i, own.shape[0] :].any() and not full[i, :, own.shape[1] :].any()


def test_a_stack_starts_as_its_networks_alone():
    net = MLP([3, 8, 1], init="seed", seed=11, stack=len(WIDTHS), widths=WIDTHS,
              init_scale=SCALES)  # fmt: skip
    for i, width in enumerate(WIDTHS.tolist()):
        alone = MLP([3, width, 1], init="seed", seed=11 + i, init_scale=SCALES[i])
        W1 = np.asarray(net.params[0]["W"])
        W1 = W1[i] if W1.shape[0] == len(WIDTHS) else W1[..., i]
        assert np.array_equal(W1[:, :width], alone.params[0]["W"])


def test_a_seed_out_of_range_is_refused():
    with pytest.raises(ConfigError, match="seed"):
        init_stack("seed", [(2, 2)], np.array([2**32]), np.dtype(np.float64))
