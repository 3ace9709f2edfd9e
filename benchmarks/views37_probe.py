"""False refusals of working PyTorch code (session 37, h37-views): copies, views, (values, indices) pairs, dicts
held by modules. Each text is a short PyTorch program, run by PyTorch itself (float64 leaves with
requires_grad=True, a backward pass per output element) and by jac (value and Jacobian through
jacobi_cli.tools.api), classified as in benchmarks/raises35_probe.py (whose runners it uses): AGREE,
REFUSED-AS-LIB, JAC-ANSWERS-WHERE-LIB-RAISES (a silent answer), JAC-REFUSES-WHERE-LIB-ANSWERS (a false refusal),
WRONG, CRASH.

- copies: ``g = OP(u)`` of a computed ``u`` for PyTorch's calls that copy (flip, roll, repeat_interleave, tile,
  kron, cat, index_select, masked_select, advanced indexing, ``.contiguous()`` / ``.reshape`` of a non-contiguous
  tensor, ``.float()``, dropout in training, ...) and those that return a view or the tensor itself (``.T``,
  ``.contiguous()`` of a contiguous one, ``.double()`` of float64, dropout in eval mode or with p=0), each with no
  write and with one in-place write into ``g`` afterwards; the output holds ``g`` and ``u`` both, so a write
  that PyTorch makes through a view (``u`` changed) and jac would not follow is WRONG, not AGREE;
- pairs: ``.max(0)[0]``, ``.sort()[1]``, ``.topk(k).values``, ``torch.median(u, 0)[0]``, ``.mode``, ``kthvalue``,
  ``cummax``, their named fields and tuple unpacking, without and with a write into the values afterwards;
- modules: ``nn.Module`` classes holding dicts (``self.cfg['k']``), ``nn.ModuleDict``, ``nn.ParameterDict``,
  ``nn.ParameterList``, ``getattr(self, name)``, ``setattr(self, name, m)`` (parameters made deterministic, so
  PyTorch's values are jac's).

A refusal of a write that PyTorch makes through a view or alias (the source ``u`` changed) is jac's documented
choice (its values do not follow a write through a view): counted JAC-REFUSES-WHERE-LIB-ANSWERS but shown apart
as "of which writes through a view (documented)".

    PYTHONPATH=. /work/venv/bin/python benchmarks/views37_probe.py [-v] [-k SUBSTRING]

Prints one line per text not AGREE / REFUSED-AS-LIB (all with -v), then the counts. Run by hand (1-2 minutes).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raises35_probe as r35  # noqa: E402

VECTOR = "u = torch.sin(x) * 2"
MATRIX = "u = torch.sin(A) + 1"
NONCONTIGUOUS = "u = (torch.sin(A) + 1).T"

# (source, call with {u}): PyTorch's copies, views and the calls that return the tensor itself
CALLS = [(VECTOR, t) for t in [
    "torch.flip({u}, [0])", "{u}.flip(0)", "torch.roll({u}, 1)", "{u}.roll(-1)", "{u}.repeat_interleave(2)",
    "torch.repeat_interleave({u}, 2)", "{u}.repeat(2)", "torch.tile({u}, (2,))", "{u}.tile((2,))",
    "torch.kron({u}, y)", "torch.cat([{u}, {u}])", "torch.cat([{u}])", "torch.stack([{u}, {u}])", "torch.hstack([{u}])",
    "torch.index_select({u}, 0, torch.tensor([2, 0]))", "{u}.index_select(0, torch.tensor([1]))",
    "torch.masked_select({u}, {u} > 0)", "{u}.masked_select({u} > -5)", "{u}[[0, 2]]", "{u}[{u} > 0]",
    "torch.take({u}, torch.tensor([2, 1]))", "torch.gather({u}, 0, torch.tensor([1, 1, 0]))", "{u}.clone()",
    "torch.clone({u})", "{u}.float()", "{u}.to(torch.float32)", "{u}.type(torch.float32)", "{u}.half().double()",
    "{u}.double()", "{u}.to(torch.float64)", "{u}.to(torch.float64, copy=True)", "{u}.type(torch.float64)",
    "{u}.contiguous()", "{u}.reshape(3)", "{u}.reshape(1, 3)", "{u}.flatten()", "{u}.view(3, 1)", "{u}.detach()",
    "{u}[1:]", "{u}[::2]", "{u}[:2].contiguous()", "{u}.unsqueeze(0).repeat(2, 1)",
    "F.dropout({u}, 0.0)", "F.dropout({u}, 0.5, training=False)", "F.dropout({u}, p=1.0)",
    "torch.nn.Dropout(0.3).eval()({u})", "torch.nn.Dropout(0.0)({u})", "torch.cumsum({u}, 0)", "F.pad({u}, (1, 1))",
    "torch.diag({u})", "torch.where({u} > 0, {u}, 0.0)", "{u}.expand(2, 3).contiguous()", "{u}.expand(2, 3)",
    "torch.narrow({u}, 0, 1, 2)", "{u}.sort().values", "torch.atleast_2d({u})",
]] + [(MATRIX, t) for t in [
    "torch.fliplr({u})", "torch.flipud({u})", "torch.rot90({u})", "torch.roll({u}, 1, 0)", "{u}.flip(0, 1)",
    "{u}[[0, 2]]", "{u}[:, [0, 2]]", "{u}[0, [0, 1]]", "{u}[{u} > 1]", "torch.diag({u})", "{u}.diag()",
    "torch.diagonal({u})", "{u}.diagonal()", "{u}.T.contiguous()", "{u}.contiguous()", "{u}[:, 0].contiguous()",
    "{u}[0].contiguous()", "{u}.T.reshape(9)", "{u}.reshape(9)", "{u}.T.flatten()", "{u}.flatten()",
    "{u}.T.ravel()", "torch.ravel({u}.T)", "{u}.t().reshape(-1)", "{u}[:, :2].reshape(6)", "{u}[:2].reshape(6)",
    "torch.reshape({u}.T, (9,))", "{u}.T.reshape(3, 3)", "{u}.mT.contiguous()", "{u}.T.clone()", "torch.tril({u})",
    "{u}.repeat(2, 1)", "torch.cat([{u}, {u}], 1)", "{u}.T", "{u}.permute(1, 0).contiguous()",
    "{u}.transpose(0, 1).reshape(9)", "{u}[::2].reshape(6)", "{u}.T.float()", "{u}.index_select(1, torch.tensor([2]))",
    "{u}.T.flatten(0)", "{u}.view(9)", "{u}.T.to(torch.float32)",
]] + [(NONCONTIGUOUS, t) for t in [
    "{u}.contiguous()", "{u}.reshape(9)", "{u}.flatten()", "{u}.clone()", "{u}.float()", "{u}.T.contiguous()",
    "{u}.reshape(3, 3)",
]]

WRITES = ["g.add_(1.0)", "g[0] = 5.0", "g.mul_(2)"]


def copy_cases() -> list:
    out = []
    for source, call in CALLS:
        g = call.format(u="u")
        read = "torch.cat([(g * g).reshape(-1), u.reshape(-1)])"
        out.append(f"{source}; g = {g}; {read}")
        for write in WRITES:
            out.append(f"{source}; g = {g}; {write}; {read}")
        out.append(f"{source}; g = {g}; u.add_(1.0); {read}")
    return out


PAIRS = ["u.max(0)[0]", "u.max(0)[1]", "u.min(1)[0]", "u.min(1)[1]", "torch.max(u, dim=0)[0]", "torch.max(u, 0).values",
         "torch.max(u, 1).indices", "u.max(dim=1, keepdim=True)[0]", "torch.min(u, 1)[0]", "u.sort()[0]",
         "u.sort(dim=0)[1]", "u.sort(descending=True).values", "torch.sort(u, 1)[0]", "torch.sort(u, 0).indices",
         "u.topk(2)[0]", "u.topk(2).indices", "torch.topk(u, 2, dim=0)[0]", "torch.topk(u, 1, largest=False).values",
         "torch.median(u, 0)[0]", "u.median(1).values", "u.median(0)[1]", "u.mode(0)[0]", "torch.mode(u, 1).values",
         "u.kthvalue(2, 0)[0]", "torch.kthvalue(u, 1, 1).indices", "torch.kthvalue(u, 2).values", "u.cummax(0)[0]",
         "torch.cummax(u, 1).values", "torch.cummin(u, 0)[1]", "torch.cummin(u, 1).values", "u.cummax(dim=0).indices",
         "torch.nanmedian(u, 0)[0]", "torch.var_mean(u)[0]", "torch.std_mean(u, 0)[1]", "torch.aminmax(u).max",
         "torch.aminmax(u, dim=0)[0]", "torch.linalg.slogdet(u)[1]", "torch.linalg.slogdet(u).logabsdet",
         "torch.linalg.eigh(u @ u.T)[0]", "torch.linalg.eigh(u @ u.T).eigenvalues", "torch.linalg.qr(u)[1]",
         "torch.linalg.qr(u).Q", "torch.max(u, 0)[0] + torch.min(u, 0)[0]", "u.max(-1)[0]", "u.max(0)[0][1]"]
UNPACKED = ["v, i = u.max(0)", "v, i = torch.max(u, dim=1)", "v, i = u.sort()", "v, i = torch.sort(u, 0)",
            "v, i = u.topk(2)", "v, _ = torch.topk(u, 2, dim=0)", "v, i = torch.median(u, 0)", "v, i = u.mode(1)",
            "v, i = u.kthvalue(2, 0)", "v, i = torch.cummax(u, 0)", "v, i = u.cummin(1)", "v, i = u.min(dim=0)",
            "v, i = torch.min(u, 0, keepdim=True)"]


AFTER = ["p = u.max(0); u.add_(1.0); p.values", "p = torch.cummax(u, 0); u.add_(1.0); p.values",
         "p = torch.cummax(u, 0); u.add_(1.0); p.indices * 1", "p = torch.sort(u, 1); p.indices.add_(1); p.values",
         "v, i = u.max(0); i.add_(1); v * 1", "v, i = u.sort(0); i[0] = 0; v * 1", "v, i = u.topk(2); i.mul_(1); v",
         "v, i = u.max(0); i.add_(1); i * 1", "m, s = torch.var_mean(u, 0); u.add_(1.0); s",
         "s, m = torch.std_mean(u, 0); s.mul_(2); m", "s, m = torch.std_mean(u, 0); m.mul_(2); s",
         "lo, hi = torch.aminmax(u); lo.mul_(2); hi", "U, S, Vh = torch.linalg.svd(u); S.mul_(2); U.sum() + Vh.sum()",
         "U, S, Vh = torch.linalg.svd(u); u.add_(1.0); S", "U, S, V = torch.svd(u); V.mul_(2); S",
         "Q, R = torch.linalg.qr(u); u.add_(1.0); Q", "L, Q = torch.linalg.eigh(u + u.T); u.add_(1.0); L",
         "sg, la = torch.linalg.slogdet(u); la.mul_(2); sg * la", "sg, la = torch.linalg.slogdet(u); sg.mul_(2); la",
         "g = u.max(0)[0].clone(); g.mul_(2); g", "g = torch.sort(u, 0)[0]; h = g[1:]; h.mul_(2); g * 1"]


def pair_cases() -> list:
    out = [f"{MATRIX}; {t}" for t in AFTER]
    for pair in PAIRS:
        out.append(f"{MATRIX}; g = {pair}; g * 1")
        out.append(f"{MATRIX}; g = {pair}; g.mul_(2); g * 1")
        out.append(f"{MATRIX}; g = {pair}; u.add_(1.0); g * 1")
    for pair in UNPACKED:
        out.append(f"{MATRIX}; {pair}; v * 1")
        out.append(f"{MATRIX}; {pair}; v * i")
        out.append(f"{MATRIX}; {pair}; v.mul_(2); v * 1")
        out.append(f"{MATRIX}; {pair}; v[0] = 3.0; torch.cat([v.reshape(-1), u.reshape(-1)])")
    return out


HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
MODULES = {
    "cfg_dict": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cfg = {'scale': 2.0, 'shift': 0.5}
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
    def forward(self, x):
        return torch.tanh(x * self.w * self.cfg['scale'] + self.cfg['shift'])
""",
    "module_dict": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.acts = nn.ModuleDict({'a': nn.Tanh(), 'b': nn.Softplus()})
    def forward(self, x):
        return self.acts['a'](x) + self.acts['b'](x)
