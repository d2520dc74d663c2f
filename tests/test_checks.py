"""mlplab.checks: the value checks and their one message style."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import ConfigError
from mlplab.checks import (
    fraction,
    integer,
    non_negative_int,
    non_negative_number,
    number_in,
    one_of,
    positive_int,
    positive_number,
)


def test_integers_come_back_as_int_and_numpy_integers_count():
    assert positive_int("epochs", np.int64(3)) == 3 and type(positive_int("n", np.int32(3))) is int
    assert non_negative_int("epochs", 0) == 0
    assert integer("seed", 2**32 - 1, minimum=0, maximum=2**32 - 1) == 2**32 - 1


@pytest.mark.parametrize("value", [0, -1, 1.0, True, "3", None])
def test_positive_int_refuses_with_the_name_and_the_value(value):
    with pytest.raises(ConfigError, match=rf"^patience must be a positive integer, got {value!r}$"):
        positive_int("patience", value)


def test_integer_bounds_and_the_expected_phrase():
    with pytest.raises(ConfigError, match=r"^n must be an integer of at least 2 points, got 1$"):
        integer("n", 1, minimum=2, expected="an integer of at least 2 points")
    with pytest.raises(ConfigError, match="got 4294967296"):
        integer("seed", 2**32, minimum=0, maximum=2**32 - 1)
    with pytest.raises(ConfigError, match="non-negative integer, got -1"):
        non_negative_int("epochs", -1)


def test_numbers_are_finite_and_never_bool():
    assert positive_number("learning rate", np.float32(0.5)) == 0.5
    assert non_negative_number("alpha", 0) == 0.0
    for bad in (0, -1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ConfigError, match=r"^learning rate must be a positive number, got "):
            positive_number("learning rate", bad)
    for bad in (-0.1, float("nan"), float("inf"), False):
        with pytest.raises(ConfigError, match=r"^l2 must be a non-negative number, got "):
            non_negative_number("l2", bad)


def test_fractions_say_which_end_is_open():
    assert fraction("validation share", 0.0) == 0.0
    with pytest.raises(
        ConfigError, match=r"^validation share must be a number in \[0, 1\), got 1$"
    ):
        fraction("validation share", 1)
    assert fraction("noise", 1, include_one=True) == 1.0
    with pytest.raises(ConfigError, match=r"^noise must be a number in \[0, 1\], got 1.5$"):
        fraction("noise", 1.5, include_one=True)
    with pytest.raises(ConfigError, match=r"in \[0.5, 2\)"):
        number_in("beta", 2, 0.5, 2)


def test_one_of_lists_the_names():
    assert one_of("loss", "sum", ["sum", "mean"]) == "sum"
    with pytest.raises(ConfigError, match=r"^unknown loss 'max'; expected one of: sum, mean$"):
        one_of("loss", "max", ["sum", "mean"])
    with pytest.raises(ConfigError, match="unknown loss 3"):
        one_of("loss", 3, ["sum", "mean"])
