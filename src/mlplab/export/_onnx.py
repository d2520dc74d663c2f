"""ONNX: one ``Gemm`` (or ``MatMul`` without bias) and one activation node per layer.

The graph's input is ``input`` ``(batch, n_in)`` and its output ``output``
``(batch, n_out)``, in the network's dtype. Weights are stored ``(fan_in,
fan_out)`` as in mlplab, so no transpose is needed; an input scaler is folded into
the first layer. Softplus is written as
``relu(z) + log(1 + exp(-|z|))``, finite for any ``z`` and available in float64
on every runtime (onnxruntime has no float64 ``Softplus`` kernel).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.export._common import EXPORTABLE, check_exportable, layer_activations
from mlplab.nn.scaling import folded_params

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

OPSET = 17
IR_VERSION = 8  # readable by onnxruntime 1.14 and later


def to_onnx(net: MLP, path: str | Path) -> None:
    """Write ``net`` as an ONNX model to ``path`` (atomically), checked by ``onnx.checker``."""
    check_exportable(net, "onnx")
    try:
        import onnx
    except ImportError:
        raise ConfigError("onnx is not installed; pip install 'mlplab[export]'") from None
    from mlplab.io.models import atomic_write_bytes

    model = build_model(net, onnx)
    onnx.checker.check_model(model, full_check=True)
    atomic_write_bytes(path, model.SerializeToString())


def build_model(net: MLP, onnx: Any) -> Any:
    """The ``onnx.ModelProto`` of ``net``."""
    from onnx import helper, numpy_helper

    dtype = np.dtype(net.dtype)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    nodes: list[Any] = []
    inits = []
    x = "input"
    acts = layer_activations(net)
    for i, (param, act) in enumerate(zip(folded_params(net), acts, strict=True)):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(param["W"]), f"W{i}"))
        z = f"z{i}"
        if "b" in param:
            inits.append(numpy_helper.from_array(np.ascontiguousarray(param["b"]), f"b{i}"))
            nodes.append(helper.make_node("Gemm", [x, f"W{i}", f"b{i}"], [z], name=f"dense{i}"))
        else:
            nodes.append(helper.make_node("MatMul", [x, f"W{i}"], [z], name=f"dense{i}"))
        x = "output" if i == len(acts) - 1 else f"h{i}"
        nodes += _activation_nodes(act, z, x, f"act{i}", dtype)
    graph = helper.make_graph(
        nodes,
        "mlplab",
        [helper.make_tensor_value_info("input", elem, ["batch", net.sizes[0]])],
        [helper.make_tensor_value_info("output", elem, ["batch", net.sizes[-1]])],
        inits,
    )
    model = helper.make_model(
        graph, producer_name="mlplab", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    model.ir_version = IR_VERSION
    return model


def _activation_nodes(act: str, z: str, h: str, name: str, dtype: np.dtype) -> list[Any]:
    from onnx import helper, numpy_helper

    forms = EXPORTABLE.get(act)
    op = None if forms is None else forms.onnx
    if op is not None:
        kind, attributes = op
        return [helper.make_node(kind, [z], [h], name=name, **attributes)]
    if act == "softplus":  # relu(z) + log(1 + exp(-|z|)), finite for any z
        one = numpy_helper.from_array(np.ones((), dtype))
        nodes = [helper.make_node("Constant", [], [f"{name}_one"], name=f"{name}_one", value=one)]
        for kind, inputs, output in [
            ("Abs", [z], "abs"),
            ("Neg", [f"{name}_abs"], "neg"),
            ("Exp", [f"{name}_neg"], "exp"),
            ("Add", [f"{name}_exp", f"{name}_one"], "add"),
            ("Log", [f"{name}_add"], "log"),
            ("Relu", [z], "relu"),
        ]:
            nodes.append(
                helper.make_node(kind, inputs, [f"{name}_{output}"], name=f"{name}_{output}")
            )
        nodes.append(helper.make_node("Add", [f"{name}_relu", f"{name}_log"], [h], name=name))
        return nodes
    raise ConfigError(f"no ONNX operator for activation {act!r}")  # check_exportable stops this
