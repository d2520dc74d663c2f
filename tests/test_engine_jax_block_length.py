"""The compiled engine's block lengths: equal blocks dividing the run, whole groups of epochs."""

from conftest import require


def test_blocks_divide_the_run_in_whole_groups_of_epochs_where_they_can() -> None:
    require("jax")
    from mlplab.engines.jax import EPOCH_GROUP, _even_block

    assert _even_block(5000, 4194, EPOCH_GROUP) == 1000  # 5 blocks of 1000, not 2 of 2500
    assert _even_block(5000, 4194) == 2500  # any length: the fewest equal blocks
    assert _even_block(60000, 1024, EPOCH_GROUP) == 1000
    assert _even_block(7, 3, EPOCH_GROUP) == 3  # none divides 7 near: at most 3 a block
    for remaining, most in [(5000, 4194), (60000, 1024), (4096, 1000), (999, 100)]:
        length = _even_block(remaining, most, EPOCH_GROUP)
        assert length <= most