""",
    "module_dict_loop": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.acts = nn.ModuleDict({'a': nn.Tanh(), 'b': nn.Sigmoid()})
    def forward(self, x):
        for name in self.acts:
            x = self.acts[name](x)
        return x
""",
    "plain_dict_of_modules": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.acts = {'a': nn.Tanh(), 'b': nn.Softplus()}
    def forward(self, x):
        return self.acts['a'](x) * self.acts['b'](x)
""",
    "dict_of_functions": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.acts = {'a': torch.tanh, 'b': torch.sigmoid}
    def forward(self, x):
        return self.acts['a'](x) + self.acts['b'](x)
""",
    "parameter_dict": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterDict({'w': nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64)),
                                    'b': nn.Parameter(torch.full((3,), 0.25, dtype=torch.float64))})
    def forward(self, x):
        return torch.tanh(x * self.ps['w'] + self.ps['b'])
""",
    "parameter_list": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterList([nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64)) for _ in range(2)])
    def forward(self, x):
        for p in self.ps:
            x = torch.tanh(x * p)
        return x
""",
    "getattr_self": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
        self.act = nn.Tanh()
    def forward(self, x):
        return getattr(self, 'act')(x * getattr(self, 'w'))
""",
    "getattr_default": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
    def forward(self, x):
        scale = getattr(self, 'scale', 2.0)
        return torch.tanh(x * self.w * scale)
""",
    "getattr_loop": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.act0 = nn.Tanh()
        self.act1 = nn.Softplus()
    def forward(self, x):
        for i in range(2):
            x = getattr(self, f'act{i}')(x)
        return x
