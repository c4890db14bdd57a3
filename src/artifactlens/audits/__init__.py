"""One package per data kind; each holds the whole audit for that kind.

Every audit package has a ``spec`` module with its :class:`~artifactlens.contract.Audit` subclass,
registered by kind (``@register``): options, metric table, CLI flags and ``compute``. The registry that
finds them (:func:`artifactlens.api.registry`) is the one list of audits: the CLI, the gate, the demo and
the shell completion iterate it. See docs/architecture.md.
"""
