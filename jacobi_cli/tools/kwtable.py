"""``lang/kwnames.py`` generated from the libraries' own signatures (session 53).

    python -m jacobi_cli.tools.kwtable --write jacobi_cli/lang/kwnames.py

For each public callable of the namespaces of :data:`NAMESPACES` whose parameters Python can read
(``inspect.signature``: NumPy's and SciPy's ufuncs, JAX's functions, PyTorch's functions written in Python; not
PyTorch's C++ builtins, whose argument parser argspec's tables follow), the names it takes by position only and the
names it takes by keyword. A callable taking ``**kwargs`` is left out: every keyword reaches it. The parser refuses a
keyword the library named does not take (``argspec.library_keywords``), whatever alias jac's lowering would read it
as: ``jnp.tanh(a=x)``, ``jax.nn.relu(input=x)``, ``jax.nn.softmax(x, dtype=...)`` raise TypeError in JAX.
"""

from __future__ import annotations

import argparse
import inspect
import sys

# the namespaces kwnames keys; "torch.Tensor": the tensor methods (without their tensor)
NAMESPACES = ("numpy", "numpy.linalg", "scipy.special", "jax.numpy", "jax.numpy.linalg", "jax.nn",
              "jax.scipy.special", "torch", "torch.nn.functional", "torch.linalg", "torch.special", "torch.Tensor")


def _module(path: str):
    import importlib
    if path == "torch.Tensor":
        import torch
        return torch.Tensor
    return importlib.import_module(path)


KWARGS = "**"  # a signature taking **kwargs: every keyword reaches the function, none is refused


def entry(fn) -> str | None:
    """``"x / axis / where"``: the names taken by position only (``*`` for ``*args``), then the names taken by
    position or keyword in their order, then those taken by keyword only; None where the signature is unknown or
    takes ``**kwargs``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    positional, leading, keywords = [], [], []
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return KWARGS
        if p.kind is p.POSITIONAL_ONLY:
            positional.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            positional.append("*")
        elif p.kind is p.POSITIONAL_OR_KEYWORD:
            leading.append(p.name)
        else:
            keywords.append(p.name)
    return " / ".join((" ".join(positional), " ".join(leading), " ".join(keywords)))


def aten_entry(fn, method: bool) -> str | None:
    """A PyTorch builtin's entry from its ATen schemas (``torch._C._jit_get_schemas_for_operator``), marked
    ``@`` (PyTorch's argument parser also reads NumPy's names: ``argspec.TORCH_NUMPY_NAMES``): the overloads
    taking or making a tensor, ``self`` named ``input`` (a method: the tensor itself, left out), written arguments (``out``)
    as ``out``; leading: the names every overload has at the same positions, from the first on; the rest of every
    overload's names by keyword."""
    import torch

    try:
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + fn.__name__)
    except Exception:  # noqa: BLE001 - no ATen operator of that name
        return None
    orders, names, out = [], set(), False
    for schema in schemas:
        if not any("Tensor" in str(a.type) for a in [*schema.arguments, *schema.returns]):
            continue  # TorchScript's overloads of Python numbers and lists
        order = []
        for a in schema.arguments:
            if a.alias_info is not None and a.alias_info.is_write and a.name != "self":
                out = True
                continue
            name = "input" if a.name == "self" else a.name
            if method and a.name == "self":
                continue
            names.add(name)
            if not a.kwarg_only:
                order.append(name)
        orders.append(order)
    if not orders:
        return None
    leading = []
    for i in range(min(len(o) for o in orders)):
        if len({o[i] for o in orders}) > 1:
            break
        leading.append(orders[0][i])
    names |= _documented(fn, method)
    if "device" in names:  # a factory: PyTorch's binding adds requires_grad= to its TensorOptions
        names.add("requires_grad")
    keywords = sorted(names - set(leading)) + (["out"] if out and "out" not in names else [])
    return "@ / " + " ".join(leading) + " / " + " ".join(keywords)


