"""The ``jac`` console script (``[project.scripts]``): Ctrl-C is quiet from its first line.

The script pip writes imports this module and calls :func:`main`. Importing the entry point
runs Python code (``signal`` alone imports ``enum``) that a Ctrl-C could interrupt with a
traceback, so the first thing here, before any such import, is a SIGINT handler that exits
130 at once; ``_signal`` is the interpreter's built-in module, which runs no Python code.
:func:`jacobi_cli.cli.entry.main` then installs its own handling for the command. Only the
script imports this module: a program that imports jac keeps its own SIGINT handling.
"""

import _signal
import os


def _exit_interrupted(signum, frame):  # nothing is open yet: nothing to clean up
    os._exit(130)


try:
    _signal.signal(_signal.SIGINT, _exit_interrupted)
except ValueError:  # not the main thread: not ours to handle
    pass


def main() -> int:
    """The ``jac`` command (see :func:`jacobi_cli.cli.entry.main`)."""
    from .entry import main as entry_main

    return entry_main()
