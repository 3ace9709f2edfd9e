"""Session 34c probe: realistic plain Python classes (no nn.Module) through jac, each checked against Python itself
running the same text with NumPy arrays (the value) and central differences of that (the Jacobian); counted
agree / WRONG / refused / crash. Run: PYTHONPATH=. python benchmarks/classes34_probe.py"""

import ast
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "tests"))
from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402
from jacobi_cli.tools.numeric import central_jacobian  # noqa: E402
from test_classes34 import CASES, python  # noqa: E402

NP = "import numpy as np\n"
MORE = {
    "pid": (NP + """
class PID:
    def __init__(self, kp, ki, kd, dt=0.1):
        self.kp, self.ki, self.kd, self.dt = kp, ki, kd, dt
        self.integral = 0.0
        self.prev = 0.0
    def __call__(self, err):
        self.integral = self.integral + err * self.dt
        d = (err - self.prev) / self.dt
        self.prev = err
        return self.kp * err + self.ki * self.integral + self.kd * d
pid = PID(g[0], g[1], g[2])
y, out = 0.0, 0.0
for t in range(5):
    u = pid(1.0 - y)
    y = y + 0.1 * (u - y)
    out = out + y ** 2
out
""", {"g": [1.2, 0.4, 0.05]}),
    "adam_state": (NP + """
class Adam:
    def __init__(self, lr=0.1, b1=0.9, b2=0.999):
        self.lr, self.b1, self.b2 = lr, b1, b2
        self.m, self.v, self.t = 0.0, 0.0, 0
    def step(self, w, g):
        self.t = self.t + 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        mh = self.m / (1 - self.b1 ** self.t)
        vh = self.v / (1 - self.b2 ** self.t)
        return w - self.lr * mh / (np.sqrt(vh) + 1e-8)
opt = Adam()
w = w0
for _ in range(3):
    w = opt.step(w, 2 * (w - target))
np.sum(w ** 2)
""", {"w0": [0.5, -1.0, 2.0], "target": [0.1, 0.2, 0.3]}),
    "particles_dataclass": (NP + """
from dataclasses import dataclass
@dataclass
class Particle:
    pos: np.ndarray
    vel: np.ndarray
    mass: float = 1.0
    def kinetic(self):
        return 0.5 * self.mass * np.sum(self.vel ** 2)
    def move(self, dt, force):
        self.vel = self.vel + dt * force / self.mass
        self.pos = self.pos + dt * self.vel
p = Particle(x, v, mass=2.0)
for _ in range(3):
    p.move(0.1, -p.pos)
p.kinetic() + np.sum(p.pos ** 2)
""", {"x": [1.0, 0.5], "v": [0.0, 0.3]}),
    "rnn_cell_plain": (NP + """
class Cell:
    def __init__(self, W, U):
        self.W, self.U = W, U
    def __call__(self, h, x):
        return np.tanh(self.W @ h + self.U @ x)
class Unroll:
    def __init__(self, cell):
        self.cell = cell
    def run(self, xs, h):
        for x in xs:
            h = self.cell(h, x)
        return h
r = Unroll(Cell(W, U))
np.sum(r.run(xs, np.zeros(2)))
""", {"W": [[0.5, -0.2], [0.1, 0.3]], "U": [[1.0, 0.0, 0.5], [0.2, -0.4, 0.1]],
      "xs": [[0.1, 0.2, 0.3], [0.0, -0.5, 1.0], [0.3, 0.3, -0.2]]}),
    "rk4_classmethod": (NP + """
class Oscillator:
    OMEGA = 2.0
    def __init__(self, k):
        self.k = k
    @classmethod
    def standard(cls):
        return cls(cls.OMEGA ** 2)
    def rhs(self, s):
        return np.array([s[1], -self.k * s[0]])
    @staticmethod
    def rk4(f, s, h):
        a = f(s); b = f(s + h / 2 * a); c = f(s + h / 2 * b); d = f(s + h * c)
        return s + h / 6 * (a + 2 * b + 2 * c + d)
osc = Oscillator.standard()
s = s0
for _ in range(4):
    s = Oscillator.rk4(osc.rhs, s, 0.1)
s
""", {"s0": [1.0, 0.0]}),
}


def main():
    counts = {"agree": 0, "WRONG": 0, "refused": 0, "crash": 0}
    for name, (text, env) in {**CASES, **MORE}.items():
        try:
            value = api.evaluate(text, env)
            jac = api.jacobian(text, env)
        except JacError as e:
            counts["refused"] += 1
            print(f"{name:22s} refused: {str(e).splitlines()[0][:100]}")
            continue
        except Exception as e:  # noqa: BLE001 - a crash is what the probe counts
            counts["crash"] += 1
            print(f"{name:22s} CRASH {type(e).__name__}: {e}")
            continue
        ok = np.allclose(value, python(text, env), rtol=1e-12, atol=1e-12)
        for k, v in env.items():
            num = central_jacobian(lambda u: python(text, {**env, k: u}), np.array(v, dtype=float))
            ok = ok and np.allclose(jac[k], num, atol=1e-6)
        counts["agree" if ok else "WRONG"] += 1
        print(f"{name:22s} {'agree' if ok else 'WRONG'}")
    print(counts)
    _ = ast  # the harness's python() parses the text


if __name__ == "__main__":
    main()
