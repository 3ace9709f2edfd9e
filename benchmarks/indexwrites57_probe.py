"""Session 57 (h57-fuzz2): 45 texts reading with an index array computed from the inputs (y[y.argsort()], topk's
indices, A[:, idx], A[idx, 0]) beside writes in place, views, no_grad, detach and .view of reductions, each run by
PyTorch 2.13 (float64; value and Jacobian, or the error it raises) and by jac, and classified: AGREE (to 1e-12),
BOTH-RAISE, JAC-REFUSES (refused where PyTorch answers), JAC-ANSWERS (answered where PyTorch raises), WRONG, CRASH.

    PYTHONPATH=. python benchmarks/indexwrites57_probe.py
"""
import traceback
import numpy as np
import torch
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.3, -1.2, 2.1, 0.7, -0.4, 1.5])
A = np.array([[0.3, -1.2, 2.1], [0.7, -0.4, 1.5], [1.1, 0.2, -0.9], [-2.0, 0.55, 0.81]])
T = [
 # 1-8 argsort reads + writes
 ("y = x * 1.0; i = y.argsort(); z = y[i]; y.add_(1); z", X),
 ("y = x * 1.0; i = y.argsort(); y.mul_(2); y[i]", X),
 ("y = x * 1.0; z = y[y.argsort()]; z[0] = 5.0; z * y", X),
 ("y = x.clone(); z = y[torch.argsort(y)]; y[1] = 0.0; z + y", X),
 ("y = torch.sin(x); z = y[y.argsort()]; y.mul_(y); z", X),
 ("y = torch.exp(x); z = y[y.argsort(descending=True)]; y += 1; z", X),
 ("y = x * 2; v = y[1:]; z = v[v.argsort()]; v.add_(1); z * y", X),
 ("y = x * 2; v = y[1:]; i = v.argsort(); v.mul_(3); y[i]", X),
 # 9-14 topk indices
 ("y = x * 1.0; i = torch.topk(y, 3).indices; y.add_(x); y[i]", X),
 ("y = torch.sin(x); i = torch.topk(y, 3).indices; z = y[i]; z.mul_(2); z", X),
 ("y = torch.sin(x); z = y[torch.topk(y, 2).indices]; y.sub_(1); z.sum() * y", X),
 ("y = x.clone(); z = y[y.topk(4)[1]]; z.view(2, 2).sum(0)", X),
 ("y = x * 1.0; z = y[y.argsort()].view(2, 3); z.sum(1).view(-1, 1) * z", X),
 ("y = x.view(2, 3); i = y.sum(0).argsort(); y[:, i]", X),
 # 15-22 matrix, column indices
 ("B = a * 1.0; idx = B[0].argsort(); C = B[:, idx]; B.add_(1); C", A),
 ("B = a * 1.0; idx = B[0].argsort(); B[:, idx].T", A),
 ("B = a * 1.0; idx = B[:, 0].argsort(); C = B[idx, 0]; B[0, 0] = 3.0; C * B[:, 1]", A),
 ("B = torch.tanh(a); idx = B[:, 1].argsort(); D = B[idx]; D.mul_(D); D", A),
 ("B = torch.tanh(a); idx = B[:, 1].argsort(); D = B[idx]; B.mul_(B); D", A),
 ("B = a.t(); idx = B[0].argsort(); B[:, idx].sum(0).view(2, 2)", A),
 ("B = a * 1.0; s = B.sum(1); idx = s.argsort(); B[idx].sum(1).view(2, 2)", A),
 ("B = a * 1.0; s = B.max(1).values; idx = s.argsort(); B[idx, 1].view(-1, 1)", A),
 # 23-30 no_grad / detach
 ("y = x * 1.0\nwith torch.no_grad():\n    i = y.argsort()\n    y.mul_(2)\ny[i]", X),
 ("y = x * 1.0\nwith torch.no_grad():\n    z = y[y.argsort()]\nz * y", X),
 ("y = x * 1.0; d = y.detach(); i = d.argsort(); d.add_(1); y[i] * d", X),
 ("y = x * 1.0; d = y.detach(); z = y[d.argsort()]; d.mul_(0); z + y", X),
 ("y = torch.sin(x); d = y.detach()[y.argsort()]; y.mul_(d); y", X),
 ("y = torch.sin(x); i = y.detach().argsort(); y[i].view(3, 2).sum(1)", X),
 ("y = torch.sin(x); z = y[y.argsort()]; y.detach().mul_(2); z", X),
 ("y = torch.sin(x); z = y[y.argsort()]; y.data.mul_(2); z", X),
 # 31-40 .view of reductions + index
 ("B = torch.sin(a); m = B.sum(0); m.view(-1)[m.argsort()]", A),
 ("B = torch.sin(a); m = B.permute(1, 0).sum(1); m.view(3, 1)[m.argsort()]", A),
 ("B = torch.sin(a); m = B.T.amax(1, keepdim=True); m.view(-1)[m.view(-1).argsort()]", A),
 ("B = torch.sin(a); m = B.mean(1).view(2, 2); i = m.view(-1).argsort(); m.view(-1)[i].view(2, 2)", A),
 ("B = torch.sin(a); m = B.sum(0); m.add_(1); v = m.view(-1); v[v.argsort()] * m", A),
 ("B = torch.sin(a); m = B.T.sum(0); v = m.view(2, 2); v.mul_(v); m[m.argsort()]", A),
 ("B = torch.sin(a); m = B.sum(1, keepdim=True).T; m.view(-1)", A),
 ("B = torch.sin(a); m = B.T.sum(1, keepdim=True).T; m.view(-1)[torch.argsort(m.view(-1))]", A),
 ("B = torch.sin(a); m = B.cumsum(0).sum(1); m[m.argsort()].view(2, 2)", A),
 ("B = torch.sin(a); m = B.prod(1); z = m[m.argsort()]; m.mul_(2); z", A),
 ("y = x * 1.0; z = y[y.argsort()]; y.add_(1); y[z.argsort()]", X),
 ("y = torch.sin(x); z = y.sort().values; i = y.argsort(); y.mul_(2); z + y[i]", X),
 ("y = torch.sin(x); i = y.argsort(); y[i] = y[i] * 2; y", X),
 ("y = torch.sin(x); i = y.argsort(); y[i] += 1; y", X),
 ("y = torch.sin(x); i = y.argsort(); z = y[i]; y[i] = z * 2; y", X),
]