""",
    "setattr_loop": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        for i in range(2):
            setattr(self, f'act{i}', nn.Tanh() if i == 0 else nn.Sigmoid())
    def forward(self, x):
        return self.act1(self.act0(x))
""",
    "setattr_parameter": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        setattr(self, 'w', nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64)))
        setattr(self, 'scale', 3.0)
    def forward(self, x):
        return torch.sin(x * self.w) * self.scale
""",
    "hasattr": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
    def forward(self, x):
        if hasattr(self, 'w'):
            x = x * self.w
        return torch.tanh(x)
""",
    "cfg_nested": """
class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
    def forward(self, x):
        h = x * self.w
        if self.cfg['act'] == 'tanh':
            h = torch.tanh(h)
        return h * self.cfg['scale']['out']
""",
    "cfg_items": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gains = {'a': 1.5, 'b': -0.5}
    def forward(self, x):
        total = 0.0
        for k, g in self.gains.items():
            total = total + g * torch.sin(x)
        return total
""",
    "cfg_get": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cfg = {'scale': 2.0}
    def forward(self, x):
        return torch.tanh(x * self.cfg.get('scale', 1.0) + self.cfg.get('shift', 0.0))
""",
    "dict_of_parameters_plain": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
        self.table = {'w': self.w}
    def forward(self, x):
        return torch.tanh(x * self.table['w'])
