"""Batches with ``vmap`` semantics: one expression, B examples, per-example results.

``--batch NAME[:AXIS]`` marks axis AXIS of input NAME as the batch axis, as
``torch.func.vmap(f, in_dims=...)``: example ``b`` sees ``NAME`` with that axis indexed at
``b``; inputs not named are shared by every example (the weights of per-sample
gradients). The expression is parsed and planned once, for the shapes of one example;
then each example is evaluated and differentiated with that graph and plan, and the
results are stacked with the batch axis first. The cost is B times one example's, never
that of the ``(B·m) × (B·n)`` Jacobian of the whole batch, which is zero off the
diagonal of examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import JacError, JacNameError, JacShapeError, JacUsageError, did_you_mean
from ..ir.dtypes import c_ordered
from ..ir.shapes import fmt
from .memory import fmt_bytes


@dataclass(frozen=True)
class Batch:
    """The batch: its size and, per batched input, its axis (as given, made non-negative)."""

    size: int
    axes: dict  # name -> axis

    def split(self, env: dict) -> dict:
        """``env`` with each batched input's batch axis moved first: a view, never a copy (session 57: a copy of
        the whole input in C order, made before any plan, was the batch's size of bytes that no budget counted;
        :meth:`example` lays out one example at a time)."""
        return {name: np.moveaxis(v, self.axes[name], 0) if name in self.axes else v for name, v in env.items()}

    def example(self, split_env: dict, b: int) -> dict:
        """The inputs of example ``b`` from a :meth:`split` environment, each in C order (a copy of that example
        only, where the moved axis made it strided: :func:`~jacobi_cli.ir.dtypes.c_ordered`; an example's
        inputs are its values, which the batch plan counts twice, ``BatchPlan.held_bytes``)."""
        return {name: c_ordered(v[b]) if name in self.axes else v for name, v in split_env.items()}

    def as_dict(self) -> dict:
        return {"size": self.size, "inputs": dict(self.axes)}

    def in_example(self, err, b: int):
        """``err``, raised computing example ``b``, saying which example it is (of a thousand, the one to look at)."""
        where = ", ".join(f"{name}[{b}]" if axis == 0 else f"{name} index {b} along axis {axis}"
                          for name, axis in self.axes.items())
        return err.reword(f"example {b} of the batch ({where}): {err.message}")


def _shown(text) -> str:
    """An option's value as a message shows it: quoted where it would not be seen (empty, spaces around)."""
    text = str(text)
    return repr(text) if not text or text != text.strip() else text


def parse_specs(specs) -> dict:
    """``["x", "W:1"]`` -> ``{"x": 0, "W": 1}`` (``--batch NAME[:AXIS]``)."""
    axes: dict = {}
    for spec in specs or []:
        name, sep, axis = str(spec).partition(":")
        # malformed (usage, as --wrt '' and --wrt ' x'); any other NAME that is not an input's is a name error
        # (batch_of), as --wrt's: --batch ü∂ was usage where --wrt ü∂ is name
        if not name or name != name.strip() or not sep and spec != spec.strip():
            raise JacUsageError(f"--batch {_shown(spec)}: expected NAME or NAME:AXIS, e.g. --batch x or --batch x:1")
        try:
            value = int(axis) if sep else 0
        except ValueError:
            raise JacUsageError(f"--batch {spec}: the axis must be a whole number, not {axis!r}") from None
        if name in axes:
            raise JacUsageError(f"--batch {name} is given twice")
        axes[name] = value
    return axes


def batch_of(shapes: dict, axes: dict, expr: str | None = None) -> Batch:
    """The :class:`Batch` of inputs with ``shapes`` (name -> full shape), checked: every
    batched name is bound, its axis exists, and all batch sizes agree. ``expr``, where the caller
    has it, lets a name that is no bound input be told apart: a parameter the text makes."""
    sizes, fixed = {}, {}
    for name, axis in axes.items():
        if name not in shapes:
            raise _not_bound(name, shapes, expr)
        shape = tuple(shapes[name])
        if not -len(shape) <= axis < len(shape):
            raise JacShapeError(f"--batch {name}:{axis}: '{name}' has shape {fmt(shape)}, with no axis {axis} "
                                "to hold the batch")
        fixed[name] = axis % len(shape)
        sizes[name] = shape[fixed[name]]
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{n}: {s}" for n, s in sizes.items())
        raise JacShapeError(f"the batched inputs disagree on the batch size ({listed}); vmap needs one size")
    return Batch(next(iter(sizes.values())), fixed)