def run_torch(text, name, x0):
    def f(x):
        scope = {"torch": torch, name: x}
        exec(compile("\n".join(text.replace("; ", "\n").split("\n")[:-1]), "t", "exec"), scope)
        return eval(text.replace("; ", "\n").split("\n")[-1], scope)
    t = torch.tensor(x0, dtype=torch.float64)
    v = f(t.clone())
    J = torch.autograd.functional.jacobian(f, t)
    return v.detach().numpy(), J.numpy()

counts = {}
for k, (text, x0) in enumerate(T, 1):
    name = "x" if x0 is X else "a"
    try:
        tv, tj = run_torch(text, name, x0); terr = None
    except Exception as e:
        terr = f"{type(e).__name__}: {str(e)[:100]}"
    try:
        jv = np.asarray(api.evaluate(text, {name: x0}))
        got = api.jacobian(text, {name: x0})
        jj = np.asarray(got[name] if isinstance(got, dict) else got)
        jerr = None
    except JacError as e:
        jerr = "JacError: " + str(e).split("\n")[0][:140]
    except Exception:
        jerr = "CRASH " + traceback.format_exc()[-300:]
    if terr and jerr: v = "BOTH-RAISE"
    elif terr: v = "JAC-ANSWERS"
    elif jerr: v = "CRASH" if jerr.startswith("CRASH") else "JAC-REFUSES"
    else:
        try:
            ok = np.allclose(jv.reshape(tv.shape), tv, rtol=1e-12, atol=1e-14) and np.allclose(jj.reshape(tj.shape), tj, rtol=1e-12, atol=1e-14)
        except ValueError:
            ok = False
        v = "AGREE" if ok else "WRONG"
    counts[v] = counts.get(v, 0) + 1
    if v != "AGREE":
        print(k, v, repr(text)); print("   torch:", terr); print("   jac:  ", jerr)
print(counts)
