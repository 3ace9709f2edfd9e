"""Python's ``math`` module, registered in ``functions``' table when ``lang`` is imported.

``math.f(v)`` takes Python numbers: a tensor of one element is converted first (PyTorch's ``float(t)``: a constant
of the derivatives), an array of several refused as Python refuses it. Where every argument is known when the graph
is built (a literal, a shape, a loop counter, a constant computed from them), the answer is Python's own: computed
by ``math`` itself, so ``math.factorial(5)`` is the int 120 (``Builder.pyints``), ``math.floor(7 / 2)`` the int 3,
and ``math.log(0)`` or ``math.exp(1000)`` refused with Python's ValueError or OverflowError instead of an array
function's ``-inf`` or ``inf``. An argument computed from the inputs (``math.log(x[0])``) is the array function of
the detached number, refused at evaluation where Python's would raise: a result that is not finite from finite
arguments, or NaN from arguments that are not NaN (``math.sqrt(-1)``, ``math.sin(inf)``).

The functions of ints (``factorial comb perm gcd lcm isqrt``) take an integral float as its int (a shape is held
as a float constant; Python 3.10+ raises TypeError for ``math.factorial(3.0)``) and refuse a value computed from the
inputs; results past a float's range are refused (jac holds numbers as floats where they meet arrays).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import JacValueError
from ..ir.graph import Tracer
from ..ir.refusals import refused
from ..ir.shapes import fmt, is_concrete
from .functions import FUNCTIONS, Items, LIBRARY_FUNCTIONS, arithmetic, library_function, variant

# math's functions of ints, and of iterables; the rest of math's callables take numbers
_INTEGERS = frozenset({"factorial", "comb", "perm", "gcd", "lcm", "isqrt"})
_ITERABLES = frozenset({"fsum", "dist", "sumprod"})
# computed only where every argument is known (no array function of jac's answers them)
_KNOWN_ONLY = _INTEGERS | _ITERABLES | frozenset({"isclose", "frexp", "modf", "ulp", "nextafter"})
_FLOAT_BITS = 1024  # an int past 2**1024 has no float: refused before the work of computing it
_LARGEST_FACTORIAL = 170  # 171! is past float64's range


def _known(b, value, iterable: bool):
    """``value`` as a Python number (or a list, for an iterable), where it is known when the graph is built;
    None where it is computed from the inputs."""
    if not isinstance(value, Tracer):
        return value
    node = b.nodes[value.id]
    if node.op != "const" or not is_concrete(value.shape):
        return None
    exact = b.pyints.get(value.id)
    held = np.asarray(exact if exact is not None else node.value)
    if iterable:
        return held.reshape(-1).tolist()
    if held.size != 1:
        return None
    return held.reshape(()).item()


def _as_int(value):
    """An integral float as its int (a shape is held as a float); anything else as it is (Python decides)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _too_large(fname: str, args: list) -> bool:
    """Whether the int ``fname`` of ``args`` would be past a float's range: checked before it is computed, as
    ``math.factorial(10**7)`` takes minutes."""
    if not all(isinstance(a, int) and a >= 0 for a in args):
        return False  # Python refuses (or answers at once)
    if fname == "factorial":
        return args[0] > _LARGEST_FACTORIAL
    if fname in ("comb", "perm") and args and len(args) <= 2:
        n, k = args[0], args[-1] if len(args) == 2 else args[0]
        if k > n:
            return False  # 0
        digits = math.lgamma(n + 1) - math.lgamma(n - k + 1) - (math.lgamma(k + 1) if fname == "comb" else 0.0)
        return digits / math.log(2) > _FLOAT_BITS
    return False


def _shown(args: list, kwargs: dict) -> str:
    return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


def _constant(b, value, fname: str, call: str, position):
    """Python's result as jac's value: an int held exactly (``Builder.pyints``), a float, a bool, a tuple."""
    if isinstance(value, tuple):  # frexp, modf
        return Items([_constant(b, v, fname, call, position) for v in value])
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value.bit_length() > _FLOAT_BITS:
            raise JacValueError(f"{call} is {value.bit_length()} bits long, past a float's range: jac holds numbers as "
                                "floats where they meet arrays", position)
        out = b.const(float(value), position)
        b.pyints[out.id] = value
        return out
    return b.const(value, position)


def _computed(b, fname: str, args: list, kwargs: dict, position):
    """``math.fname(*args, **kwargs)`` computed by Python's math, its errors refused with Python's message."""
    if fname in _INTEGERS:
        args, kwargs = [_as_int(a) for a in args], {k: _as_int(v) for k, v in kwargs.items()}
    call = f"math.{fname}({_shown(args, kwargs)})"
    if fname in _INTEGERS and _too_large(fname, [*args, *kwargs.values()]):
        raise JacValueError(f"{call} is past a float's range: jac holds numbers as floats where they meet arrays",
                            position)
    try:
        value = getattr(math, fname)(*args, **kwargs)
    except (ValueError, OverflowError, TypeError) as err:
        raise JacValueError(f"{call}: Python raises {type(err).__name__}: {err}", position) from None
    return _constant(b, value, fname, call, position)


