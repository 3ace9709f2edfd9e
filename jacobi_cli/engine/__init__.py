"""Transforms of a graph: evaluation, derivatives, plans and kernels.

``autodiff`` (evaluate, VJP, JVP, Jacobians, Hessians), ``jacobian`` (the Jacobian as a
value with its structure), ``planner`` (mode, chunks and memory per input), ``kernels``
(repeated calls compiled to straight-line Python), ``memory`` (the budget) and ``finite``
(where a NaN or infinity first appeared). Builds on :mod:`jacobi_cli.ir` and
:mod:`jacobi_cli.lang`.
"""
