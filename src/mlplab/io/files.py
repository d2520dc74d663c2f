"""The one place mlplab opens, reads and writes files.

Reading: ``open_regular`` refuses anything that is not a regular file (a FIFO would block,
``/dev/zero`` never ends, a directory is not data) without blocking on it; ``read_bytes``
reads at most a stated number of bytes; ``read_exact`` reads exactly what a header declared.
``parse_json`` parses JSON with bounded integers. Writing: ``atomic_write_bytes`` writes a
locked temporary file ``.NAME.XXXXXXXX.tmp`` in the target's folder and renames it over the
target, so the previous file stays intact whatever happens; write errors (no space, file size
limit, read-only file system, missing folder) become one ``MlplabError`` line, and temporaries
left by a killed write are removed by the next write. ``check_output_path`` tells before any
work whether a path can be written. Every failure is raised as the caller's error class
(``ModelFileError``, ``DataError``, ``ConfigError``) with the path first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mlplab.errors import ConfigError, MlplabError

__all__ = [
    "MAX_INT_DIGITS",
    "atomic_write_bytes",
    "check_output_path",
    "check_writable_target",
    "hold_lock",
    "open_regular",
    "parse_json",
    "read_bytes",
    "read_exact",
    "remove_stale_temporaries",
]

MAX_INT_DIGITS = 100  # no integer mlplab writes has more digits (a 128-bit RNG state has 39)
STALE_AFTER = 5.0  # seconds: an unlocked temporary older than this belongs to a dead writer
_TMP_SUFFIX = ".tmp"
_TMP_RANDOM = 8  # the random part tempfile.mkstemp puts in a name

ErrorClass = type[MlplabError]


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def open_regular(path: str | Path, error: ErrorClass, what: str = "file") -> IO[bytes]:
    """``path`` opened for binary reading if it is a regular file; ``error`` otherwise.

    Opened non-blocking, so a FIFO is refused at once instead of waiting for a writer.
    """
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(f"{source}: no such file") from None
    except OSError as e:
        raise error(f"{source}: cannot read: {e.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise error(f"{source}: is {_kind(mode)}, not a {what}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_exact(
    f: IO[bytes], n: int, source: str, error: ErrorClass, what: str = "file"
) -> bytearray:
    """Exactly ``n`` bytes from ``f`` (one buffer of that size), or ``error`` if it ends first."""
    buffer = bytearray(n)
    view, got = memoryview(buffer), 0
    try:
        while got < n:
            k = f.readinto(view[got:])
            if not k:
                raise error(f"{source}: truncated {what} ({got} of {n} bytes read)")
            got += k
    except OSError as e:
        raise error(f"{source}: cannot read: {e.strerror}") from None
    return buffer


def read_bytes(
    path: str | Path, max_bytes: int, error: ErrorClass, what: str = "file"
) -> bytearray:
    """The whole regular file ``path``, refused without reading if larger than ``max_bytes``."""
    source = str(path)
    with open_regular(path, error, what) as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise error(f"{source}: {size} bytes; a {what} may have at most {max_bytes}")
        return read_exact(f, size, source, error, what)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def parse_json(raw: bytes | str, source: str, error: ErrorClass, what: str) -> Any:
    """``raw`` parsed as JSON; ``error`` "{source}: {what} is not JSON ..." otherwise.

    Integers of more than ``MAX_INT_DIGITS`` digits are refused (Python's own limit is
    4300, past which ``int`` raises a bare ``ValueError``), as is nesting too deep to parse.
    """
    try:
        return json.loads(raw, parse_int=_bounded_int)
    except RecursionError:
        raise error(f"{source}: {what} is not JSON (nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError and too-long integers
        reason = str(e).split(":")[0] if isinstance(e, json.JSONDecodeError) else str(e)
        raise error(f"{source}: {what} is not JSON ({reason})") from None


# --- writing -----------------------------------------------------------------------------


def _is_temporary_of(name: str, target: str) -> bool:
    prefix = f".{target}."
    return (
        name.startswith(prefix)
        and name.endswith(_TMP_SUFFIX)
        and len(name) == len(prefix) + _TMP_RANDOM + len(_TMP_SUFFIX)
    )


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporaries of ``path`` left by killed writes; return the ones removed.

    A temporary is stale when no writer holds its lock and it is older than
    ``STALE_AFTER`` seconds; a live writer keeps its file locked until it renames it.
    """
    path = Path(path)
    removed = []
    try:
        entries = list(os.scandir(path.parent if str(path.parent) else "."))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not _is_temporary_of(entry.name, path.name):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a writer lives
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            finally:
                os.close(fd)
    return removed