""",
    "parameter_order": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterDict({'w': nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64)),
                                    'b': nn.Parameter(torch.full((3,), 0.25, dtype=torch.float64))})
        self.scale = nn.Parameter(torch.full((3,), 3.0, dtype=torch.float64))
        self.pl = nn.ParameterList([nn.Parameter(torch.full((3,), 2.0, dtype=torch.float64) * (k + 1))
                                    for k in range(2)])
    def forward(self, x):
        ps = list(self.parameters())
        return x * ps[0] + ps[1] * ps[2] - ps[4] * len(ps) + sum(p.sum() for p in self.pl)
""",
    "parameter_dict_items": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.ps = nn.ParameterDict({'w': nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64)),
                                    'b': nn.Parameter(torch.full((3,), 0.25, dtype=torch.float64))})
    def forward(self, x):
        out = x
        for k, p in self.ps.items():
            out = torch.tanh(out * p)
        return out + self.ps['b'] * len(self.ps)
""",
    "getattr_parameter_list": """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w0 = nn.Parameter(torch.linspace(0.5, 1.5, 3, dtype=torch.float64))
        self.w1 = nn.Parameter(torch.full((3,), 0.25, dtype=torch.float64))
    def forward(self, x):
        ws = [getattr(self, f'w{i}') for i in range(2)]
        return torch.tanh(x * ws[0] + ws[1])
