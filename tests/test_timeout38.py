"""jac diff's --timeout covers drawing the formulas (render.Renderer.prepare_diff): SymPy's pretty printer on a
large formula took longer than the derivative itself, after the limit, with exit 0 (the contract: "Symbolic work
stops at --timeout seconds with a limit error")."""
import contextlib
import io
import json
import time

from jacobi_cli.cli import entry
from jacobi_cli.tools import symbolic


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(argv)
    return code, out.getvalue(), err.getvalue()


def _slow_pretty(monkeypatch, seconds):
    real = symbolic.pretty

    def slow(expr, width=80):
        time.sleep(seconds)
        return real(expr, width)

    monkeypatch.setattr(symbolic, "pretty", slow)


def test_a_drawing_past_the_timeout_is_a_limit_error_before_any_output(monkeypatch):
    _slow_pretty(monkeypatch, 30)
    start = time.monotonic()
    code, out, err = _run(["diff", "sin(x) * x", "--wrt", "x", "--timeout", "1"])
    assert code == 2 and time.monotonic() - start < 20
    assert out == ""  # nothing printed before the refusal
    assert "error (limit)" in err and "took more than 1 s" in err and "--timeout 1)" in err and "--latex" in err
    assert "Traceback" not in err and "internal error" not in err


def test_the_json_error_of_a_drawing_past_the_timeout(monkeypatch):
    _slow_pretty(monkeypatch, 30)
    code, out, _ = _run(["diff", "sin(x) * x", "--wrt", "x", "--timeout", "1"])
    assert code == 2
    # --json draws nothing, so it is not stopped: the formulas come as text and LaTeX
    code, out, _ = _run(["diff", "sin(x) * x", "--wrt", "x", "--timeout", "1", "--json"])
    assert code == 0 and json.loads(out)["derivative"]["x"]["latex"]


def test_latex_and_no_limit_draw_as_before(monkeypatch):
    code, out, _ = _run(["diff", "sin(x) * x", "--wrt", "x", "--latex", "--timeout", "1"])
    assert code == 0 and r"x \cos{\left(x \right)} + \sin{\left(x \right)}" in out
    plain = _run(["diff", "sin(x) * x", "--wrt", "x"])
    unlimited = _run(["diff", "sin(x) * x", "--wrt", "x", "--timeout", "0"])  # drawn here, no child
    assert plain[0] == unlimited[0] == 0 and plain[1] == unlimited[1]
    assert "x⋅cos(x) + sin(x)" in plain[1]


def test_several_outputs_are_drawn_within_the_timeout_too(monkeypatch):
    _slow_pretty(monkeypatch, 30)
    code, _, err = _run(["diff", "x * 2, sin(x)", "x:2", "--timeout", "1"])
    assert code == 2 and "error (limit)" in err
    monkeypatch.undo()
    code, out, _ = _run(["diff", "x * 2, sin(x)", "x:2", "--timeout", "5"])
    assert code == 0 and "cos(x[0])" in out
