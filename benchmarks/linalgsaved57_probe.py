"""Session 57 (h57-fuzz2): a write in place into the operands or the result of 18 linear-algebra calls, after the
call, run by PyTorch 2.13 (does its backward raise?) and by jac (does it refuse with PyTorch's words?); prints each
disagreement.

    PYTHONPATH=. python benchmarks/linalgsaved57_probe.py
"""
import numpy as np
import torch
from jacobi_cli.tools import api
from jacobi_cli.errors import JacError
X = np.array([[2.0, 0.3, -0.2], [0.1, 1.5, 0.4], [-0.3, 0.2, 1.8]])
calls = ["torch.linalg.cholesky(S)", "torch.linalg.eigh(S)[0]", "torch.linalg.eigh(S)[1]", "torch.linalg.qr(A)[0]", "torch.linalg.qr(A)[1]",
 "torch.linalg.lstsq(A, b).solution", "torch.linalg.pinv(A)", "torch.linalg.matrix_exp(A)", "torch.linalg.eigvalsh(S)",
 "torch.linalg.solve_triangular(torch.triu(A), b, upper=True)", "torch.cholesky_solve(b, torch.linalg.cholesky(S))",
 "torch.linalg.svdvals(A)", "torch.linalg.slogdet(A)[1]", "torch.linalg.cond(A)", "torch.linalg.matrix_power(A, 3)", "torch.linalg.lu_factor(A)[0]", "torch.linalg.inv_ex(A)[0]", "torch.linalg.cross(A, A.flip(0))"]
pre = "A = x * 1.0; S = A @ A.T + torch.eye(3); b = A[:, :2] * 1.0; "
for c in calls:
    for w in ("A", "S", "b", "g"):
        if w in ("S", "b") and w not in c.split("(", 1)[1]:
            continue
        text = pre + f"g = {c}; {w}.mul_(2); g.sum()"
        def f(x):
            sc = {"torch": torch, "x": x}
            parts = text.split("; ")
            for l in parts[:-1]: exec(l, sc)
            return eval(parts[-1], sc)
        try:
            torch.autograd.functional.jacobian(f, torch.tensor(X)); t = "ans"
        except RuntimeError as e:
            t = "raise" if "inplace" in str(e) else "err:" + str(e)[:40]
        try:
            api.jacobian(text, {"x": X}); j = "ans"
        except JacError as e:
            j = "raise" if "backward pass raises" in str(e) else "ref:" + str(e)[:50]
        except Exception as e:
            j = "CRASH " + repr(e)[:60]
        if t != j:
            print(f"{c:60s} write {w}: torch {t}, jac {j}")
