"""User-facing errors.

A user mistake (a missing file or column, a line that does not parse, bytes that do not decode) raises
:class:`InputError`. The CLI prints its one-line message and exits with code 2, never a traceback.
Everything else is a bug and keeps its traceback.
"""
from __future__ import annotations

EXIT_INPUT_ERROR = 2


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
        return text


class MissingDependency(InputError):
    """An optional dependency is needed for what the user asked; the message carries the install hint."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = ""):
        hint = f"pip install 'artifactlens[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{purpose + ' ' if purpose else ''}needs the package '{package}': {hint}")
