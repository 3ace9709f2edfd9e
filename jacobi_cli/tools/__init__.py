"""What the commands compute, as a library: the Python API and the reports.

``api`` (the public one-call functions), ``report`` (one result per command),
``symbolic`` (SymPy derivatives), ``check`` and ``numeric`` (derivatives against finite
differences), ``suite`` (``jac run``) and ``plot`` (pictures). Knows nothing of typer or rich.
"""
