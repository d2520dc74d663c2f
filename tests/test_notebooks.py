"""The notebooks in examples/: stored without outputs, and each runs top to bottom.

Execution uses a kernel of this interpreter (so the installed mlplab), in an empty
temporary working directory that must still be empty afterwards: a notebook writes
no files. Each notebook checks its own claims with ``assert`` cells.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from conftest import require

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
TIMEOUT = 120  # seconds per cell; each notebook takes well under a minute


def test_the_notebooks_are_there():
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01-eleven-lines.ipynb",
        "02-how-often-does-xor-train.ipynb",
        "03-digits.ipynb",
        "04-backprop-by-hand.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path):
    """nbstripout's rule: no outputs, no execution counts, no per-run metadata."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {i} of {path.name} has stored outputs"
            assert cell["execution_count"] is None, f"cell {i} of {path.name} has a count"
        assert set(cell["metadata"]) <= {"tags"}, f"cell {i} of {path.name} has run metadata"


KERNEL = "mlplab-tests"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, monkeypatch_module):
    """A kernel spec running this interpreter, found before any other on the machine."""
    require("ipykernel")
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": KERNEL, "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json), encoding="utf-8")
    monkeypatch_module.setenv("JUPYTER_PATH", str(root))
    return KERNEL


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path: Path, tmp_path: Path, kernel: str):
    nbformat = require("nbformat")
    nbclient = require("nbclient")

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    client = nbclient.NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name=kernel,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
    images = sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert images >= 2, "the notebook's figures should show inline"
    assert list(tmp_path.iterdir()) == [], "a notebook wrote files"
    assert notebook.cells[-1].outputs[0].text.strip() == sys.executable  # the kernel was ours
    print(f"{path.name}: {seconds:.1f} s with {sys.executable}")


def test_progress_bar_is_a_widget_in_a_notebook(tmp_path: Path, kernel: str):
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    require("ipywidgets")

    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(
        "from mlplab import MLP, load_dataset\n"
        "from mlplab.progress import ProgressBar\n"
        "X, t = load_dataset('xor')\n"
        "MLP([3, 4, 1], seed=0).fit(X, t, epochs=500, callbacks=[ProgressBar(500)])"
    ))  # fmt: skip
    nbclient.NotebookClient(
        notebook, timeout=TIMEOUT, kernel_name=kernel,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()  # fmt: skip
    outputs = notebook.cells[0].outputs
    widget = "application/vnd.jupyter.widget-view+json"
    widgets = [o for o in outputs if widget in o.get("data", {})]
    assert widgets, f"expected a widget bar in Jupyter, got {outputs}"
