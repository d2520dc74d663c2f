"""``mlplab sweep``: the grid, its table, CSV and heatmap, joblib and Dask runs, bad input."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import require

from mlplab.cli import COMMANDS, main
from mlplab.experiments.sweeps import CSV_COLUMNS

GRID = ["sweep", "--hidden", "2,4", "--activation", "sigmoid,tanh", "--epochs", "400"]
GRID += ["--nets", "16", "--json", "-q"]


def _run(capsys, args):
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)["cells"]


def _without_time(cells):
    return [{k: v for k, v in c.items() if k != "seconds"} for c in cells]


def test_sweep_is_registered():
    assert COMMANDS["sweep"] == "mlplab.cli.sweep:sweep"


def test_every_combination_is_a_cell_matching_its_own_ensemble(capsys):
    cells = _run(capsys, [*GRID, "--workers", "1"])
    assert [(c["hidden"], c["activation"]) for c in cells] == [
        ([2], "sigmoid"),
        ([2], "tanh"),
        ([4], "sigmoid"),
        ([4], "tanh"),
    ]
    for c in cells:
        assert c["nets"] == 16 and c["epochs"] == 400 and c["lr"] == 1.0 and c["init"] == "seed"
        for key in ("solved_fraction", "epochs_to_solve", "final_loss"):
            assert key in c
    args = ["ensemble", "--hidden", "2", "--activation", "tanh", "--epochs", "400"]
    assert main([*args, "--nets", "16", "--json", "-q"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert cells[1]["solved_fraction"] == alone["solved_fraction"]
    assert cells[1]["final_loss"] == alone["final_loss"]


def test_worker_processes_give_the_same_table(capsys):
    one = _run(capsys, [*GRID, "--by-cell", "--workers", "1"])
    two = _run(capsys, [*GRID, "--by-cell", "--workers", "2"])
    assert _without_time(one) == _without_time(two)


def test_dask_cluster_gives_the_same_table_as_the_local_run(capsys):
    require("distributed")
    from distributed import LocalCluster

    local = _run(capsys, [*GRID, "--workers", "1"])
    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=":0"
    ) as cluster:
        remote = _run(capsys, [*GRID, "--dask", cluster.scheduler_address])
    assert _without_time(remote) == _without_time(local)


def test_csv_and_heatmap_files(tmp_path, capsys):
    out, plot = tmp_path / "results.csv", tmp_path / "map.png"
    args = ["sweep", "--hidden", "1,3x3", "--lr", "0.5,1", "--epochs", "100", "--nets", "8"]
    assert main([*args, "--workers", "1", "--out", str(out), "--plot", str(plot), "-q"]) == 0
    text = capsys.readouterr().out
    assert "solved" in text and "table written" in text
    lines = list(csv.reader(out.read_text().splitlines()))
    assert lines[0] == CSV_COLUMNS and {len(line) for line in lines} == {len(CSV_COLUMNS)}
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert all(float(r["compile_seconds"]) >= 0 for r in rows)
    assert [(r["hidden"], r["lr"]) for r in rows] == [
        ("1", "0.5"),
        ("1", "1.0"),
        ("3x3", "0.5"),
        ("3x3", "1.0"),
    ]
    assert all(0 <= float(r["solved_fraction"]) <= 1 for r in rows)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", ""], "--hidden: empty list"),
        (["--lr", "1,,2"], "--lr: empty item"),
        (["--lr", "fast"], "--lr: bad value 'fast'"),
        (["--activation", "sigmoid,swish"], "unknown hidden activation 'swish'"),
        (["--init", "zeros"], "unknown init 'zeros'"),
        (["--nets", "0"], "--nets: bad value '0'"),
        (["--plot-axes", "hidden"], "--plot-axes"),
        (["--nets", "1000000", "--max-memory", "0.001"], "networks needs about"),
        (["--dask", "127.0.0.1:8786"], "expected a scheduler address like tcp://"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(capsys, args, message):
    assert main(["sweep", "--epochs", "1", "--nets", "8", "-q", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: ") and err.count("\n") == 1
    assert message in err


def test_an_unreachable_scheduler_is_one_line(capsys):
    require("distributed")
    args = ["sweep", "--epochs", "1", "--nets", "8", "-q", "--dask", "tcp://127.0.0.1:9"]
    assert main([*args, "--dask-timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert err.count("\n") == 1






def test_data_and_optimizer_options_reach_every_cell(capsys):
    """A sweep over a noisy 2-D set with mini-batches: each cell is its own ensemble."""
    common = ["--dataset", "circle", "--points", "50", "--noise", "0.1", "--init", "glorot"]
    common += ["--batch-size", "10", "--optimizer", "momentum", "--epochs", "30"]
    cells = _run(capsys, ["sweep", *common, "--hidden", "3,6", "--lr", "0.05", "--nets", "8",
                          "--json", "-q", "--workers", "1"])  # fmt: skip
    assert [c["hidden"] for c in cells] == [[3], [6]]
    assert main(["ensemble", *common, "--hidden", "6", "--lr", "0.05", "--nets", "8", "--json",
                 "-q"]) == 0  # fmt: skip
    alone = json.loads(capsys.readouterr().out)
    assert cells[1]["final_loss"] == alone["final_loss"]
    assert alone["config"]["optimizer"] == "momentum" and alone["config"]["batch_size"] == 10
