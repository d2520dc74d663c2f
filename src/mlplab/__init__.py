"""mlplab: multi-layer perceptrons in readable, fast NumPy, grown from the 11-line XOR network."""

from mlplab.datasets import DATASETS, load_dataset
from mlplab.errors import (
    ConfigError,
    DataError,
    MlplabError,
    ModelFileError,
    TrainingDivergedError,
)
from mlplab.gradcheck import GradcheckReport, gradcheck
from mlplab.nn.activations import ACTIVATIONS, Activation, register_activation
from mlplab.nn.init import INITS
from mlplab.nn.losses import LOSSES
from mlplab.nn.network import MLP
from mlplab.train.history import History
from mlplab.train.optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Optimizer
from mlplab.train.schedules import SCHEDULES
from mlplab.train.stopping import EarlyStopping

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
