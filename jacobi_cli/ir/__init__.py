"""The graph and its ops: what every other layer speaks.

``shapes`` (kinds, broadcasting, the derivative-shape table), ``ops`` (the op registry: one
block per op with its NumPy evaluation, shape rule and derivative rules, and ``P`` to apply
them), ``graph`` (immutable nodes, the builder and its tracers) and ``structured`` (sparse
batches that keep a Jacobian's structure, and the dry run that predicts it). Nothing here
imports from the other subpackages.
"""
