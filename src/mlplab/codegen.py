"""``mlplab.codegen.numpy_source``: kept as a path; the code lives in ``mlplab.export``."""

from mlplab.export._numpy import SUPPORTED_ACTIVATIONS, TrainSpec, numpy_source

__all__ = ["SUPPORTED_ACTIVATIONS", "TrainSpec", "numpy_source"]