def _not_bound(name: str, shapes: dict, expr: str | None) -> JacNameError:
    """``--batch NAME`` of no bound input: a parameter the text makes (``fc.weight`` of ``torch.nn.Linear``,
    a leaf ``torch.tensor(..., requires_grad=True)``), which --wrt takes and --batch cannot (it is shared by
    every example, vmap's ``in_dims=None``), or several names in one option (``--batch x,y``)."""
    inputs = ", ".join(shapes)
    parts = [p for p in re.split(r"[,\s]+", name) if p]
    if len(parts) > 1 and all(p in shapes for p in parts):
        return JacNameError(f"--batch {name}: no input named '{name}' is bound (inputs: {inputs}); --batch takes "
                            f"one name and is repeated: {' '.join('--batch ' + p for p in parts)}")
    head, eq, axis = name.partition("=")
    if eq and head.strip() in shapes and re.fullmatch(r"\s*-?\d+\s*", axis):  # in_axes={'x': 1} written x=1
        return JacNameError(f"--batch {name}: no input named '{name}' is bound (inputs: {inputs}); the axis follows "
                            f"a colon: --batch {head.strip()}:{axis.strip()}")
    if expr is not None and name in _made_by(expr, shapes):
        batched = ", ".join(f"--batch {n}" for n in shapes) or "--batch NAME of a bound input"
        return JacNameError(f"--batch {name}: '{name}' is a parameter the text makes, not a bound input, so --batch "
                            f"cannot batch it: a parameter is shared by every example (vmap's in_dims=None). "
                            f"--wrt {name} with {batched} gives its per-example gradients; to give each example values "
                            f"of its own, make them an input: bind W=VALUE with a batch axis, write W in the text in "
                            f"its place, and --batch W")
    return JacNameError(f"--batch {name}: no input named '{name}' is bound" + (f" (inputs: {inputs})" if shapes else "")
                        + did_you_mean(name, shapes))


def _made_by(expr: str, shapes: dict) -> tuple:
    """The inputs ``expr`` makes itself (its parameters), read off a shapes-only parse; () when the parse
    fails (the refusal then stays the plain one, and the parse's own error comes later)."""
    from ..lang.parser import parse

    try:
        graph = parse(expr, {n: tuple(s) for n, s in shapes.items()}, shapes_only=True)
    except JacError:
        return ()
    return tuple(n for n in graph.inputs if n not in shapes)


def stack(parts: list, shape: tuple, dtype) -> np.ndarray:
    """Per-example arrays of ``shape`` stacked on a new first axis (an empty batch too)."""
    out = np.empty((len(parts),) + tuple(shape), dtype=dtype)
    for b, part in enumerate(parts):
        out[b] = part
    return out


def per_example(value, batch: Batch, name: str | None, shape: tuple, what: str) -> np.ndarray:
    """A ``--v`` / ``--tangent`` value that carries the batch axis, as ``(B, *shape)``:
    for a batched input at its axis (``name`` in ``batch.axes``), else first."""
    value = np.asarray(value)
    axis = batch.axes.get(name, 0) if name is not None else 0
    full = list(shape)
    full.insert(axis, batch.size)
    if value.shape != tuple(full):
        raise JacShapeError(f"{what} has shape {fmt(value.shape)}, but with the batch of {batch.size} it must have "
                            f"shape {fmt(tuple(full))} (the batch axis at {axis}, then one example's {fmt(shape)})")
    return c_ordered(np.moveaxis(value, axis, 0))


