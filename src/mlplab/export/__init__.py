"""Export a network to PyTorch, ONNX or a NumPy file, and import one from PyTorch.

=========  ===================================================================  ===========
format     what is written                                                      needs
=========  ===================================================================  ===========
torch      safetensors with ``nn.Sequential`` names and layouts                 nothing
           (``{2i}.weight`` is ``W.T``, ``(out, in)``; ``{2i}.bias``), plus
           ``torch_snippet`` printing the code that builds and loads it
onnx       an ONNX graph (input ``input``, output ``output``, a dynamic batch)  ``onnx``
numpy      one NumPy-only Python file with the weights and ``predict(X)``       nothing
=========  ===================================================================  ===========

In Python, ``to_torch(net)`` returns the ``torch.nn.Sequential`` itself and
``from_torch(sequential)`` (also ``MLP.from_torch``) goes back. Torch and onnx
are imported only inside the functions that need them.

A network with an input scaler (``net.input_scaler``) is exported with the scaler
folded into its first layer (``W / scale[:, None]``, ``b - (mean / scale) @ W``; a
bias-free first layer gains a bias), so every format takes raw inputs, as
``net.predict`` does.

``dtype="float32"`` or ``"float64"`` (``EXPORT_DTYPES``; ``mlplab export --dtype``)
writes the torch and onnx files in that precision whatever the network's own;
most ONNX runtimes and devices want float32.

Supported activations: ``SUPPORTED_ACTIVATIONS`` (every built-in one). Refused
with ``ConfigError``: user-registered activations (their formula is Python code
mlplab cannot translate) and stacks of networks (export one network at a time).
"""

from __future__ import annotations

from mlplab.export._common import EXPORT_DTYPES, SUPPORTED_ACTIVATIONS
from mlplab.export._numpy import write_numpy
from mlplab.export._onnx import to_onnx
from mlplab.export._torch import from_torch, to_torch, torch_snippet, write_torch

__all__ = [
    "EXPORT_DTYPES",
    "FORMATS",
    "SUPPORTED_ACTIVATIONS",
    "from_torch",
    "to_onnx",
    "to_torch",
    "torch_snippet",
    "write_numpy",
    "write_torch",
]

FORMATS = ("torch", "onnx", "numpy")
