"""Where PyTorch computes, as a pasted training script says it: jac computes on the CPU.

``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")`` is read as on a machine without a GPU:
``torch.cuda.is_available()`` (and ``torch.backends.mps.is_available()``) is False, ``torch.cuda.device_count()``
0, ``torch.device('cpu')`` a :class:`Device` that ``x.to(device)``, ``device=device`` and ``model.to(device)``
take. A GPU the text insists on (``torch.device('cuda')``, ``.cuda()``) is refused: PyTorch on a machine without
one raises. A module's dtype (``model.double()``, ``.float()``, ``.to(torch.float64)``) names a float dtype, which
jac reads where it is --dtype (float64 by default; the call changes nothing) and refuses where it is not (PyTorch's
module would compute in the other, or raise meeting an input of jac's): ``model.double()`` under --dtype float32
says to run with --dtype float64; a half-precision or integer dtype is refused (:func:`module_to`). Nothing here
computes.
"""
from __future__ import annotations

from ..errors import JacValueError
from .functions import LIBRARIES, MODULES, DType, Static, static, variant

MODULES.update({"torch.cuda", "torch.backends.mps"})  # torch.cuda.is_available(): read as a machine without a GPU
LIBRARIES.update({"torch.cuda": "torch.cuda", "torch.backends.mps": "torch.backends.mps"})
_GPU = ("jac computes on the CPU with NumPy, as PyTorch does on a machine without a GPU (where this raises): write "
        "torch.device('cpu'), or torch.device('cuda' if torch.cuda.is_available() else 'cpu'), which is the CPU here")
_DTYPES = ("float32", "float", "float64", "double")  # a module's dtype jac reads: --dtype's


class Device(str):
    """``torch.device('cpu')``: a device value (equal to the string ``'cpu'``, as PyTorch's ``device=`` takes
    either)."""

    def __repr__(self) -> str:
        return f"device(type='{str(self)}')"


def device_of(b, value, what: str, position) -> Device:
    """The device ``value`` names (``'cpu'``, ``'cpu:0'``, ``torch.device('cpu')``), refused unless the CPU."""
    name = static(b, value, what, position)
    if not isinstance(name, str):
        raise JacValueError(f"{what} must be a device ('cpu' or torch.device('cpu')), got {name!r}", position)
    kind = name.split(":")[0]
    if kind not in ("cpu", "cuda", "mps", "xpu", "meta") or name.count(":") > 1:
        raise JacValueError(f"{what}: {name!r} is no device PyTorch knows (write 'cpu')", position)
    if kind != "cpu":
        raise JacValueError(f"{what} is {name!r}: {_GPU}", position)
    return Device("cpu")


@variant("torch", "device")
def _device(b, args, kwargs, position):
    """torch.device('cpu') (or 'cpu:0', torch.device('cpu', 0)): the CPU, where jac computes; a GPU refused."""
    given = {**dict(zip(("type", "index"), args)), **kwargs}
    if not 1 <= len(args) <= 2 or set(kwargs) - {"type", "index"} or len(given) != len(args) + len(kwargs) \
            or "type" not in given:
        raise JacValueError("torch.device(type, index=None) takes a device's name, 'cpu'", position)
    return Static(device_of(b, given["type"], "torch.device(...)", position))


def _no_gpu(value):
    def lower(b, args, kwargs, position):
        if args or kwargs:
            raise JacValueError("this function is called without arguments here", position)
        return value if isinstance(value, bool) else b.lift(value)  # n = torch.cuda.device_count(): a number
    lower.__doc__ = f"read as on a machine without a GPU: {value!r}"
    return lower


variant("torch.cuda", "is_available")(_no_gpu(False))
variant("torch.cuda", "device_count")(_no_gpu(0))
variant("torch.backends.mps", "is_available")(_no_gpu(False))


def module_to(b, module, method: str, args: list, kwargs: dict, position):
    """``model.to(device)`` / ``.to(dtype)`` / ``.to(device, dtype)`` / ``.cpu()`` / ``.double()`` / ``.float()``
    of a module: the module itself (PyTorch's returns it, changed in place). The device must be the CPU; a dtype
    jac's float (every array is computed in --dtype, as ``x.double()`` is); ``.cuda()`` and a half or integer dtype
    refused."""
    if method == "cuda":
        raise JacValueError(f".cuda() of a module: {_GPU}", position)
    if method in ("cpu", "double", "float"):
        if args or kwargs:
            raise JacValueError(f".{method}() of a module is called without arguments here", position)
        if method != "cpu":
            _same_dtype(b, f".{method}() of a module", "float64" if method == "double" else "float32", position)
        return module
    given = dict(kwargs)
    for value in args:
        key = "dtype" if isinstance(value, Static) and isinstance(value.value, DType) else "device"
        if key in given:
            raise JacValueError(".to() of a module takes a device, a dtype, or both (device, dtype)", position)
        given[key] = value
    if set(given) - {"device", "dtype", "non_blocking"} or not args and not kwargs:
        raise JacValueError(".to() of a module takes a device, a dtype, or both, as .to(device) or "
                            ".to(torch.float64)", position)
    _placed(b, ".to(device) of a module", ".to(dtype) of a module", ".to({}) of a module", "drop the cast",
            given.get("device"), given.get("dtype"), position)
    return module


def factory(b, cls: str, device, dtype, position) -> None:
    """``nn.Linear(..., device=..., dtype=...)``: the CPU, and a float dtype jac computes in (--dtype; a float32
    layer is read as one made with PyTorch's default dtype is, the parser's ``layer_of_one_float``)."""
    _placed(b, f"nn.{cls}(device=...)", f"nn.{cls}(dtype=...)", f"nn.{cls}(dtype={{}})", "drop dtype=", device,
            dtype, position, same=False)


def _placed(b, where: str, typed: str, cast: str, drop: str, device, dtype, position, same: bool = True) -> None:
    """The device (the CPU) and the float dtype a module is put on, by ``.to()`` or its constructor: ``where`` and
    ``typed`` say where each is given, ``cast`` the dtype's spelling with ``{}`` for its name; ``same``: the dtype
    must be --dtype's."""
    if device is not None:
        device_of(b, device, where, position)
    if dtype is None:
        return
    dtype = static(b, dtype, typed, position)
    if not isinstance(dtype, DType) or dtype.kind != "f":  # PyTorch: "only accepts floating point or complex"
        raise JacValueError(f"{typed} takes a float dtype (PyTorch refuses another), got "
                            f"{getattr(dtype, 'name', dtype)!r}", position)
    if dtype.name not in _DTYPES:
        raise JacValueError(f"{cast.format(dtype.name)}: jac computes in --dtype (float64, or float32), "
                            f"not in {dtype.name}: {drop}", position)
    if same:
        _same_dtype(b, cast.format(dtype.name), "float64" if dtype.name in ("float64", "double") else "float32",
                    position)


def _same_dtype(b, what: str, dtype: str, position) -> None:
    """A module cast to ``dtype``: read where jac computes in it (--dtype), refused elsewhere (PyTorch's module
    would compute in ``dtype``, or raise meeting an input of the other)."""
    import numpy as np

    if np.dtype(b.dtype) != np.dtype(dtype):
        raise JacValueError(f"{what} makes it compute in {dtype}, and jac computes in "
                            f"{np.dtype(b.dtype).name} here: run with --dtype {dtype} to read it", position)
