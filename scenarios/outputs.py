"""Output paths, checked before a long run so that a bad ``--out`` fails at once, not after the work.

A probe file is created (and removed) rather than asking ``os.access``: only
writing tells whether writing works (read-only mounts, ACLs, root).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from scenarios.errors import SpecError

__all__ = ["writable_dir", "writable_file"]


def writable_dir(field: str, path: str | Path) -> Path:
    """Make the directory ``path`` if it is missing and check that files can be created in it.

    :param field: the option or parameter named in errors (``"--out"``).
    :param path: the directory.
    :return: ``path`` as a :class:`~pathlib.Path`.
    :raises SpecError: ``path`` is a file, or the directory cannot be made or written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpecError(field, f"{path} is a file; give a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=path, prefix=".echelon-probe-").close()
    except OSError as err:
        raise SpecError(field, f"cannot write in {path}: {err.strerror or err}") from None
    return path


def writable_file(field: str, path: str | Path) -> Path:
    """Check that the file ``path`` can be written (its folder is made if missing); write nothing.

    :param field: the option or parameter named in errors (``"--out"``).
    :param path: the file.
    :return: ``path`` as a :class:`~pathlib.Path`.
    :raises SpecError: ``path`` is a directory, or its folder cannot be made or written.
    """
    path = Path(path)
    if path.is_dir():
        raise SpecError(field, f"{path} is a directory; give a file name")
    writable_dir(field, path.parent)
    if path.exists():
        try:
            path.open("a").close()
        except OSError as err:
            raise SpecError(field, f"cannot write {path}: {err.strerror or err}") from None
    return path
