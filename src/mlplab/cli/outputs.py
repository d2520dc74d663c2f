"""The files a command will write, checked before it does any work.

``check_outputs`` refuses, in one line and before training: a folder that does not exist
or cannot take a new file, a path that is a directory, a plot whose extension matplotlib
cannot write, two options writing the same file, and an output that would overwrite one
of the command's inputs (its data, model or checkpoint).
"""

from __future__ import annotations

import os
from pathlib import Path

from mlplab.errors import ConfigError
from mlplab.io.files import check_output_path

__all__ = ["check_outputs", "plot_formats"]


def plot_formats() -> list[str]:
    """The file extensions matplotlib can write (png, pdf, svg, ...)."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise ConfigError("--plot needs matplotlib: pip install 'mlplab[plot]'") from None

    return sorted(FigureCanvasBase.get_supported_filetypes())


def _check_plot(option: str, path: str) -> None:
    suffix = Path(path).suffix.lower().lstrip(".")
    formats = plot_formats()
    if suffix not in formats:
        found = f"extension .{suffix}" if suffix else "no extension"
        raise ConfigError(
            f"{option} {path}: {found}; expected a picture: {', '.join('.' + f for f in formats)}"
        )


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_outputs(
    files: dict[str, str | None],
    plots: dict[str, str | None] | None = None,
    inputs: dict[str, str | None] | None = None,
) -> None:
    """Refuse outputs that could not be written (see the module); options name each path."""
    plots = plots or {}
    written = {option: path for option, path in {**files, **plots}.items() if path is not None}
    for option, path in plots.items():
        if path is not None:
            _check_plot(option, path)
    for option, path in written.items():
        check_output_path(path, ConfigError, option)
    options = list(written)
    for i, first in enumerate(options):
        for second in options[i + 1 :]:
            if _same(written[first], written[second]):
                raise ConfigError(f"{first} and {second} both write {written[first]}; give each "
                                  "its own file")
    for option, path in written.items():
        for source, given in (inputs or {}).items():
            if given and _same(path, given):
                raise ConfigError(
                    f"{option} {path} would overwrite the {source} it reads; write elsewhere"
                )
