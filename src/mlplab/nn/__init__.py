"""The seed's math, NumPy only: activations, losses, initialisation, input scaling and the network.

Nothing here imports anything of mlplab's but ``mlplab.errors``; everything else builds on it.
"""

from mlplab.nn.activations import ACTIVATIONS, Activation, register_activation
from mlplab.nn.init import INITS
from mlplab.nn.losses import LOSSES
from mlplab.nn.network import MLP, Dense
from mlplab.nn.scaling import InputScaler

__all__ = ["ACTIVATIONS", "INITS", "LOSSES", "MLP", "Activation", "Dense", "InputScaler",
           "register_activation"]  # fmt: skip
