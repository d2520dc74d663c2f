"""``mlplab export MODEL --format torch|onnx|numpy --out PATH [--dtype float32|float64]``."""

from __future__ import annotations

import keyword
from pathlib import Path

import click
import numpy as np

from mlplab.cli.outputs import check_outputs
from mlplab.errors import ConfigError
from mlplab.export import (
    EXPORT_DTYPES,
    FORMATS,
    to_onnx,
    torch_snippet,
    write_numpy,
    write_torch,
)
from mlplab.nn.network import MLP

__all__ = ["export"]


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    required=True,
    help="torch: safetensors for nn.Sequential; onnx: an ONNX graph; numpy: a .py file.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), required=True, metavar="PATH", help="File to write."
)
@click.option(
    "--dtype",
    type=click.Choice(EXPORT_DTYPES),
    default=None,
    help="Weights, inputs and outputs of the torch or onnx file (default: the model's own; "
    "most ONNX runtimes and devices want float32).",
)
def export(model: str, fmt: str, out: str, dtype: str | None) -> None:
    """Write a saved model as a PyTorch state dict, an ONNX graph or a NumPy program."""
    check_outputs({"--out": out}, inputs={"model": model})
    net = MLP.load(model)
    if fmt == "torch":
        write_torch(net, out, dtype=dtype)
        click.echo(f"# {out} holds the weights of this PyTorch model; build and load it with:")
        click.echo(torch_snippet(net, out, dtype=dtype), nl=False)
    elif fmt == "onnx":
        to_onnx(net, out, dtype=dtype)
        kind = dtype or np.dtype(net.dtype).name
        click.echo(
            f"wrote {out}: ONNX {kind}, input 'input' (batch, {net.sizes[0]}), output 'output'"
        )
    else:
        if dtype is not None:
            raise ConfigError("--dtype applies to --format torch and onnx only")
        write_numpy(net, out)
        click.echo(f"wrote {out}: NumPy only; {_how_to_import(out)}")


def _how_to_import(out: str) -> str:
    """How to get ``predict`` from the written file: an import if its name is a module name."""
    stem = Path(out).stem
    if stem.isidentifier() and not keyword.iskeyword(stem) and Path(out).suffix == ".py":
        return f"`from {stem} import predict`"
    return (
        f"{Path(out).name!r} is not an importable module name; use "
        f"`runpy.run_path({out!r})[\"predict\"]`"
    )