""",
}
MADE = {"cfg_nested": "Net({'act': 'tanh', 'scale': {'out': 2.0}})"}


def module_cases() -> list:
    out = []
    for name, body in MODULES.items():
        made = MADE.get(name, "Net()")
        out.append(f"{HEAD}{body}net = {made}\nnet(x)")
        out.append(f"{HEAD}{body}net = {made}.double()\nout = net(x)\nout = out.clone()\nout.mul_(2)\nout")
    return out


def changed_source(text: str) -> bool:
    """Does PyTorch's run of ``text`` change the name it does not write (``u`` for a write into ``g``, ``g`` for one
    into ``u``): a write through a view or alias?"""
    import torch
    import torch.nn.functional as F
    pieces = text.split("; ")
    written = [k for k, p in enumerate(pieces) if "_(" in p or "] =" in p]
    if len(written) != 1:
        return False
    target = pieces[written[0]].split(".")[0].split("[")[0]
    other = "u" if target == "g" else "g"
    found = []
    for body in ("\n".join(pieces[:-1]), "\n".join(pieces[:written[0]] + pieces[written[0] + 1:-1])):
        scope = {"torch": torch, "F": F, **{k: torch.tensor(r35.INPUTS[k], dtype=torch.float64) for k in
                                           r35.names_in(text)}}
        try:
            exec(body, scope)  # noqa: S102 - the probe's own texts
        except Exception:  # noqa: BLE001
            return False
        found.append(scope.get(other))
    return all(isinstance(f, torch.Tensor) for f in found) and not torch.equal(found[0].float(), found[1].float())


def float32_only(text: str) -> bool:
    """A WRONG text converting to float32 (``.float()``, ``.to(torch.float32)``) whose values and Jacobians agree
    to float32's rounding: jac computes a conversion as the identity (documented: the value stays in --dtype)."""
    if not any(w in text for w in (".float()", "float32")):
        return False
    theirs, ours = r35.library("torch", text), r35.jac_run(text)
    if theirs[0] != "ok" or ours[0] != "ok":
        return False
    close = lambda a, b: np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-6, atol=1e-6)  # noqa: E731
    return close(theirs[1], ours[1]) and all(close(theirs[2][k], ours[2][k]) for k in theirs[2] if k in ours[2])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts, parts = collections.Counter(), collections.defaultdict(collections.Counter)
    documented = rounded = 0
    for part, made in [("copies", copy_cases()), ("pairs", pair_cases()), ("modules", module_cases())]:
        for text in made:
            if options.k not in text:
                continue
            status, ours, theirs = r35.classify("torch", text)
            view = status == "JAC-REFUSES-WHERE-LIB-ANSWERS" and "shares its memory" in ours \
                and changed_source(text)
            documented += view
            rounding = status == "WRONG" and float32_only(text)
            rounded += rounding
            counts[status] += 1
            parts[part][status] += 1
            if options.v or status not in ("AGREE", "REFUSED-AS-LIB") and not view and not rounding:
                print(f"{status:30s} {text!r}\n{'':32s}jac: {ours}\n{'':32s}lib: {theirs}")
    for part, found in parts.items():
        print(f"  {part}: " + ", ".join(f"{k} {found[k]}" for k in r35.STATUSES if found[k]))
    print(f"\nviews37 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in r35.STATUSES))
    print(f"  of which JAC-REFUSES-WHERE-LIB-ANSWERS of a write PyTorch makes through a view or alias (documented): "
          f"{documented}")
    print(f"  of which WRONG only by float32's rounding of .float() / .to(torch.float32) (documented: jac computes a "
          f"conversion as the identity): {rounded}")
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] > rounded or counts["CRASH"] else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
