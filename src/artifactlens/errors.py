"""User-facing errors.

A user mistake (a missing file or column, a line that does not parse, bytes that do not decode) raises
:class:`InputError`. The CLI prints its one-line message and exits with code 2, never a traceback.
Everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import errno
import re

EXIT_INPUT_ERROR = 2

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the bidi overrides
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe_text(text, *, newlines: bool = True) -> str:
    """``text`` made safe to print on a terminal: control characters (ESC, so every ANSI/OSC escape
    sequence; CR; C1 controls; bidi overrides) become visible ``\\xNN``/``\\uNNNN`` escapes, so data
    cannot move the cursor, rewrite earlier lines, retitle the window or hide text. ``newlines=False``
    also escapes line breaks (for one-line messages). Use it for anything from the data printed to
    stdout or stderr."""
    s = str(text)
    out = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", s)
    return out if newlines else out.replace("\n", "\\n")


class InputError(Exception):
    """Bad input named precisely: file, line or row, column and what was expected.

    ``line`` is 1-based (text files); ``row`` is the 0-based data row (any format).
    """

    def __init__(self, message: str, *, path=None, line: int | None = None, row: int | None = None,
                 column: str | None = None, expected: str | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.row = row
        self.column = column
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = ": ".join(where + [self.message]) if where else self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return safe_text(text, newlines=False)  # one line, whatever the data holds


class MissingDependency(InputError):
    """An optional dependency is needed for what the user asked; the message carries the install hint."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = ""):
        hint = f"pip install 'artifactlens[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{purpose + ' ' if purpose else ''}needs the package '{package}': {hint}")


_OS_REASONS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "the disk quota is exceeded",
               errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
               errno.EROFS: "a read-only file system", errno.EISDIR: "a folder, not a file",
               errno.ENOTDIR: "a part of the path is not a folder", errno.ELOOP: "a loop of symbolic links",
               errno.ENOENT: "no such file or folder", errno.ENAMETOOLONG: "the name is too long",
               errno.EIO: "an input/output error"}


def os_error(e: OSError, path=None, *, action: str = "write", option: str | None = None) -> InputError:
    """One-line :class:`InputError` for an operating-system error (``raise os_error(e, path) from None``):
    what failed (``cannot write``/``cannot read``), the option that named the path, and the reason."""
    reason = _OS_REASONS.get(e.errno) or (e.strerror or str(e)).lower()
    who = f"{option} " if option else ""
    return InputError(f"{who}cannot {action}: {reason}", path=path or e.filename,
                      expected=_OS_HINTS.get(e.errno))


_OS_HINTS = {errno.ENOSPC: "free space on the disk (a run leaves no temporary file behind)",
             errno.EDQUOT: "free space within the quota", errno.EACCES: "a path you may use",
             errno.EROFS: "a writable folder", errno.EISDIR: "a file name, not a folder"}
