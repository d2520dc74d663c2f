"""Files: model files, checkpoints, run records and data files (CSV, NPZ, DataFrames).

Every reader validates what it reads and fails with a ``ModelFileError`` or ``DataError``
naming the file; every writer writes a temporary file and renames it, so a file that was
there is never left half-written. No pickle anywhere.
"""

from mlplab.io.checkpoints import Checkpoint, CheckpointCallback, load_checkpoint, save_checkpoint
from mlplab.io.datafiles import Table, read_table
from mlplab.io.models import load, save
from mlplab.io.records import compare, load_record, make_record, write_record

__all__ = ["Checkpoint", "CheckpointCallback", "Table", "compare", "load", "load_checkpoint",
           "load_record", "make_record", "read_table", "save", "save_checkpoint",
           "write_record"]  # fmt: skip