@dataclass(frozen=True)
class BatchPlan:
    """The plans of one example, per output (``None`` for a lone output), and what the
    batch adds: every example runs its output's plan in turn, and the results are stacked,
    so the peak is one example's plan plus the stacked results (B times an example's)."""

    plans: dict  # output name (None for one output) -> Plan, HessianPlan or DerivativePlan
    batch: Batch | None
    budget: int
    value_bytes: int = 0  # one example's output values

    itemsize: int = 8
    kernel_bytes: int = 0  # the bound of the examples' compiled kernel, when one will be tried (session 42)
    case_bytes: int = 0  # a jac run case's beside (h42-runbatch): its vjps' and jvps' needs, its comparisons' block
    nan_mask: bool = True  # first_nonfinite's mask of the stack is made (the reports'; not a jac run case's)

    @property
    def example_result_bytes(self) -> int:
        """One example's results as they are stacked: dense (a structured Jacobian too)."""
        return sum(self._dense_bytes(p) for p in self.plans.values()) + self.value_bytes

    def _dense_bytes(self, plan) -> int:
        if hasattr(plan, "inputs") and hasattr(plan, "y_shape"):  # a Jacobian plan: each block made dense
            m = int(np.prod(plan.y_shape, dtype=np.int64))
            return sum(m * int(np.prod(p.x_shape, dtype=np.int64)) for p in plan.inputs.values()) * self.itemsize
        return plan.result_bytes

    @property
    def stacked_bytes(self) -> int:
        return self.example_result_bytes * self.batch.size if self.batch else 0

    @property
    def held_bytes(self) -> int:
        """What a batch holds beside the stack and one example's plan (session 42): example 0's values
        (its problem, kept for the report) and the previous example's while the next one's are made,
        and the mask ``first_nonfinite`` makes of the stack (a byte per stacked element), when ``nan_mask``."""
        values = max((getattr(p, "values_bytes", 0) for p in self.plans.values()), default=0)
        mask = self.stacked_bytes // self.itemsize if self.nan_mask else 0
        return 2 * values + mask if self.batch else 0

    @property
    def base_bytes(self) -> int:
        """The peak without the examples' kernel: every output's plan (their results are kept
        together), the stacked results, one example's dense results on their way into the stack, and
        what :attr:`held_bytes` counts; and :attr:`case_bytes`, what a batched ``jac run`` case holds
        beside them (its vjps' and jvps' stacks and passes, its comparisons' temporaries: ``suite._case_need``)."""
        per_example = sum(p.peak_bytes for p in self.plans.values())
        return per_example + (self.stacked_bytes + self.example_result_bytes + self.held_bytes + self.case_bytes
                              if self.batch else 0)

    @property
    def peak_bytes(self) -> int:
        """:attr:`base_bytes`, and the examples' compiled kernel (its bound: its node values over
        the basis, its dense results and their comparison) run beside them."""
        return self.base_bytes + (self.kernel_bytes if self.batch else 0)

    @property
    def refusal(self) -> str | None:
        for name, p in self.plans.items():
            if p.refusal:
                return p.refusal if name is None else f"output {name}: {p.refusal}"
        if self.batch and self.peak_bytes > self.budget:
            return (f"the batch of {self.batch.size:,} examples needs {self.stacked_bytes:,} bytes of results "
                    f"({fmt_bytes(self.stacked_bytes)}: {fmt_bytes(self.example_result_bytes)} per example) and "
                    f"{fmt_bytes(self.peak_bytes)} at the peak, more than the memory budget of "
                    f"{fmt_bytes(self.budget)}; "
                    "no derivative was computed and nothing stacked (the first example's value alone, to learn "
                    "the shapes). Split the batch, or raise --max-memory")
        return None

    def explain(self) -> list:
        lines = []
        for name, p in self.plans.items():
            inner = p.explain()
            if name is not None:
                inner = [f"output {name}: {inner[0]}"] + inner[1:]
            lines += inner
        if self.batch:
            axes = ", ".join(f"{n}:{a}" for n, a in self.batch.axes.items())
            lines += [f"batch: {self.batch.size:,} examples (batched {axes}; other inputs shared), each by the plan "
                      f"above, one after another",
                      f"  results per example {fmt_bytes(self.example_result_bytes)}, stacked "
                      f"{fmt_bytes(self.stacked_bytes)}; beside them two examples' values"
                      f"{' and the stack' + chr(39) + 's NaN mask' if self.nan_mask else ''} "
                      f"{fmt_bytes(self.held_bytes)}" + (f", the examples' compiled kernel at most "
                                                          f"{fmt_bytes(self.kernel_bytes)}" if self.kernel_bytes
                                                          else "")
                      + (f", the case's vjps, jvps and comparisons {fmt_bytes(self.case_bytes)}"
                         if self.case_bytes else ""),
                      f"  predicted peak {fmt_bytes(self.peak_bytes)} of the budget {fmt_bytes(self.budget)}"]
            refusal = self.refusal
            if refusal and not any(p.refusal for p in self.plans.values()):
                lines.append(f"  refused: {refusal}")
        return lines

    def to_dict(self) -> dict:
        dicts = {name: p.to_dict() for name, p in self.plans.items()}
        out = dict(dicts[None]) if None in dicts else {"outputs": dicts}
        if self.batch:
            out["batch"] = {**self.batch.as_dict(), "example_result_bytes": self.example_result_bytes,
                            "stacked_bytes": self.stacked_bytes, "peak_bytes": self.peak_bytes,
                            "refused": self.refusal}
        return out


class Stacked:
    """Per-example results stacked as they come: each key's array is allocated at its first
    example, ``(B, *shape)``, and filled in place (no list of parts, no second copy).
    Without a batch (``size`` None) a key holds its one value as it is."""

    def __init__(self, size: int | None):
        self.size = size
        self.arrays: dict = {}

    def put(self, key, b: int, value) -> None:
        if self.size is None:
            self.arrays[key] = value
            return
        value = np.asarray(value)
        if key not in self.arrays:
            self.arrays[key] = np.empty((self.size,) + value.shape, dtype=value.dtype)
        self.arrays[key][b] = value

    def __getitem__(self, key):
        return self.arrays[key]


def first_nonfinite(arrays) -> int | None:
    """The first example (index along axis 0) where one of the stacked ``arrays`` holds a
    NaN or an infinity, or None."""
    first = None
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind not in "fc" or a.ndim == 0 or np.isfinite(a).all():
            continue
        bad = ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1)
        b = int(np.argmax(bad))
        first = b if first is None else min(first, b)
    return first
