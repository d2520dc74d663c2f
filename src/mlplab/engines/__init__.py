"""Where an epoch of training runs. ``numpy``: the readable reference, bit-exact with the seed."""