def _number(b, value, fname: str, position):
    """``value`` as Python's math module takes it: a number, which an array of one element converts to (a
    constant of the derivatives, as PyTorch's ``float(t)``)."""
    if not isinstance(value, Tracer):
        return value
    if not is_concrete(value.shape) or int(np.prod(value.shape)) != 1:
        raise JacValueError(f"math.{fname}() takes a number, as Python's math module does; got an array of shape "
                            f"{fmt(value.shape)}: for every element write torch.{fname}(x) or np.{fname}(x)", position)
    if b.nodes[value.id].op == "const":
        return value
    return b.apply("detach", b.apply("reshape", value, shape=(), position=position), position=position)


def _raises_where(b, fname: str, numbers: list, out: Tracer, position) -> Tracer:
    """``out`` refused at evaluation where Python's ``math.fname`` of the same numbers raises: not finite from
    finite arguments (``math.log(0)``, ``math.exp(1000)``), NaN from arguments that are not NaN
    (``math.sqrt(-1)``, ``math.sin(inf)``)."""
    arrays = [n for n in numbers if isinstance(n, Tracer)]
    finite = [b.apply("isfinite", n, position=position) for n in arrays]
    not_nan = [arithmetic(b, "sub", 1.0, b.apply("isnan", n, position=position), position) for n in arrays]
    all_finite, none_nan = 1.0, 1.0
    for f, m in zip(finite, not_nan):
        all_finite, none_nan = arithmetic(b, "mul", all_finite, f, position), arithmetic(b, "mul", none_nan, m,
                                                                                          position)
    overflow = arithmetic(b, "mul", arithmetic(b, "sub", 1.0, b.apply("isfinite", out, position=position), position),
                          all_finite, position)
    domain = arithmetic(b, "mul", b.apply("isnan", out, position=position), none_nan, position)
    raises = arithmetic(b, "add", overflow, domain, position)
    return refused(b, out, f"math.{fname}() of this value: Python raises ValueError (math domain error) or "
                           "OverflowError (math range error), where NumPy's function gives NaN or inf",
                   where=raises, position=position)


def _python_math(fname: str):
    def lower(b, args, kwargs, position):
        iterable = fname in _ITERABLES
        known = [_known(b, a, iterable) for a in args]
        options = {k: _known(b, v, iterable) for k, v in kwargs.items()}
        if None not in known and None not in options.values():
            return _computed(b, fname, known, options, position)
        if fname in _KNOWN_ONLY:
            kind = "ints" if fname in _INTEGERS else "numbers"
            raise JacValueError(f"math.{fname}() of a value computed from the inputs: jac takes it of {kind} known "
                                "from the text (literals, shapes, loop counters)", position)
        numbers = [_number(b, a, fname, position) for a in args]
        options = {k: _number(b, v, fname, position) for k, v in kwargs.items()}
        if fname == "log" and len(numbers) == 2 and not options:  # math.log(x, base)
            out = arithmetic(b, "div", FUNCTIONS["log"](b, numbers[:1], {}, position),
                             FUNCTIONS["log"](b, numbers[1:], {}, position), position)
        else:
            found = library_function("torch", fname) or FUNCTIONS.get(fname) or library_function("scipy", fname)
            out = found(b, numbers, options, position)
        return _raises_where(b, fname, [*numbers, *options.values()], out, position)
    lower.__doc__ = (f"math.{fname}(v) of a number, as Python's math module: Python's own answer where the number "
                     "is known when the graph is built; of an array of one element computed from the inputs, a "
                     "constant (derivative 0, as PyTorch's float(t)), refused where Python raises; of several, "
                     "refused")
    return lower


def _math_remainder(b, args, kwargs, position):
    raise JacValueError("math.remainder is IEEE's remainder (x - n y with n the integer nearest x / y), which jac "
                        "does not have; torch.remainder, np.remainder and % take the sign of the divisor, "
                        "torch.fmod and np.fmod that of the dividend", position)


variant("math", "remainder")(_math_remainder)  # not Python's %: refused, never answered otherwise
for _name in sorted(set(dir(math)) - {"prod", "remainder"}):
    if not _name.startswith("_") and callable(getattr(math, _name)) and ("math", _name) not in LIBRARY_FUNCTIONS \
            and (_name in FUNCTIONS or _name in _KNOWN_ONLY or _name == "gamma"):
        variant("math", _name)(_python_math(_name))


def _int_method(fname: str):
    def lower(b, args, kwargs, position):
        """n.bit_length() / n.bit_count() of a Python int known when the graph is built (a literal, a shape, a
        loop counter), as Python computes it; of anything else refused (floats, arrays and tensors have no such
        method: Python's AttributeError)."""
        if len(args) != 1 or kwargs:
            raise JacValueError(f"int.{fname}() takes no arguments", position)
        value = args[0]
        exact = b.pyints.get(value.id) if isinstance(value, Tracer) else value
        if type(exact) is bool or type(exact) is int:
            return _constant(b, getattr(int(exact), fname)(), fname, f"{fname}()", position)
        raise JacValueError(f".{fname}() is a method of Python ints (a literal, a shape, len(...)); this value is a "
                            f"float or an array, which has none (Python: AttributeError)", position)
    return lower


for _name in ("bit_length", "bit_count"):  # Python's int methods, of Python ints
    variant("method", _name)(_int_method(_name))
