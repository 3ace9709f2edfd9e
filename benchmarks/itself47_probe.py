"""PyTorch's calls that answer with their operand itself (session 47, lead): every call of ``calls`` × every write of
``writes`` × two outputs, run by PyTorch (float64, the input requiring grad) and by jac's Python API, counted as
AGREE, WRONG (shape or values differ), JAC-REFUSES, JAC-ANSWERS (PyTorch raises), BOTH-RAISE, CRASH.

    PYTHONPATH=. /work/venv/bin/python benchmarks/itself47_probe.py [-v]

``-v`` lists the refusals and answers-where-PyTorch-raises too. Main before the session's fix (4b1eedf2): WRONG 255,
AGREE 493, JAC-REFUSES 364, BOTH-RAISE 6, JAC-ANSWERS 2; after: WRONG 0, AGREE 1010, JAC-REFUSES 102, BOTH-RAISE 8.
"""
import sys

import numpy as np
import torch

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
calls = ["t2.flatten(1, 1)", "t2.flatten(0, 0)", "t2.flatten(-1, -1)", "t2.flatten(start_dim=1)", "torch.flatten(t2, 1, 1)",
         "t2.flatten(0, 1)", "t2.flatten()", "t2.contiguous()", "t2.double()", "t2.type_as(t2)", "torch.as_tensor(t2)", "t2.cpu()",
         "torch.atleast_2d(t2)", "torch.atleast_1d(t2)", "torch.atleast_3d(t2)", "t2.resolve_conj()", "t2.conj()", "t2.real", "torch.real(t2)",
         "t2.sum_to_size(3, 1)", "t2.sum_to_size(1, 1)", "torch.asarray(t2)", "t2.to('cpu')", "t2.to(torch.device('cpu'))", "t2.resolve_neg()", "+t2", "t2.positive()",
         "torch.positive(t2)", "t2.to_dense()", "t2.view(3, 1)", "t2.reshape(3, 1)", "t2.detach()", "t2[...]", "t2.squeeze(0)", "t2.T", "-t2", "t2.conj_physical()",
         "t2.cpu().flatten(1, 1)", "t2.clone()", "t2 * 1"]
writes = ["t2.unsqueeze_(0)", "t2.t_()", "t2.squeeze_(1)", "t3.unsqueeze_(0)", "t3.t_()", "t2.add_(1)", "t3.mul_(2)",
          "t3[0] = 7.0", "t2[1] = 9.0", "t3 += 1", "t2.flatten(1, 1).unsqueeze_(0)", "t3.flatten(1, 1).t_()", "torch.atleast_2d(t2).t_()", "t2.cpu().t_()"]
x = np.array([[0.5], [1.0], [2.0]])
counts = {}
for c in calls:
    for w in writes:
        for out in ("t3 * 2", "t2 * 2"):
            text = f"t2 = x * 1\nt3 = {c}\n{w}\n{out}"
            try:
                t2 = torch.tensor(x, requires_grad=True) * 1
                t3 = eval(c)
                exec(w)
                ref = eval(out).detach().numpy()
            except Exception as e:
                ref = e
            try:
                ours = np.asarray(api.evaluate(text, {"x": x}))
            except JacError as e:
                ours = e
            except Exception as e:
                ours = f"CRASH {type(e).__name__}: {e}"
            if isinstance(ours, str):
                k = "CRASH"
            elif isinstance(ours, Exception):
                k = "BOTH-RAISE" if isinstance(ref, Exception) else "JAC-REFUSES"
            elif isinstance(ref, Exception):
                k = "JAC-ANSWERS"
            elif ours.shape != ref.shape or not np.allclose(ours, ref):
                k = "WRONG"
            else:
                k = "AGREE"
            counts[k] = counts.get(k, 0) + 1
            if k in ("WRONG", "CRASH") or (k in ("JAC-ANSWERS", "JAC-REFUSES") and "-v" in sys.argv):
                print(k, "|", c, "|", w, "|", out, "|", ours if k == "CRASH" else (getattr(ours, "shape", ""), getattr(ref, "shape", str(ref)[:60])))
print(counts)
