"""PyTorch's inference tensors: what a function decorated ``@torch.inference_mode()`` returns (lang/decorators.py
reads it as ``@torch.no_grad()``: the result detached). PyTorch refuses to save one for backward ("Inference tensors
cannot be saved for backward"), so ``f(x) * x`` raises where ``f(x) + x`` does not: a product's derivative by ``x`` is
``f(x)``, which autograd would have to keep; a sum's is 1.

jac refuses the same texts, by a walk over the nodes the parse built (:func:`check`, once the text is read): a node
that needs a derivative (an input reaches it through differentiable ops), one of whose arguments is an inference
tensor, is refused unless the text wrote it as a ``+`` or ``-``, or as a call PyTorch saves no argument of
(``SAVES_NONE``: ``torch.cat``, ``torch.stack``, ``torch.where``, ``torch.add``...). A view of an inference tensor is
one (a reshape, a transpose, a basic index, ``.detach()``), as in PyTorch; any other op's result is a normal tensor,
and so is a copy (``.clone()``: :func:`copied`, a node of its own, since jac's clone is its argument's node).
The walk may refuse where PyTorch answers (a call outside ``SAVES_NONE`` that saves nothing); it never answers where
PyTorch raises.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import JacValueError
from ..ir.ops import OPS

# the calls whose backward saves none of their tensor arguments (checked against PyTorch 2.13: tests/test_parity_odds27)
SAVES_NONE = frozenset({"+", "-", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "where", "add", "sub",
                        "subtract"})
COPIES = frozenset({"clone", "copy", "contiguous"})
_WORD = re.compile(r"[+-]|\w+")


def mark(lowering, value) -> None:
    """The arrays ``value`` holds (a tracer, or a tuple of them) are inference tensors."""
    lowering.inference.update(v.id for v in (value if isinstance(value, (tuple, list)) else [value]))


def copied(lowering, value, position: int):
    """``x.clone()`` of an inference tensor ``x``: a normal tensor, as PyTorch's clone is (a node of its own)."""
    if value.id not in _inference(lowering):
        return value
    out = lowering.b.apply("detach", value, position=position)
    lowering.copies.add(out.id)
    return out


def _is_view(node) -> bool:
    op = OPS.get(node.op)
    if op is None or op.view is None or not node.args:
        return False
    if node.op == "getitem":  # a basic index is a view, an advanced one (an array of positions) a copy
        index = node.params.get("index")
        return not any(isinstance(i, (np.ndarray, list)) for i in (index if isinstance(index, tuple) else (index,)))
    return op.view == "always"


def _inference(lowering) -> set:
    """The ids of the inference tensors among the nodes built so far: those marked, and views of them."""
    found = set(lowering.inference)
    for node in lowering.b.nodes:
        if node.id not in found and node.id not in lowering.copies and _is_view(node) and node.args[0] in found:
            found.add(node.id)
    return found


def check(lowering) -> None:
    """Refuse the first node that would save an inference tensor for backward, as PyTorch raises there."""
    found = _inference(lowering)
    nodes, text = lowering.b.nodes, lowering.source.text
    grad = []
    for node in nodes:
        op = OPS.get(node.op)
        needs = node.op == "input" or bool(node.args) and not (op is not None and op.nondiff) and \
            node.id not in found and any(grad[a] for a in node.args)
        grad.append(needs)
        if not needs or not any(a in found for a in node.args) or node.op == "input":
            continue
        word = _WORD.match(text, node.position) if node.position is not None else None
        if word is not None and word.group() in SAVES_NONE:
            continue
        raise JacValueError("an inference tensor (a result of a function decorated @torch.inference_mode(), or "
                            "assigned inside 'with torch.inference_mode()') is used where PyTorch saves it for "
                            "backward, and PyTorch raises there ('Inference tensors cannot be saved for backward'): "
                            "use torch.no_grad() for a constant that takes part in the derivative, or clone the "
                            "result (f(x).clone())", node.position)