def _documented(fn, method: bool) -> set:
    """The names of a PyTorch builtin's Python bindings that its ATen schemas may lack (``torch.nonzero``'s
    ``as_tuple``): its docstring's first line (``nonzero(input, *, out=None, as_tuple=False)``) and the overloads
    its argument parser lists at a keyword it does not take."""
    import re

    import torch

    documented = [fn] + ([getattr(torch, fn.__name__)] if method and hasattr(torch, fn.__name__) else [])
    lines = []
    for doc in documented:
        first = (doc.__doc__ or "").strip().splitlines()[:1]  # its keyword-only names: the positional ones the
        lines += ["(" + re.sub(r"\)\s*->.*", "", line).split("*,", 1)[1] for line in first if "*," in line]  # schemas name
        try:
            doc(torch.ones(2), jac_no_such_keyword=0)
        except Exception as err:  # noqa: BLE001 - the refusal lists the overloads, when there are several
            lines += [line.strip()[3:] for line in str(err).splitlines() if line.strip().startswith("* (")]
    names = set()
    for line in lines:
        inside = line[line.find("(") + 1:]
        inside = inside[:inside.rfind(")")] if inside.rstrip().endswith(")") else inside
        for part in inside.split(","):
            words = re.findall(r"[A-Za-z_]\w*", part.split("=")[0])
            if words and words[-1] not in ("self", "jac_no_such_keyword"):
                names.add(words[-1])
    return names - {"input"} if method else names


# functions taking **kwargs that pass them on to one function (session 54, kwforms53_probe's leftovers): their
# keywords are their own named ones and the one they pass to takes ("ufunc": NumPy's ufunc keywords;
# np.clip's go to np.core.umath.clip, scipy.special.softplus's to np.logaddexp); "torch.lu": torch.functional's
# boolean dispatch of _lu_impl (torch.lu(input=A) raises TypeError, torch.lu(A=A) answers)
FORWARDS = {("numpy", "clip"): "ufunc", ("scipy.special", "softplus"): "ufunc",
            ("torch", "lu"): "torch.functional._lu_impl"}


def forwarded(path: str, name: str, fn) -> str | None:
    """The entry of a function taking ``**kwargs`` listed in :data:`FORWARDS`: its own names, then the keywords
    of the function it passes ``**kwargs`` to; None for another (every keyword reaches it: none refused)."""
    target = FORWARDS.get((path, name))
    if target is None:
        return None
    if target != "ufunc":
        import importlib
        module, _, attr = target.rpartition(".")
        return entry(getattr(importlib.import_module(module), attr))
    import numpy as np
    _, out, keywords = entry(np.add).split(" / ")  # "x1 x2 / out / where casting order dtype subok signature"
    sig = inspect.signature(fn)
    positional, leading, own = [], [], []
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            continue
        (positional if p.kind is p.POSITIONAL_ONLY else leading if p.kind is p.POSITIONAL_OR_KEYWORD
         else own).append(p.name)
    extra = [k for k in out.split() + keywords.split() if k not in leading + own]
    return " / ".join((" ".join(positional), " ".join(leading), " ".join(own + extra)))


def _compiled(fn) -> bool:
    """A function written in C (NumPy's ``arange``, ``concatenate``: a text signature, which may name less than
    its argument parser reads: ``np.arange(start=1, stop=5)`` answers), no ufunc (whose signature is NumPy's own)."""
    import numpy as np

    if isinstance(fn, np.ufunc) or fn.__class__.__name__ == "ufunc":
        return False
    inner = inspect.unwrap(fn)
    return not (inspect.isfunction(inner) or inspect.ismethod(inner))


class _Probe:
    """A value no library takes: a call given it by keyword fails at the keyword or at the value."""


def candidates() -> list:
    """The keywords jac's lowerings read under some library's spelling (``functions.ALIASES``, ...)."""
    from ..lang.argspec import NUMPY_FOREIGN_KEYWORDS, TORCH_NUMPY_NAMES
    from ..lang.functions import ALIASES, SECOND_ALIASES

    out = set(ALIASES) | set(ALIASES.values()) | set(SECOND_ALIASES) | set(SECOND_ALIASES.values())
    return sorted(out | set(NUMPY_FOREIGN_KEYWORDS) | set(TORCH_NUMPY_NAMES) | {"dtype", "out", "x1", "x2"})


