"""Each optional peer missing: the error names the extra that brings it, in one line."""

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
for name in sys.argv[2:]:
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
import numpy as np
from mlplab import MLP
from mlplab.cli import main
from mlplab.errors import ConfigError

said = {}

def library(label, call):
    try:
        call()
        said[label] = "no error"
    except ConfigError as e:
        said[label] = str(e)

def command(label, *args):
    import contextlib, io
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(args))
    said[label] = f"{code} {err.getvalue().strip()}"

net = MLP([2, 1])
X, t = np.zeros((4, 2)), np.zeros(4)
model = sys.argv[1] + "/m.st"
net.save(model)
from mlplab import plot
library("plot.figure", plot.figure)
library("plot.network", lambda: plot.network(net))
library("History.plot", lambda: net.fit(X, t, epochs=2).plot())
library("engine jax", lambda: net.fit(X, t, epochs=2, engine="jax"))
command("train --plot", "train", "--epochs", "1", "--plot", sys.argv[1] + "/l.png")
command("sweep --workers", "sweep", "--by-cell", "--epochs", "1", "--nets", "2", "--lr", "1,2",
        "--workers", "2")
command("--dask", "ensemble", "--nets", "2", "--epochs", "1", "--dask", "tcp://127.0.0.1:9")
command("export onnx", "export", model, "--format", "onnx", "--out", sys.argv[1] + "/m.onnx")
print(json.dumps(said))
"""

MISSING = ["matplotlib", "joblib", "distributed", "onnx", "jax"]


def test_every_missing_peer_names_its_extra(tmp_path):
    run = [sys.executable, "-c", SCRIPT, str(tmp_path), *MISSING]
    result = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    said = json.loads(result.stdout.splitlines()[-1])
    expected = {
        "plot.figure": "pip install 'mlplab[plot]'",
        "plot.network": "pip install 'mlplab[plot]'",
        "History.plot": "pip install 'mlplab[plot]'",
        "engine jax": "pip install 'mlplab[jax]'",
        "train --plot": "pip install 'mlplab[plot]'",
        "sweep --workers": "pip install 'mlplab[experiments]'",
        "--dask": "pip install 'mlplab[experiments]'",
        "export onnx": "pip install 'mlplab[export]'",
    }
    for label, extra in expected.items():
        assert extra in said[label], (label, said[label])
    for label in ("train --plot", "sweep --workers", "--dask", "export onnx"):
        code, _, message = said[label].partition(" ")
        assert code == "1" and message.startswith("mlplab: error: ")
        assert "\n" not in message and "Traceback" not in message
