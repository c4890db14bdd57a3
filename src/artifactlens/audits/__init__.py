"""One module per data kind; each is the whole audit for that kind.

Every audit module provides:

- ``KIND`` (str), ``HELP`` (one line), ``EXAMPLES`` (CLI examples for ``--help``);
- ``add_arguments(parser)``: its own CLI options (the common ones come from :mod:`.common`);
- ``run_cli(args, common) -> AuditResult``: the CLI entry;
- ``run_demo(out_dir, common) -> AuditResult``: the audit on the demo data shipped in the package;
- ``audit_<kind>(...) -> AuditResult``: the Python API.
"""
from __future__ import annotations

import importlib

AUDIT_KINDS = ("labels", "preferences", "instructions", "simulations", "text")


def load_audit(kind: str):
    """The audit module for ``kind``, or None where it is not built (yet)."""
    try:
        return importlib.import_module(f"{__name__}.{kind}")
    except ModuleNotFoundError as e:
        if e.name == f"{__name__}.{kind}":
            return None
        raise


def available() -> dict:
    return {k: m for k in AUDIT_KINDS if (m := load_audit(k)) is not None}
