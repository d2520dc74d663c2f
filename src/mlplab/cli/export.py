"""``mlplab export MODEL --format torch|onnx|numpy --out PATH``: a saved model, elsewhere."""

from __future__ import annotations

from pathlib import Path

import click

from mlplab.export import FORMATS, to_onnx, torch_snippet, write_numpy, write_torch
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
def export(model: str, fmt: str, out: str) -> None:
    """Write a saved model as a PyTorch state dict, an ONNX graph or a NumPy program."""
    net = MLP.load(model)
    if fmt == "torch":
        write_torch(net, out)
        click.echo(f"# {out} holds the weights of this PyTorch model; build and load it with:")
        click.echo(torch_snippet(net, out), nl=False)
    elif fmt == "onnx":
        to_onnx(net, out)
        click.echo(f"wrote {out}: ONNX, input 'input' (batch, {net.sizes[0]}), output 'output'")
    else:
        write_numpy(net, out)
        click.echo(f"wrote {out}: NumPy only; `from {Path(out).stem} import predict`")
