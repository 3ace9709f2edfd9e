"""``jax.lax.custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False, has_aux=False)`` (session
29), read as JAX defines it: its value is ``solve(matvec, b)``, which JAX never differentiates, and its derivative
the implicit one, ``dx = A⁻¹(db − dA x)`` with ``A`` the linear map ``matvec`` applies (JAX's rule solves for the
tangent with ``solve`` again, and so again for every order).

jac writes ``A`` out as a matrix, column j ``matvec(e_j)`` (so the columns carry ``matvec``'s derivatives by what it
closes over), and returns ``x0 + (s − stop(s))`` with ``x0 = stop(solve(matvec, b))`` and ``s = solve(A, b)``: the
value is ``solve``'s to the bit (``s − s`` is 0), the derivatives of every order ``solve(A, b)``'s, which are the
implicit ones. Those equal JAX's where ``solve`` solves; so where ``matvec(x0)`` is not ``b`` to a tolerance (a
``solve`` that stops early, or one of another system) jac refuses at evaluation, as it refuses a ``matvec`` that is
not linear (``matvec(0) != 0``) and ``symmetric=True`` of a matrix that is not (JAX's reverse mode would solve with
the wrong matrix). ``transpose_solve`` is JAX's reverse mode's (JAX raises for a reverse derivative without it or
``symmetric=True``): jac reads it as a function and does not call it; its derivatives are JAX's forward mode's,
and its reverse mode's where ``transpose_solve`` solves the transposed system. ``b`` is one vector (a pytree is
refused), of at most ``MAX_SIZE`` elements (jac calls ``matvec`` once per element).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacValueError
from ..ir.graph import Tracer
from ..ir.refusals import refused
from .functions import FUNCTIONS, Items, detached

SPELLING = "jax.lax.custom_linear_solve"
PARAMETERS = ("matvec", "b", "solve", "transpose_solve", "symmetric", "has_aux")
MAX_SIZE = 512
_UNSOLVED = (f"{SPELLING}: solve(matvec, b) does not solve matvec(x) = b here (the residual is above "
             f"{{tol:g}} of the scale): JAX's derivative then applies that solve to the tangents, which is not the "
             f"implicit derivative jac computes; solve to convergence, or write jnp.linalg.solve(A, b)")
_NONLINEAR = (f"{SPELLING}: matvec(0) is not 0, so matvec is not linear (JAX requires a linear matvec and does not "
              f"check it): write the affine part into b")
_ASYMMETRIC = (f"{SPELLING}(..., symmetric=True) of a matvec whose matrix is not symmetric (entries apart by more "
               f"than {{tol:g}} of their size): JAX's reverse mode (jax.grad) then solves with the matrix where its "
               f"transpose belongs, which is not the implicit derivative jac computes; drop symmetric=True and "
               f"pass transpose_solve")
_TOLERANCE = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-5, np.dtype(np.float16): 1e-2}  # a few hundred ulps


def custom_linear_solve(lowering, given: dict, position: int, function, literal):
    """The solution of ``matvec(x) = b``: ``solve``'s value, the implicit derivatives (the module's doc).
    ``function`` reads a function argument, ``literal`` a keyword given as a Python literal (vmapping's)."""
    missing = [k for k in ("matvec", "b", "solve") if k not in given]
    if missing:
        raise JacValueError(f"{SPELLING}() needs {', '.join(missing)}", position)
    if "has_aux" in given and literal(given["has_aux"], SPELLING, "has_aux"):
        raise JacValueError(f"{SPELLING}(..., has_aux=True) is not read: return the solution alone from solve",
                            position)
    symmetric = bool(literal(given["symmetric"], SPELLING, "symmetric")) if "symmetric" in given else False
    matvec = function(lowering, given["matvec"], SPELLING, position)
    solve = function(lowering, given["solve"], SPELLING, position)
    if "transpose_solve" in given:  # read (it must be a function or None), not called: JAX's reverse mode only
        node = given["transpose_solve"]
        if not (hasattr(node, "value") and node.value is None and type(node).__name__ == "Constant"):
            function(lowering, node, SPELLING, position)
    b = lowering.b
    rhs = lowering.expression(given["b"])
    if not isinstance(rhs, Tracer) or rhs.ndim != 1 or not isinstance(rhs.shape[0], int):
        raise JacValueError(f"{SPELLING}: jac reads b as one vector of a concrete size (a pytree or a matrix of "
                            f"right-hand sides is not read: flatten it, or solve each column)", position)
    n = rhs.shape[0]
    if n > MAX_SIZE:
        raise JacValueError(f"{SPELLING}: b has {n} elements; jac writes A out column by column (one matvec call "
                            f"each) up to {MAX_SIZE}: write jnp.linalg.solve(A, b) with the matrix", position)

    def apply(fn, args, what):
        out = lowering.call_value(fn, args, {}, position)
        if not isinstance(out, Tracer) or tuple(out.shape) != (n,):
            got = f"shape {tuple(out.shape)}" if isinstance(out, Tracer) else type(out).__name__
            raise JacValueError(f"{SPELLING}: {what} must return a vector of b's shape ({n},), got {got}", position)
        return out

    x0 = detached(b, apply(solve, [matvec, rhs], "solve(matvec, b)"), position)  # JAX never differentiates solve
    eye = np.eye(n, dtype=b.dtype)
    columns = [apply(matvec, [b.const(eye[j], position)], "matvec") for j in range(n)]
    a = FUNCTIONS["stack"](b, [Items(tuple(columns))], {"axis": 1}, position) if n else \
        b.const(np.zeros((0, 0), dtype=b.dtype), position)
    s = FUNCTIONS["solve"](b, [a, rhs], {}, position)
    out = b.apply("add", x0, b.apply("sub", s, detached(b, s, position), position=position), position=position)
    if n == 0:
        return out
    zero = apply(matvec, [b.const(np.zeros(n, dtype=b.dtype), position)], "matvec")
    out = refused(b, out, _NONLINEAR, where=b.apply("ne", zero, 0.0, position=position), axes=(0,),
                  position=position)
    tol = _TOLERANCE.get(np.dtype(b.dtype), 1e-8)
    residual = b.apply("abs", b.apply("sub", apply(matvec, [x0], "matvec"), rhs, position=position),
                       position=position)
    scale = b.apply("add", FUNCTIONS["matmul"](b, [b.apply("abs", detached(b, a, position), position=position),
                                                   b.apply("abs", x0, position=position)], {}, position),
                    b.apply("abs", detached(b, rhs, position), position=position), position=position)
    bad = b.apply("gt", detached(b, residual, position), b.apply("mul", scale, tol, position=position),
                  position=position)
    out = refused(b, out, _UNSOLVED.format(tol=tol), where=bad, axes=(0,), position=position)
    if not symmetric:
        return out
    fixed = detached(b, a, position)
    apart = b.apply("abs", b.apply("sub", fixed, b.apply("transpose", fixed, axes=(1, 0), position=position),
                                   position=position), position=position)
    size = b.apply("add", b.apply("abs", fixed, position=position),
                   b.apply("abs", b.apply("transpose", fixed, axes=(1, 0), position=position), position=position),
                   position=position)
    lopsided = b.apply("gt", apart, b.apply("mul", size, tol, position=position), position=position)
    return refused(b, out, _ASYMMETRIC.format(tol=tol), where=lopsided, axes=(0, 1), position=position)


ROOT = "jax.lax.custom_root"
ROOT_PARAMETERS = ("f", "initial_guess", "solve", "tangent_solve", "has_aux")
# Newton steps written out: the derivatives of orders 1 to 2**NEWTON - 1 are the implicit ones (see custom_root)
NEWTON = 6
_TANGENT = (f"{ROOT}: tangent_solve(g, y) does not solve g(x) = y here (g is f's derivative by x at the root; "
            f"entries apart by more than {{tol:g}} of the scale): JAX's derivatives apply that tangent_solve, which "
            f"are not the implicit derivatives jac computes; pass a tangent_solve that solves (lambda g, y: y / "
            f"g(1.0) for a scalar, jnp.linalg.solve(jax.jacobian(g)(y), y) for a vector)")


def custom_root(lowering, given: dict, position: int, function, literal):
    """``jax.lax.custom_root(f, initial_guess, solve, tangent_solve)``: the value ``solve(f, initial_guess)`` to the
    bit, the derivatives JAX's: those of the root of ``f(x) − r`` by what ``f`` closes over (``r`` the residual
    ``f(x̂)`` at ``x̂ = solve(f, initial_guess)``, held fixed: JAX's rule ``−tangent_solve(∂f/∂x, ∂f/∂θ·dθ)`` is
    evaluated at ``x̂`` whatever the residual), at every order where ``tangent_solve`` solves (JAX differentiates it
    again for the second and later ones; one that does not solve is refused at evaluation). Neither
    ``initial_guess`` nor ``solve`` is differentiated, as in JAX.

    Written out as ``NEWTON`` Newton steps from ``stop(x̂)`` on ``f − stop(f(x̂))``, each solving with the Jacobian
    ``∂f/∂x`` as graph nodes (which jac differentiates again): their value is ``x̂`` exactly (the step's right-hand
    side is ``f(x̂) − f(x̂) = 0``), and since Newton's error squares at each step, the error of ``x_k(θ)`` against
    the implicit root is of order ``|θ − θ₀|^(2^k)``: the derivatives up to order ``2^NEWTON − 1`` (63, past jac's
    ``--order`` 32) are the implicit ones. The result is ``x̂ + (x_K − stop(x_K))``."""
    from .derivatives import jacobian, traced_call
    from .vjps import Pushforward
    missing = [k for k in ("f", "initial_guess", "solve", "tangent_solve") if k not in given]
    if missing:
        raise JacValueError(f"{ROOT}() needs {', '.join(missing)}", position)
    if "has_aux" in given and literal(given["has_aux"], ROOT, "has_aux"):
        raise JacValueError(f"{ROOT}(..., has_aux=True) is not read: return the root alone from solve", position)
    f = function(lowering, given["f"], ROOT, position)
    solve = function(lowering, given["solve"], ROOT, position)
    tangent_solve = function(lowering, given["tangent_solve"], ROOT, position)
    b = lowering.b
    guess = lowering.expression(given["initial_guess"])
    if not isinstance(guess, Tracer) or guess.ndim > 1 or not all(isinstance(s, int) for s in guess.shape):
        raise JacValueError(f"{ROOT}: jac reads initial_guess as one scalar or vector of a concrete size (a pytree "
                            f"is not read: flatten it)", position)
    shape = tuple(guess.shape)
    n = shape[0] if shape else 1
    if n > MAX_SIZE:
        raise JacValueError(f"{ROOT}: the root has {n} elements; jac writes f's Jacobian out (one pass per element) "
                            f"up to {MAX_SIZE}", position)
    guess = detached(b, guess, position)

    def apply(fn, args, what):
        out = traced_call(lowering, fn, args, {}, position)
        if not isinstance(out, Tracer) or tuple(out.shape) != shape:
            got = f"shape {tuple(out.shape)}" if isinstance(out, Tracer) else type(out).__name__
            raise JacValueError(f"{ROOT}: {what} must return an array of initial_guess's shape {shape}, got {got}",
                                position)
        return out

    root = detached(b, apply(solve, [f, guess], "solve(f, initial_guess)"), position)  # JAX never differentiates it
    if n == 0:
        return root
    residual = None
    x = root
    for _ in range(NEWTON):
        t = b.fresh(x, position)
        value = apply(f, [t], "f")
        if residual is None:
            residual = detached(b, value, position)
        step = b.apply("sub", value, residual, position=position)  # f(x) - f(x̂): 0 at x̂, to the bit
        jac = jacobian(b, value, [t], ROOT, position)[0]
        if shape:
            delta = FUNCTIONS["solve"](b, [jac, step], {}, position)
        else:
            delta = b.apply("div", step, jac, position=position)
        x = b.apply("sub", x, delta, position=position)
    out = b.apply("add", root, b.apply("sub", x, detached(b, x, position), position=position), position=position)
    # tangent_solve checked at the root, one basis vector at a time: g(tangent_solve(g, e_j)) == e_j
    t = b.fresh(root, position)
    g = Pushforward(ROOT, [apply(f, [t], "f")], None, [t], [None])
    jac = detached(b, jacobian(b, g.outs[0], [t], ROOT, position)[0], position)
    eye = np.eye(n, dtype=b.dtype)
    tol = _TOLERANCE.get(np.dtype(b.dtype), 1e-8)
    for j in range(n):
        e = b.const(eye[j].reshape(shape), position)
        z = detached(b, apply(tangent_solve, [g, e], "tangent_solve(g, y)"), position)
        back = FUNCTIONS["matmul"](b, [jac, z], {}, position) if shape else b.apply("mul", jac, z, position=position)
        scale = FUNCTIONS["matmul"](b, [b.apply("abs", jac, position=position),
                                        b.apply("abs", z, position=position)], {}, position) if shape else \
            b.apply("abs", b.apply("mul", jac, z, position=position), position=position)
        bad = b.apply("gt", b.apply("abs", b.apply("sub", back, e, position=position), position=position),
                      b.apply("mul", b.apply("add", scale, 1.0, position=position), tol, position=position),
                      position=position)
        out = refused(b, out, _TANGENT.format(tol=tol), where=bad, axes=tuple(range(len(shape))), position=position)
    return out
