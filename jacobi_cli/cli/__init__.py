"""The command line: ``entry`` (the ``jac`` entry point, with a fast path for ``jac eval``),
``app`` (the typer commands), ``commands`` (what they share without typer), ``render``
(human and JSON output; the only rich importer) and ``schema`` (the ``--json`` schemas).

Kept empty of imports: ``jac eval`` loads this package on every start.
"""
