"""mlplab: multi-layer perceptrons in readable, fast NumPy, grown from the 11-line XOR network."""

from mlplab.activations import ACTIVATIONS, Activation, register_activation
from mlplab.datasets import DATASETS, load_dataset
from mlplab.errors import (
    ConfigError,
    DataError,
    MlplabError,
    ModelFileError,
    TrainingDivergedError,
)
from mlplab.gradcheck import GradcheckReport, gradcheck
from mlplab.init import INITS
from mlplab.losses import LOSSES
from mlplab.network import MLP
from mlplab.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Optimizer
from mlplab.schedules import SCHEDULES
from mlplab.stopping import EarlyStopping
from mlplab.training import History

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "INITS",
    "LOSSES",
    "MLP",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Activation",
    "Adam",
    "ConfigError",
    "DataError",
    "EarlyStopping",
    "GradcheckReport",
    "History",
    "MlplabError",
    "ModelFileError",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "TrainingDivergedError",
    "__version__",
    "gradcheck",
    "load_dataset",
    "register_activation",
]
