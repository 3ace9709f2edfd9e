"""Text to graph: the expression language and the values bound to it.

``functions`` (the names users call and how each lowers to ops), ``parser`` (``ast`` to
graph, whitelisted, no recursion), ``bindings`` (``NAME=VALUE``, ``NAME=@file``,
``NAME:SHAPE``), ``fileio`` (files read and written safely) and ``deep`` (a big-stack
thread for deep inputs). Builds on :mod:`jacobi_cli.ir` only.
"""