def _previous(path: Path) -> str:
    return "the previous file is intact" if path.exists() else "no file was written"


def _write_failure(path: Path, e: OSError, error: ErrorClass) -> MlplabError:
    folder = path.parent if str(path.parent) else Path(".")
    if isinstance(e, FileNotFoundError) and not folder.is_dir():
        reason = f"no folder {folder}"
    elif isinstance(e, IsADirectoryError) or path.is_dir():
        reason = "it is a directory"
    else:
        reason = e.strerror or str(e)
    return error(f"cannot write {path}: {reason}; {_previous(path)}")


def check_writable_target(
    path: str | Path, error: ErrorClass = ConfigError, what: str = ""
) -> Path:
    """``path`` as a ``Path`` if a rename may put a file there; ``error`` otherwise.

    Refused: an empty path, and a path that exists but is not a regular file (nor a
    symbolic link to one): ``/dev/null``, a FIFO, a device node, a socket, a directory.
    A rename would replace such a thing with a regular file, even ``/dev/null`` as root.
    ``what`` names the option (``--save``) in the message.
    """
    label = f"{what} {path}" if what else str(path)
    if not str(path).strip():
        raise error(f"{label.strip() or 'output'}: an empty path; expected a file name")
    try:
        mode = os.stat(path).st_mode  # follows a symbolic link to what it names
    except FileNotFoundError:
        return Path(path)
    except OSError as e:
        raise error(f"{label}: cannot write: {e.strerror}") from None
    if stat.S_ISDIR(mode):
        raise error(f"{label}: is a directory; expected a file name")
    if not stat.S_ISREG(mode):
        raise error(f"{label}: is {_kind(mode)}; mlplab writes only regular files, "
                    "never replaces anything else")  # fmt: skip
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes, *, error: ErrorClass = ConfigError) -> None:
    """Write ``data`` to ``path`` through a locked temporary file and a rename.

    ``path`` must be new or a regular file (``check_writable_target``); anything else
    (``/dev/null``, a FIFO, a device) is refused, never replaced.

    The file gets the permissions a plain ``open(path, "w")`` would give it (0666 less
    the umask), not the private 0600 of a temporary file. An ``OSError`` (no space, a file
    size limit, a read-only file system, no such folder) becomes ``error``, one line saying
    the previous file is intact; the temporary is removed.
    """
    path = check_writable_target(path, error)
    remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
    except OSError as e:
        raise _write_failure(path, e, error) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.fchmod(fd, 0o666 & ~_umask())
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        check_writable_target(path, error)  # again: it may have appeared while we wrote
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _write_failure(path, e, error) from None
        raise
    finally:
        os.close(fd)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; a folder that cannot be synced is not an error."""
    with contextlib.suppress(OSError):
        fd = os.open(folder if str(folder) else ".", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def check_output_path(path: str | Path, error: ErrorClass = ConfigError, what: str = "") -> None:
    """Refuse, before any work, a path ``atomic_write_bytes`` could not write.

    The folder must exist and take a new file (tried for real, so a read-only file
    system or a folder without write permission is caught), and ``path`` must be new or
    a regular file (``check_writable_target``). ``what`` names the option (``--save``)
    in the message.
    """
    path = check_writable_target(path, error, what)
    folder = path.parent if str(path.parent) else Path(".")
    label = f"{what} {path}" if what else str(path)
    if not folder.is_dir():
        raise error(f"{label}: no folder {folder}; create it first")
    if path.is_dir():
        raise error(f"{label}: is a directory; expected a file name")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
    except OSError as e:
        raise error(f"{label}: cannot write in {folder}: {e.strerror}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


@contextlib.contextmanager
def hold_lock(path: str | Path, error: ErrorClass, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the ``with`` block; ``error`` at once if
    another process (or another run in this one) holds it.

    The lock is taken with ``flock`` on a companion file ``.NAME.lock`` next to ``path``:
    ``path`` itself is replaced by every atomic write, and a lock on a replaced file
    guards nothing. The kernel drops the lock when its holder exits, killed or not.
    """
    path = Path(path)
    lock = path.parent / f".{path.name}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise error(f"{path}: cannot lock {lock}: {e.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise error(
                f"{path}: another run is using this {what}; wait for it to finish or give "
                "another file"
            ) from None
        yield
    finally:
        os.close(fd)  # closing drops the lock