def _witnessed(fn, found: str, names: list) -> str:
    """``found`` with each of ``names`` (every keyword of the table) the C function was not seen to refuse by name (``unexpected keyword
    argument``, ``positional-only arguments passed as keyword``) added to its keyword names: a keyword is refused
    only where the library's refusal of it was seen."""
    import warnings

    positional, leading, keywords = found.split(" / ")
    taken = set(positional.split()) | set(leading.split()) | set(keywords.split())  # concatenate(arrays=): no
    added = []
    for k in names:
        if k in taken:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(**{k: _Probe()})
        except TypeError as err:
            said = str(err)
            if f"unexpected keyword argument '{k}'" in said or "positional-only arguments passed as keyword" in said:
                continue
        except Exception:  # noqa: BLE001 - refused at the value: the keyword was read
            pass
        added.append(k)
    return " / ".join((positional, leading, " ".join(keywords.split() + added)))


def table() -> dict:
    """{namespace: {name: entry}} of the installed libraries."""
    out, compiled = {}, []
    for path in NAMESPACES:
        module = _module(path)
        names = {}
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            fn = getattr(module, name, None)
            if fn is None or inspect.ismodule(fn) or inspect.isclass(fn) or not callable(fn):
                continue
            found = entry(fn)
            if found == KWARGS:
                found = forwarded(path, name, fn)
                if found is None:
                    continue
            if found is not None and _compiled(fn):
                compiled.append((path, name, fn))
            if found is not None and path == "torch.Tensor":  # a method written in Python: its tensor is self
                posonly, leading, keywords = found.split(" / ")
                found = " / ".join((posonly, " ".join(leading.split()[1:]), keywords))
            if found is None and path.startswith("torch"):
                found = aten_entry(fn, path == "torch.Tensor")
            if found is not None:
                names[name] = found
        out[path] = names
    seen = set(candidates())  # every keyword any function of the table takes, or jac's aliases read
    for names in out.values():
        for text in names.values():
            seen.update(w for w in text.replace("/", " ").split() if w.isidentifier())
    for path, name, fn in compiled:
        out[path][name] = _witnessed(fn, out[path][name], sorted(seen))
    return out


def versions() -> dict:
    import jax
    import numpy
    import scipy
    import torch
    return {"numpy": numpy.__version__, "scipy": scipy.__version__, "jax": jax.__version__,
            "torch": torch.__version__.split("+")[0]}


def source() -> str:
    found = table()
    lines = ['"""The keyword names each library\'s function takes, read off its signature (generated by',
             "``python -m jacobi_cli.tools.kwtable --write jacobi_cli/lang/kwnames.py``; do not edit). ``TABLES",
             "[namespace]`` holds one line per function, ``NAME:POSITIONAL / LEADING / KEYWORDS``: the names taken by",
             "position only (``*`` for ``*args``; ``@``: a PyTorch builtin's, from its ATen schemas), those taken by",
             "position or keyword in order, those by keyword only (one string per namespace: imported in a",
             "millisecond, read by ``argspec.library_signature``, on that path only).\"\"\"", "",
             f"VERSIONS = {versions()!r}", "", "TABLES = {"]
    for path, names in found.items():
        lines.append(f"    {path!r}: \"\"\"")
        lines += [f"{name}:{text}" for name, text in names.items()]
        lines.append('""",')
    lines.append("}")
    return "\n".join(lines) + "\n"


def parsed(tables: dict) -> dict:
    """{namespace: {name: entry}} of kwnames' ``TABLES`` (what :func:`table` gives)."""
    return {path: dict(line.split(":", 1) for line in text.split("\n") if line) for path, text in tables.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="PATH", help="write the module there (else print it)")
    opts = parser.parse_args(argv)
    text = source()
    if opts.write:
        with open(opts.write, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
