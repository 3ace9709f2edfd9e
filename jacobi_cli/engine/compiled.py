"""One compiled function: an expression for given input shapes, and all that depends on them.

In the spirit of ``jax.jit(f).lower(x).compile()``, a :class:`Compiled` is an explicit
object for one (expression, input shapes, dtype, seed): it owns the parsed graph, its copy
per ``wrt``, the plans (which depend on shapes only, never on values), the traced gradient
graph of a Hessian, and the kernels of repeated calls. It offers ``value``, ``jacobian``,
``vjp``, ``jvp``, ``hessian`` and ``plan`` on input values, and :meth:`Compiled.bind` for
the commands, which need the evaluated :class:`Problem` itself.

Everything it learns is kept in one dict (read, and stored into by ``setdefault``: each one
atomic call; the call counts of kernels take a lock); what is stored is immutable (graphs,
plans, kernels), so threads share a compiled function safely. Two threads that
need the same missing entry may both compute it; the first one stored wins, and both are
the same. No state lives outside the object: a caller that holds it holds all of it.

Kernels: a call repeated with the same options (``wrt``, mode, budget, the cotangent's or
tangents' shapes) is compiled at its second occurrence, as a JIT compiles what runs again
(:mod:`jacobi_cli.engine.kernels`), checked once against the interpreter's answer, and run
from then on. A kernel that fails (an op refusing its values) hands the call back to the
interpreter, which raises the error with its position.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..errors import (JacLimitError, JacNameError, JacShapeError, JacUsageError, JacValueError, did_you_mean,
                      in_api_words)
from ..ir.dtypes import c_ordered, exact_array, held_in, needs_exact
from ..ir.graph import DEFAULT_MAX_BYTES, Graph, may_alias_leaf
from ..ir.shapes import fmt
from ..ir.work import _LIMIT, refuse_past_deadline
from ..lang.bindings import check_wrt, given_array, names_given, numeric, numeric_value, option_value
from ..lang.freeze import refuse_wrt
from ..lang.parser import Made, parse
from . import autodiff, memory
from .jacobian import Jacobian
from .memory import fmt_bytes
from .blas import SPLIT, explained as explained_threads, graph_work, threads_for
from .planner import HessianPlan, Plan, _small, check as check_plan, fit_hessian, make_plan, run as run_plan
from .planner import hessian_plan as blocks_plan, values_nbytes, ProductPlan, product_plan, check_product
from .planner import pass_bound, structural_zeros, unplanned

_may_share_memory = getattr(np.may_share_memory, "_implementation", np.may_share_memory)  # NumPy's C function
_ndarray = np.ndarray  # a global, not np's attribute, in a repeated call's NaN scan
_PAIRWISE = 16  # inputs checked pair by pair for aliasing; more are bisected in their bounds (_bisecting)
_alarm = _LIMIT.get  # ir/work.alarm, without its Python frame (bind reads it once a call)
_float64, _float32 = np.float64, np.float32  # read once (np.NAME is a generic lookup in Python 3.11)
_DESCRS = {_float64: np.dtype(_float64), _float32: np.dtype(_float32)}  # their descriptors, NumPy's own; never changed
UNLIMITED = sys.maxsize
HOT_AFTER = 2  # calls seen before a kernel is compiled
MAX_KERNELS = 32  # kernels (and call counts) one compiled function keeps
# graphs per wrt, plans, traced gradients one compiled function keeps (_memo): past this many, what a call makes
# is used and not kept, so a held function called with ever new wrt lists never grows without bound
MAX_MEMO = 256
_FEW_BYTES = 2**20  # held_bytes: a graph whose nodes hold at most this in all is counted by it, without a walk


@dataclass
class Problem:
    """A compiled function bound to input values: the graph for ``wrt``, the inputs, every
    node's value. Made per call by :meth:`Compiled.bind`; never shared between calls."""

    graph: Graph  # requires_grad set for ``wrt``
    env: dict
    wrt: list
    values: list  # every node's value
    compiled: "Compiled"
    traced: tuple | None = None  # (gradient graph, its values, its gradient nodes) once a Hessian needs them

    @property
    def output(self) -> np.ndarray:
        return np.asarray(self.values[self.graph.output], dtype=self.graph.dtype)


class Compiled:
    """``expr`` compiled for inputs of ``shapes`` (``{name: shape}``), ``dtype`` and ``seed``
    (random constants in the expression); ``max_bytes`` caps each array the graph makes. It
    serves any ``wrt``; the one given here (default: every input), the first call's, is the one
    its graph is built for, the others walk it once each (:meth:`graph_for`).

    >>> f = Compiled("sin(x) * y", {"x": (2,), "y": (2,)})
    >>> f.jacobian({"x": np.array([0.0, 1.0]), "y": np.array([2.0, 3.0])})["x"].round(3)
    array([[2.   , 0.   ],
           [0.   , 1.621]])
    """

    def __init__(self, expr: str, shapes: dict, dtype=np.float64, seed: int = 0,
                 max_bytes: int = DEFAULT_MAX_BYTES, values: dict | None = None, checked: bool = True,
                 wrt: Sequence[str] | None = None):
        self.expr = expr
        # ``checked``: each call's input arrays are checked and converted (:meth:`_inputs`); the API's
        # own calls pass arrays it has converted and looked up by their shapes, so it skips that
        self._checked = checked
        self.shapes = dict(shapes)
        self.dtype = dtype if dtype is _float64 or dtype is _float32 else np.dtype(dtype).type
        # its descriptor, NumPy's own: an input or a cotangent of it is taken as it is (no other dtype instance: a
        # byte-swapped >f8 is converted, for a kernel's lines read it otherwise than the interpreter's: E2's
        # Jacobian an ulp off), and a repeated call tests it by identity
        descr = _DESCRS.get(self.dtype)  # np.dtype(type) costs a first call ~1.4 k instructions
        self._descr = descr if descr is not None else np.dtype(self.dtype)
        self.seed = seed
        self.max_bytes = max_bytes
        # ``values``: only for an expression whose shapes depend on them (x[x > 0]); the graph
        # then holds for those values alone (graph.by_value), and bind refuses any others
        # ``wrt``: the inputs the first call differentiates (default: every input), whose requires_grad the graph
        # is built with, so that bind's with_wrt of them is the graph itself; another wrt walks it (with_wrt)
        # ``declared``: the inputs the text makes itself (x = torch.tensor(v, requires_grad=True)) and their
        # values, which a call may leave out (:meth:`with_declared`); ``made``: what the parse made (parser.Made),
        # those values with the names of those that are jac's draws (``made.random``: torch.randn, a layer's initial
        # parameters), which the text says, and V of the text's y.backward(gradient=V), the v of a vjp given none
        # (``made.gradient``: :meth:`text_v`)
        made = Made()
        self.graph = parse(expr, self.shapes, dtype=self.dtype, seed=seed, max_bytes=max_bytes, values=values,
                           wrt=None if wrt is None else _wrt_hint(wrt, self.shapes), made=made)
        self.declared, self.made = made.values, made
        if self.declared:
            self.shapes.update((name, value.shape) for name, value in self.declared.items())
        # a graph of by_value holds for the values it was built at: the bindings' and those the text makes
        # (x = torch.randn(3, requires_grad=True); while x.norm() < 1000: ...), which a call never passes
        self._built_for = {**(values or {}), **self.declared} if self.graph.by_value else None
        self._several = self.graph.several
        self._lock = threading.Lock()
        self._memo: dict = {}  # graphs per wrt, plans, traced gradients: immutable values
        self._hot: dict = {}  # call key -> calls seen (int), a kernel, or None (stays interpreted)
        # call key -> kernel, for the calls that have one: a dict never changed once made (a new
        # kernel replaces it by a copy, under the lock), so a repeated call reads it without the lock
        self._ready: dict = {}

    def _inputs(self, env) -> dict:
        """``env`` as the passes take it: every input present, of its compiled shape exactly (a
        kernel or NumPy would broadcast another, answering for a Jacobian of the wrong shape), an
        array of the compiled dtype (float32 values given to a float64 function are converted,
        as the API converts them: the passes would compute in float32)."""
        if type(env) is dict and not self.declared:  # arrays of the dtype and shape: the dict itself, as the API's fast path
            shapes, descr = self.shapes, self._descr
            if len(env) == len(shapes) and all(type(v) is np.ndarray and v.dtype is descr and v.shape == shapes.get(n)
                                                and v.flags.c_contiguous for n, v in env.items()):
                return env
        if not hasattr(env, "items"):
            raise JacUsageError(f"a compiled function takes its inputs as a dict {{name: array}}, got "
                                f"{type(env).__name__}")
        env = self.with_declared(env)
        inputs = ", ".join(self.shapes) or "none"
        out = {}
        for name, value in env.items():
            if name not in self.shapes:
                raise JacNameError(f"'{name}' is not an input of {self.expr!r} as compiled (its inputs: {inputs})")
            try:
                array = given_array(name, value)  # a tensor detached, a masked array with nothing masked
            except TypeError as err:
                raise JacValueError(f"the input '{name}' is not an array of numbers ({err})") from None
            array = numeric(f"the input '{name}'", array, value)
            if needs_exact(array.dtype):  # np.array([2**53 + 1]), a long double 0.1: refused, never rounded
                exact_array(array, f"the input '{name}'", np.dtype(self.dtype))
            shape = tuple(self.shapes[name])
            if array.shape != shape:
                raise JacShapeError(f"the input '{name}' has shape {fmt(array.shape)}, but {self.expr!r} was "
                                    f"compiled for {fmt(shape)}: compile it again for other shapes")
            out[name] = c_ordered(array if array.dtype is self._descr else held_in(array, self.dtype))  # >f8 native
        missing = [n for n in self.shapes if n not in out]
        if missing:
            raise JacNameError(f"the input '{missing[0]}' is missing: {self.expr!r} was compiled for {inputs}")
        return out

    def with_declared(self, env):
        """``env`` with the values of the inputs the text makes (:attr:`declared`) it leaves out; a value given
        for one of them is refused, as a binding of a name the text binds (the value itself is that value: an
        env this gave already)."""
        if not self.declared:
            return env
        twice = [name for name, value in self.declared.items() if name in env and env[name] is not value]
        if twice:
            raise JacUsageError(f"'{twice[0]}' is bound twice: in the call and in the text, where "
                                f"{twice[0]} = ...(requires_grad=True) makes it an input with that value: drop one")
        return {**env, **self.declared}

    def held_bytes(self) -> int:
        """The bytes of the arrays this function keeps between calls (the API's cache counts them against
        its byte bound): its graph's constants (``np.ones((2000, 2000))``, folded ones too) and the values
        of the inputs the text makes (a layer's parameters). A graph whose nodes hold at most
        ``_FEW_BYTES`` in all is counted by that, from its facts, without a walk (a first call's path)."""
        facts = self.graph.facts
        declared = sum([value.nbytes for value in self.declared.values()]) if self.declared else 0
        if facts is not None and facts[1] * facts[2] <= _FEW_BYTES:
            return facts[1] * facts[2] + declared
        return declared + sum([value.nbytes for node in self.graph.nodes
                               if node.op == "const" and type(value := node.value) is np.ndarray])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {fmt(s)}" for n, s in self.shapes.items())
        return f"Compiled({self.expr!r}, {{{shapes}}}, {np.dtype(self.dtype).name})"

    # --- what depends on shapes only: made once, kept ------------------------------------

    def _memo_get(self, key, make):
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        return self._kept(key, make())  # made outside the lock: plans and traces can take a while

    def _kept(self, key, value):
        """``value`` kept under ``key``, unless another thread kept one first: then that one. One
        ``dict.setdefault`` of a key of strings, ints and tuples of them: atomic without the lock.
        With :data:`MAX_MEMO` entries kept already, a new one is returned and not kept (made again
        when asked again: the same value, from the same shapes)."""
        memo = self._memo
        if len(memo) >= MAX_MEMO and key not in memo:
            return value
        return memo.setdefault(key, value)

    def graph_for(self, wrt: Sequence[str] | None = None) -> Graph:
        """The graph with ``requires_grad`` set for ``wrt`` (default: every input)."""
        names = tuple(self._check_wrt(wrt))
        return self._memo_get(("wrt", names), lambda: self.graph.with_wrt(names))

    def _check_wrt(self, wrt) -> list:
        """``check_wrt`` of the graph's inputs; a leaf the text froze named in ``wrt`` refused in PyTorch's words."""
        try:
            return check_wrt(wrt, self.graph.inputs)
        except JacNameError:
            refuse_wrt(self.made.frozen, wrt)
            raise

    def bind(self, env: dict, wrt: Sequence[str] | None = None, several: bool = False,
             budget: int | None = None, product: tuple | None = None) -> Problem:
        """Evaluate at ``env`` (``{name: array of the compiled shape and dtype}``); the forward
        values, known from the shapes, must fit ``budget`` (default: the default budget), and
        with ``product`` (``("vjp", None)`` or ``("jvp", tangent names)``) the forward values
        and that pass together (:meth:`product_plan`), before anything is computed. An
        expression that ends in a tuple of several outputs is refused unless the caller
        handles them (``several``: see :func:`output_problems`)."""
        if self._checked:
            env = self._inputs(env)
        if self._several and not several:  # the graph's several, read once at __init__ (a property's call)
            names = ", ".join(name for name, _ in self.graph.outputs)
            raise JacUsageError(f"the expression ends in a tuple of {len(self.graph.outputs)} outputs ({names}); "
                                "this computes one output: end it in one of them")
        names = self._check_wrt(wrt)
        # graph_for(names), without checking the names again (check_wrt of checked names is the names); the
        # memo read without the lock, as product_plan reads it (a dict read is atomic, the graph immutable)
        key = ("wrt", tuple(names))
        graph = self._memo.get(key)
        if graph is None:
            graph = self.graph.with_wrt(names)
            if graph is not self.graph:  # the graph itself (built for these inputs: a first call's) is kept already
                graph = self._kept(key, graph)
        env = _inputs_of(env, graph.inputs)
        if self._built_for is not None:
            self._check_built_for(env)
        budget = budget if type(budget) is int else _limit(budget)  # an int: the API's and jacobian's
        if product is None:
            if not memory.forward_fits(graph, budget):  # else: counted, and refused with the bytes if over
                memory.require(memory.forward_bytes(graph), budget, "the forward pass (every value the derivatives read)")
        else:
            kind, tangent_names = product
            if not self._product_fits(graph, budget, names, kind, tangent_names):
                check_product(self.product_plan(names, kind, tangent_names), budget, f"jac {kind}")
        if _alarm() is not None:  # work.alarm(), without its frame: a --timeout or timeout= runs
            refuse_past_deadline(graph)  # products that cannot fit the time left are refused (ir/work.py)
        return Problem(graph, env, names, autodiff.evaluate(graph, env), self)

    def _check_built_for(self, env: dict) -> None:
        """Refuse values other than those a graph of ``by_value`` was built for."""
        if not all(np.array_equal(env[n], self._built_for[n], equal_nan=True) for n in env):
            raise JacValueError(f"{self.expr!r} was compiled for other input values: its shapes depend on them "
                                "(a boolean mask computed from the inputs) or its branches do (an if test of "
                                "their values)")

    def _product_fits(self, graph: Graph, budget: int, names, kind: str, tangent_names) -> bool:
        """Does the product pass certainly fit ``budget``, with no dry run made yet? Its plan
        is kept once made (a repeated call's kernel reads it); until then, the forward values
        and :func:`~jacobi_cli.engine.planner.pass_bound` of one vector fitting the budget says
        that the plan's check would pass, and the first call skips its dry run."""
        made = ("product", tuple(names), kind, _named_inputs(tangent_names, graph.inputs) if tangent_names else ())
        if made in self._memo:  # as product_plan keys it: its own check is as cheap
            return False
        bound = pass_bound(graph, 1)
        return memory.forward_fits(graph, budget - bound) or memory.forward_bytes(graph) + bound <= budget

    def product_plan(self, wrt: Sequence[str] | None, kind: str, tangent_names=None) -> ProductPlan:
        """The :class:`~jacobi_cli.engine.planner.ProductPlan` of one vjp or jvp pass (shapes only: kept).
        A repeated call finds it by its arguments as given, without the lock (a dict read is
        atomic; the plan is immutable): it is asked on every kernel call of :meth:`vjp`/:meth:`jvp`."""
        asked = ("product as asked", None if wrt is None else tuple(wrt), kind,
                 None if tangent_names is None else tuple(tangent_names))
        found = self._memo.get(asked)
        if found is not None:
            return found
        graph = self.graph_for(wrt)
        names = tuple(n for n in (tangent_names or ()) if n in graph.inputs)
        plan = self._memo_get(("product", tuple(check_wrt(wrt, self.graph.inputs)), kind, names),
                              lambda: product_plan(graph, kind, names))
        self._kept(asked, plan)
        return plan

    def plan_of(self, problem: Problem, mode: str = "auto", budget: int | None = None) -> Plan:
        """How the Jacobians of ``problem`` will be computed (see :mod:`jacobi_cli.engine.planner`);
        a plan that does not fit ``budget`` has a ``refusal`` (``planner.check`` raises it).

        The plan without a budget is kept and reused whenever it fits the budget."""
        budget = _limit(budget)
        free = self._memo_get(("plan", tuple(problem.wrt), mode, problem.graph.output),
                              lambda: make_plan(problem.graph, problem.values, problem.wrt, mode, UNLIMITED))
        if free.peak_bytes > budget:
            return make_plan(problem.graph, problem.values, problem.wrt, mode, budget)
        return replace(free, budget=budget)

    def forget_plan(self, problem: Problem, mode: str = "auto") -> None:
        """Drop the plan without a budget that :meth:`plan_of` keeps for ``problem``'s inputs and ``mode``: a
        streamed Jacobian's (``jac eval --out``, past the budget) is of no use to the stream, and its pattern of
        the entries' positions (up to ``planner.PATTERN_MAX``, 1 MiB) would stay beside the passes, uncounted
        (session 57). Made again if asked again."""
        with self._lock:
            self._memo.pop(("plan", tuple(problem.wrt), mode, problem.graph.output), None)

    def explained(self, problem: Problem, plan: Plan) -> Plan:
        """``plan`` with its ``kernel`` line: would calls repeated with these shapes and options
        run a compiled kernel, or why not (``--explain``); and its ``BLAS threads`` line, for a graph
        with a product BLAS would split (engine/blas.explained). Traces the kernel (imported here: a
        command that does not explain never loads the compiler); nothing is kept."""
        return replace(plan, kernel=self._kernel_verdict(problem, plan), threads=explained_threads(problem.graph))

    def _kernel_verdict(self, problem: Problem, plan: Plan) -> tuple:
        if self.graph.by_value:
            return False, ("none for repeated calls: the graph depends on the input values (a mask computed from "
                           "them), so it is never compiled nor kept for other values")
        from . import kernels

        try:
            kernel, why = kernels.kernel_or_why(problem.graph, plan, _small(plan, problem.graph))
        except Exception as err:  # noqa: BLE001 - as _compile: a rule that cannot be traced
            kernel, why = None, f"a derivative rule cannot be traced without values ({type(err).__name__})"
        if kernel is None:
            return False, f"none for repeated calls: {why}; they stay with the interpreter"
        return True, (f"compiled at the {_ordinal(HOT_AFTER)} call repeated through the Python API with these "
                      "shapes and options (checked once against the interpreter)")

    def hessian_plan_of(self, problem: Problem, budget: int | None = None) -> HessianPlan:
        """How the Hessian of ``problem`` will be computed; blocks are checked against the budget
        from the input shapes alone, before the gradient graph is traced."""
        y_shape = tuple(problem.graph.output_shape)
        budget = _limit(budget)
        g = problem.graph
        shapes = {name: tuple(g.nodes[g.inputs[name]].shape) for name in problem.wrt}
        values_bytes = values_nbytes(problem.values)
        plan = blocks_plan(shapes, g.dtype, values_bytes, budget, min(budget, DEFAULT_MAX_BYTES), y_shape)
        if plan.refusal:  # from the shapes alone: nothing traced, nothing allocated
            return plan
        # kept without the budget and the limit per array (the blocks were checked against both above, and the
        # passes fitted without a budget read neither): a key holding them kept one plan per budget, without
        # bound, for a function called with budgets that vary (a default budget moving with the machine)
        free = self._memo_get(("hessian", tuple(problem.wrt), values_bytes, g.output),
                              lambda: self._fitted(replace(plan, budget=UNLIMITED, max_bytes=DEFAULT_MAX_BYTES),
                                                   problem))
        if free.refusal is None and free.peak_bytes <= budget:
            return replace(free, budget=budget, max_bytes=plan.max_bytes)
        return self._fitted(plan, problem)

    def _fitted(self, plan: HessianPlan, problem: Problem) -> HessianPlan:
        g2, values, grad_ids = self.traced_gradient(problem)
        plan = replace(plan, values_bytes=values_nbytes(problem.values, values))
        return fit_hessian(plan, g2, values, grad_ids)

    def traced_gradient(self, problem: Problem) -> tuple:
        """``(g2, values, grad_ids)``: the reverse pass traced into a graph (kept, per ``wrt``),
        the values of its nodes at the problem's inputs, and its gradient nodes."""
        if problem.traced is None:
            g2, grad_ids = self._memo_get(("grad_graph", tuple(problem.wrt), problem.graph.output),
                                          lambda: autodiff.grad_graph(problem.graph))
            problem.traced = (g2, autodiff.evaluate(g2, problem.env), grad_ids)
        return problem.traced

    # --- kernels for repeated calls ---------------------------------------------------------

    def _kernel(self, key):
        """The kernel for ``key``, or None; counts the calls that have none yet (:meth:`_counted`)."""
        return self._counted(key)[0]

    def _counted(self, key) -> tuple:
        """``(kernel, due)`` under one lock: the kernel for ``key`` or None, the call counted when it has
        none yet, and whether this call compiles one (what :meth:`_due` would say right after)."""
        kernel = self._ready.get(key)  # the snapshot: no lock
        if kernel is not None:
            return kernel, False
        with self._lock:
            entry = self._hot.get(key, 0)
            if type(entry) is not int:
                return entry, False
            if key not in self._hot and len(self._hot) >= MAX_KERNELS:
                return None, False  # full: this call stays with the interpreter
            entry = self._hot[key] = entry + 1
            return None, entry >= HOT_AFTER

    def _due(self, key) -> bool:
        """Is a kernel for ``key`` compiled at this call (see :meth:`_learn`)?"""
        with self._lock:
            return type(self._hot.get(key)) is int and self._hot[key] >= HOT_AFTER

    def _learn(self, key, make: str, make_args, run_args, expected, answer=lambda got: got,
               peak=None, settle=lambda kernel: kernel) -> None:
        """At the call that makes ``key`` due, compile ``kernels.<make>(*make_args())`` and keep it
        if its first answer is the interpreter's ``expected``; else ``key`` stays interpreted.
        ``peak()``: the bytes a call must fit (a vjp's or jvp's product plan, fixed by ``key``),
        kept as the kernel's own ``peak`` so that a repeated call compares it with its budget.
        ``settle``: the kept kernel as it is kept (its parts that this call could check).
        ``make_args`` and ``peak`` are functions: what only a compile needs (a plan, a product
        plan's dry run) is made at the call that compiles, never at a first call."""
        if not self._due(key):
            return
        kernel = _compile(make, *make_args())
        if kernel is not None and peak is not None:
            kernel = replace(kernel, peak=peak())
        got = _run(kernel, *run_args(kernel)) if kernel is not None else None
        keep = settle(kernel) if got is not None and same(expected, answer(got)) else None
        with self._lock:
            self._hot[key] = keep
            if keep is not None:
                self._ready = {**self._ready, key: keep}

    def kernels(self) -> dict:
        """``{call key: kernel}`` for the calls decided so far (None: it stays interpreted)."""
        with self._lock:
            return {key: k for key, k in self._hot.items() if type(k) is not int}

    # --- the one-call methods -----------------------------------------------------------------

    @in_api_words
    def value(self, env: dict) -> np.ndarray:
        """The output's value at ``env``."""
        if self._checked:
            env = self._inputs(env)
        if self._several:  # a tuple, as the expression's last statement says
            return tuple(_own_output(p) for _, p in output_problems(self.bind(env, several=True)))
        key = ("value",)
        kernel = self._kernel(key)
        if kernel is not None:
            found = _run(kernel.fn, env)
            if found is not None:
                return found[0]
        problem = self.bind(env)
        self._learn(key, "evaluate_kernel", lambda: (problem.graph,), lambda k: (env,), problem.output, lambda got: got[0])
        return _own_output(problem)

    @in_api_words
    def jacobian(self, env: dict, wrt: Sequence[str] | None = None, mode: str = "auto", budget: int | None = None,
                 structured: bool = False, layout: str = "array", *,
                 problem: Problem | None = None) -> dict[str, np.ndarray | Jacobian]:
        """``{name: dy/dx}`` for each input of ``wrt``: arrays in ``layout``, or
        :class:`~jacobi_cli.engine.jacobian.Jacobian` objects with ``structured``. A caller that
        holds what :meth:`bind` made of ``env`` and ``wrt`` passes it as ``problem``: its values
        are read where no kernel answers, not evaluated again (``jac run``)."""
        if self._checked:
            env = self._inputs(env)
        if wrt is not None and type(wrt) is not list:  # wrt="x": the input x, never its letters
            wrt = names_given(wrt)
        limit = memory.default_budget() if budget is None else budget if type(budget) is int else int(budget)
        # any budget: a kernel runs only when its peak fits (the function calls of a repeated call inline)
        key = ("jacobian", None if not wrt else tuple(wrt), mode)
        kernel = self._ready.get(key)
        if kernel is not None and (dense := kernel.dense) is not None and kernel.dense_peak <= limit \
                and not structured and layout == "array":  # a repeated call's common case, in short: one call
            try:  # a dense pass's NaN (kernel.scans) is the interpreter's to read again: nan_free, over every answer
                found = dense.fn(env)
                if kernel.scan_one:  # autodiff.nan_in(found), its one answer's case inline (its frame: ~1.5 k of ~4.6 k)
                    if type(g := found[0]) is _ndarray:
                        if (item := g.item(g.argmax())) != item:
                            found = None
                    elif autodiff.nan_in(found):
                        found = None
                elif kernel.scans and autodiff.nan_in(found):  # several answers, or none of an element
                    found = None
            except Exception:  # noqa: BLE001 - as _run: the interpreter below reports every error
                found = None
            if found is not None:  # _named, inline
                one = kernel.one
                return {one: found[0]} if one is not None else dict(zip(kernel.names, found))
        return self._jacobian(env, wrt, mode, limit, structured, layout, problem, key)

    def _jacobian(self, env: dict, wrt, mode: str, limit: int, structured: bool, layout: str, problem, key: tuple):
        """:meth:`jacobian` past its one-call path, a method of its own (its kernel is learnt by
        :meth:`_learn_jacobian`, whose lambdas would make cells of this function's variables)."""
        if self._several:  # {output: {name: dy/dx}}, as jax.jacrev of a tuple
            return self._jacobians_several(env, wrt, mode, limit, structured, layout, problem)
        kernel, due = self._counted(key)
        # made dense, a structured Jacobian must fit the budget as dense() requires of the interpreter's
        if kernel is not None and (kernel.peak if structured else kernel.dense_peak) <= limit:
            found = kernel.nan_free(_run(kernel, env, structured))
            if found is not None:
                return found if structured or layout == "array" else _in_layout(found, kernel, layout)
        if problem is None:
            problem = self.bind(env, wrt, budget=limit)
        parts = None
        if not due and (not self._memo or ("plan", tuple(problem.wrt), mode, problem.graph.output) not in self._memo):
            # a first call: no plan yet, and none needed when the dense passes show the structure
            arrays = not structured and layout == "array"  # the arrays themselves, no Jacobian objects
            found, parts = unplanned(problem.graph, problem.values, problem.wrt, mode, limit, arrays)
            if found is not None:
                if parts is None:  # diagonals only: new arrays (_diagonal_array's zeros, _diagonal_jacobian's copy)
                    return found if arrays else _in_arrays(found, structured, layout, limit)  # never an input's view
                if arrays:
                    return _unaliased_arrays(found, problem.env)
                return _in_arrays(_unaliased_jacobians(found, problem.env), structured, layout, limit)
        plan = self.plan_of(problem, mode, limit)
        found = jacobians(problem, plan, parts)
        out = _in_arrays(found, structured, layout, limit)
        if due:
            self._learn_jacobian(key, problem, plan, env, found, out if not structured and layout == "array" else None)
        return out

    def _jacobians_several(self, env: dict, wrt, mode: str, limit: int, structured: bool, layout: str, problem):
        """:meth:`_jacobian` of an expression that ends in a tuple: ``{output: {name: dy/dx}}``."""
        problems = output_problems(self.bind(env, wrt, True, limit) if problem is None else problem)
        return {o: _in_arrays(jacobians(p, self.plan_of(p, mode, limit)), structured, layout, limit)
                for o, p in problems}

    def _learn_jacobian(self, key, problem: Problem, plan: Plan, env: dict, found: dict, dense) -> None:
        """:meth:`_learn` of :meth:`_jacobian`'s kernel (``dense``: what its dense twin must give), a
        method of its own: the lambdas below make a cell of each variable they read, at every call of
        the function holding them, and only the call that compiles needs them."""
        self._learn(key, "jacobian_kernel", lambda: (problem.graph, plan, _small(plan, problem.graph)),
                    lambda k: (env, True), found, settle=lambda k: _dense_checked(k, env, dense))

    @in_api_words
    def vjp(self, env: dict, v: np.ndarray | float | str | Sequence[str] | None = None,
            wrt: Sequence[str] | None = None, budget: int | None = None) -> dict:
        """``{name: x.grad}`` after ``y.backward(gradient=v)``; ``v`` as :func:`cotangent` takes it
        (several outputs: ``{output: v}``, see :func:`vjp_several`). The forward values and the
        pass must fit ``budget`` (:meth:`product_plan`), checked before they are computed."""
        if self._checked:
            env = self._inputs(env)
        if wrt is not None and type(wrt) is not list:
            wrt = names_given(wrt)
        if self.made.gradient is not None:
            v = self.text_v(v)
        if type(v) is _ndarray and v.dtype is self._descr:  # a repeated call's common case, in short
            kernel = self._ready.get(("vjp", None if not wrt else tuple(wrt), v.shape))  # the key made below
            if kernel is not None and kernel.peak <= (memory.default_budget() if budget is None else
                                                      budget if type(budget) is int else int(budget)):
                try:  # as _run and _nan_free, inline (nan_in's one-answer case too, as jacobian above)
                    found = kernel.fn(env, v)
                    one = kernel.one  # one result per name: one name, one answer
                    if one is not None and type(g := found[0]) is _ndarray and g.size:
                        if (item := g.item(g.argmax())) != item:
                            found = None
                    elif autodiff.nan_in(found):
                        found = None
                except Exception:  # noqa: BLE001 - the interpreter below reports every error
                    found = None
                if found is not None:  # _named, inline
                    return {one: found[0]} if one is not None else dict(zip(kernel.names, found))
        return self._vjp(env, v, wrt, budget)

    def text_v(self, v):
        """The v of a vjp: ``v``, or where none is given V of the text's ``y.backward(gradient=V)`` (a copy: a
        gradient may be v itself, ``y = x``, and a caller's write into it must not reach the next call); both
        refused."""
        if self.made.gradient is None:
            return v
        if v is not None and (not isinstance(v, (list, tuple)) or v):
            raise JacUsageError("the text gives y.backward(gradient=V) and --v gives v too: give one (drop --v, or "
                                "write y.backward() in the text)")
        return self.made.gradient.copy()

    def _vjp(self, env: dict, v, wrt, budget: int | None) -> dict:
        """:meth:`vjp` past its one-call path, a method of its own as :meth:`_jacobian` is."""
        if self._several:
            return vjp_several(self.bind(env, wrt, True, budget, ("vjp", None)), v)
        ones = v is None or (isinstance(v, str) and v.strip() == "ones")  # y.backward() / torch.ones_like(y)
        v_array = None if ones or isinstance(v, str) else numeric_value("v", v, self.dtype)
        key = ("vjp", _wrt_key(wrt), "ones" if ones else None if v_array is None else v_array.shape)
        kernel, due = self._counted(key) if key[2] is not None else (None, False)
        if kernel is not None and kernel.peak <= _limit(budget):
            # kernel.peak: the product plan's peak, kept with the kernel (see _learn below)
            found = _nan_free(_run(kernel.fn, env, np.ones(kernel.y_shape, self.dtype) if ones else v_array))
            if found is not None:
                return dict(zip(kernel.names, found))

        problem = self.bind(env, wrt, budget=budget, product=("vjp", None))
        cot = cotangent(problem, v)
        found = vjp_of(problem, cot)
        if due:  # this call compiles the kernel (_learn asks again: see _counted)
            self._learn_vjp(key, problem, env, v_array, ones, wrt, _as_dense(found, lambda: vjp_of(problem, cot, False)))
        return found

    def _learn_vjp(self, key, problem: Problem, env: dict, v_array, ones: bool, wrt, found: dict) -> None:
        """:meth:`_learn` of :meth:`_vjp`'s kernel, a method of its own as :meth:`_jacobian` is: the
        lambdas below make a cell of each variable they read (at the call that compiles only)."""

        def run_args(k):  # the inputs, then the cotangent
            return env, np.ones(k.y_shape, self.dtype) if ones else v_array

        self._learn(key, "vjp_kernel", lambda: (problem.graph, problem.wrt), run_args, found,
                    lambda got: dict(zip(problem.wrt, got)), lambda: self.product_plan(wrt, "vjp").peak_bytes)

    @in_api_words
    def jvp(self, env: dict, tangents: dict | None = None, budget: int | None = None) -> np.ndarray:
        """J·t, shaped like the output, for ``tangents = {name: t}`` (inputs not named get none).
        The forward values and the pass must fit ``budget``, checked before they are computed."""
        if self._checked:
            env = self._inputs(env)
        if tangents is not None and not hasattr(tangents, "items"):
            raise JacUsageError(f"--tangent: the tangents are a dict {{name: tangent}} (one per input moved, as "
                                f"jax.jvp takes a tangent per primal), not {type(tangents).__name__}")
        tangents = tangents or {}
        product = ("jvp", tuple(tangents))
        if self._several:  # {output: J·t}
            return {o: jvp_of(p, tangents_of(p, tangents))
                    for o, p in output_problems(self.bind(env, several=True, budget=budget, product=product))}
        arrays = _arrays(tangents, self.dtype)
        key = ("jvp", tuple((n, t.shape) for n, t in arrays.items())) if arrays is not None and arrays else None
        kernel = self._kernel(key) if key else None
        if kernel is not None and kernel.peak <= _limit(budget):
            found = _nan_free(_run(kernel.fn, env, *arrays.values()))  # kernel.peak: the product plan's, as vjp
            if found is not None:
                return found[0]
        problem = self.bind(env, budget=budget, product=product)
        checked = tangents_of(problem, tangents)
        found = jvp_of(problem, checked)
        if key:
            self._learn(key, "jvp_kernel", lambda: (problem.graph, list(arrays)), lambda k: (env, *arrays.values()),
                        _as_dense(found, lambda: jvp_of(problem, checked, False)), lambda got: got[0], lambda: self.product_plan(None, "jvp", tuple(tangents)).peak_bytes)
        return found

    @in_api_words
    def hessian(self, env: dict, wrt: Sequence[str] | None = None, budget: int | None = None) -> dict:
        """``{(a, b): d²y / da db}`` with shape ``y.shape + a.shape + b.shape`` (several outputs:
        ``{output: blocks}``)."""
        if self._checked:
            env = self._inputs(env)
        wrt = names_given(wrt)
        problem = self.bind(env, wrt, several=True, budget=budget)
        if self.graph.several:
            return {o: hessians(p, budget=budget) for o, p in output_problems(problem)}
        return hessians(problem, budget=budget)


# --- the calls under a time limit: the interpreter alone -------------------------------------------
#
# A kernel is one straight-line Python call: nothing checks the time inside it. A call under a time limit (the
# API's timeout=, ir/work.deadline) runs these instead of the methods above: the same answers (a kernel is kept
# only where it gives the interpreter's bits), from the passes, which check the limit between their ops and refuse
# before it runs a pass that could not fit. They neither run nor count towards a kernel: a limited call costs the
# repeated calls without one nothing.

def interpreted_value(compiled: Compiled, env: dict):
    """:meth:`Compiled.value` without kernels."""
    if compiled._several:
        return tuple(_own_output(p) for _, p in output_problems(compiled.bind(env, several=True)))
    return _own_output(compiled.bind(env))


def interpreted_jacobian(compiled: Compiled, env: dict, wrt, mode: str, limit: int, structured: bool,
                         layout: str) -> dict:
    """:meth:`Compiled.jacobian` without kernels (nor the first call's unplanned dense passes: the plan's
    passes, whose answers they are)."""
    if compiled._several:
        return compiled._jacobians_several(env, wrt, mode, limit, structured, layout, None)
    problem = compiled.bind(env, wrt, budget=limit)
    return _in_arrays(jacobians(problem, compiled.plan_of(problem, mode, limit)), structured, layout, limit)


def interpreted_vjp(compiled: Compiled, env: dict, v, wrt, budget: int) -> dict:
    """:meth:`Compiled.vjp` without kernels."""
    if compiled.made.gradient is not None:
        v = compiled.text_v(v)
    if compiled._several:
        return vjp_several(compiled.bind(env, wrt, True, budget, ("vjp", None)), v)
    problem = compiled.bind(env, wrt, budget=budget, product=("vjp", None))
    return vjp_of(problem, cotangent(problem, v))


def interpreted_jvp(compiled: Compiled, env: dict, tangents, budget: int):
    """:meth:`Compiled.jvp` without kernels."""
    if tangents is not None and not hasattr(tangents, "items"):
        raise JacUsageError(f"--tangent: the tangents are a dict {{name: tangent}} (one per input moved, as "
                            f"jax.jvp takes a tangent per primal), not {type(tangents).__name__}")
    tangents = tangents or {}
    product = ("jvp", tuple(tangents))
    if compiled._several:
        return {o: jvp_of(p, tangents_of(p, tangents))
                for o, p in output_problems(compiled.bind(env, several=True, budget=budget, product=product))}
    problem = compiled.bind(env, budget=budget, product=product)
    return jvp_of(problem, tangents_of(problem, tangents))


# --- what a bound problem computes (the commands call these on the Problem they print) ---------

def jacobians(problem: Problem, plan: Plan | None = None, parts: tuple | None = None) -> dict:
    """``{name: Jacobian}`` for every input in ``wrt``, computed as ``plan`` says (default:
    the automatic plan). Structured Jacobians stay structured. ``parts``: the dense passes
    :func:`~jacobi_cli.engine.planner.unplanned` ran, read off here if the plan runs them."""
    plan = problem.compiled.plan_of(problem) if plan is None else plan
    found = run_plan(check_plan(plan), problem.graph, problem.values, parts)
    return _unaliased_jacobians(found, problem.env)


def output_problems(problem: Problem) -> list:
    """``[(name, Problem)]``: one problem per output of an expression that ends in a tuple
    (the values are shared; plans and traces are kept per output), or ``[(None, problem)]``."""
    if not problem.graph.several:
        return [(None, problem)]
    return [(name, replace(problem, graph=g, traced=None)) for name, g in problem.graph.output_graphs()]


def example(problem: Problem, batch, split: dict, b: int) -> Problem:
    """Example ``b`` of a batch (see :mod:`jacobi_cli.engine.batching`): ``problem``'s graph and
    compiled function, that example's inputs and values."""
    env = problem.compiled.with_declared(batch.example(split, b))
    env = {name: env[name] for name in problem.graph.inputs}
    try:
        values = autodiff.evaluate(problem.graph, env)
    except JacValueError as err:  # a value of this example refused (a matrix not positive definite)
        raise batch.in_example(err, b) from None
    return Problem(problem.graph, env, problem.wrt, values, problem.compiled)


def vjp_several(problem: Problem, v) -> dict:
    """``torch.autograd.backward([outs], [vs])``: ``v`` is ``{output: v}`` (outputs left out
    count as zero; None: every output has one element and gets 1)."""
    units = output_problems(problem)
    names = [o for o, _ in units]
    if v is not None and not isinstance(v, dict):
        raise JacValueError(f"with several outputs ({', '.join(names)}), v is a dict {{output: v}}")
    if v is None:
        wide = [o for o, p in units if int(np.prod(p.graph.output_shape, dtype=np.int64)) != 1]
        if wide:
            raise JacValueError(f"output {wide[0]} has shape {fmt(dict(units)[wide[0]].graph.output_shape)}, so it "
                                "needs a v: pass v={output: v} (outputs left out count as zero)")
    unknown = [o for o in (v or {}) if o not in names]
    if unknown:
        raise JacNameError(f"v names no output {unknown[0]!r} (outputs: {', '.join(names)})")
    seeds = {}
    for o, p in units:
        if v is not None and o not in v:
            continue
        c = cotangent(p, None if v is None else v[o])[None]
        key = p.graph.output  # one node listed twice (x, x): the cotangents add
        seeds[key] = c if key not in seeds else seeds[key] + c
    if not seeds:
        return {name: np.zeros(problem.env[name].shape, problem.graph.dtype) for name in problem.wrt}
    grads = autodiff.vjp_read(problem.graph, problem.values, seeds)
    return {name: _unshared(np.asarray(grads[name][0]), problem.env, *(v or {}).values()) for name in problem.wrt}


def _unaliased(j: Jacobian, env: dict, shares=None) -> Jacobian:
    """``j``, copied if it is a view of an input (``A @ x`` gives ``A`` itself): the caller's arrays are read
    without copying, and a result must not change when they do. ``shares``: :func:`_bisecting` of many inputs."""
    array = j._array
    if array is not None and (_in_inputs(array, env) if shares is None else shares(array)):
        return Jacobian(j.name, j.y_shape, j.x_shape, array.copy(), j.dtype)
    return j


def _in_inputs(array, env: dict) -> bool:
    """May ``array`` share memory with one of ``env``'s arrays? Pair by pair (a cold call's path: a few inputs)."""
    for v in env.values():
        if _may_share_memory(array, v):  # np.may_share_memory without its __array_function__ dispatch
            return True
    return False


def _bisecting(env: dict):
    """:func:`_in_inputs` for many inputs (a model's hundreds of parameters), as a test made once: bisection in
    their merged byte bounds (``np.may_share_memory``'s test, overlapping bounds), so that n results against n
    inputs is not n² tests; None for a few inputs (pair by pair, no closure made)."""
    if len(env) <= _PAIRWISE:
        return None
    from bisect import bisect_left
    try:
        from numpy.lib.array_utils import byte_bounds
    except ImportError:  # NumPy 1.x
        byte_bounds = np.byte_bounds
    starts, ends = [], []
    for lo, hi in sorted(byte_bounds(v) for v in env.values() if isinstance(v, np.ndarray) and v.size):
        if ends and lo < ends[-1]:  # overlapping bounds merged: disjoint and sorted, so ends grow too
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)

    def shares(array) -> bool:
        if not isinstance(array, np.ndarray) or not array.size:
            return False
        lo, hi = byte_bounds(array)
        k = bisect_left(starts, hi)  # the bounds that start before this array ends; the last ends latest
        return k > 0 and ends[k - 1] > lo
    return shares


def _inputs_of(env: dict, inputs: dict) -> dict:
    """``env``'s arrays of the graph's ``inputs``, in their order (a function of its own: a comprehension in
    :meth:`Compiled.bind` would make cells of its variables): ``env`` itself when it holds exactly those
    names in that order (the API's call of one input: its dict, never changed by a pass)."""
    if type(env) is dict and len(env) == len(inputs) and (len(env) == 1 and next(iter(env)) in inputs
                                                          or list(env) == list(inputs)):
        return env
    return {name: env[name] for name in inputs}


def _named_inputs(names, inputs: dict) -> tuple:
    """The names of ``names`` that are graph ``inputs``, in order."""
    return tuple(n for n in names if n in inputs)


def _unaliased_jacobians(found: dict, env: dict) -> dict:
    """:func:`_unaliased` of each Jacobian of ``found``."""
    shares = _bisecting(env)
    return {n: _unaliased(j, env, shares) for n, j in found.items()}


def _unaliased_arrays(found: dict, env: dict) -> dict:
    """Each array of ``found``, copied if it is a view of an input (see :func:`_unaliased`); ``found`` (a first
    call's own new dict) is changed in place for a few inputs."""
    if len(env) <= _PAIRWISE:  # a few inputs (a first call's): pair by pair, as _bisecting's None says, in a loop
        for name, a in found.items():  # (no comprehension: a function made and called at each call)
            if _in_inputs(a, env):
                found[name] = a.copy()  # a value replaced, no key added: the loop goes on over the same keys
        return found
    shares = _bisecting(env)
    return {n: a.copy() if shares(a) else a for n, a in found.items()}


def dense_all(found: dict, layout: str = "array", budget: int | None = None) -> dict:
    """``{name: dense(j)}`` of the Jacobians ``found``, refused before any is made when together they pass
    ``budget`` (:func:`dense_fits`)."""
    if budget is not None:
        dense_fits(found.values(), budget)
    return {name: dense(j, layout, budget) for name, j in found.items()}


def dense_fits(jacobians, budget: int, held: int = 0) -> None:
    """Refuse, before any is made, dense arrays of the structured Jacobians among ``jacobians`` that do not fit
    ``budget`` together: each dense array (and its positions' index array while it is filled) beside every
    Jacobian object and ``held`` bytes more (the values, for a caller that keeps them). Each dense array alone
    within the budget was not enough (session 41: ``np.outer(x, y)`` of x, y:300 has two sparse Jacobians of
    216 MB each as dense arrays, which ``jac eval --json --max-memory 300M`` made both of). A dense array past the
    budget by itself is left to :func:`dense`'s own refusal, which names it."""
    jacobians = list(jacobians)
    made = [j for j in jacobians if j.structure != "dense"]
    if not made or any(j.dense_nbytes > budget for j in made):
        return
    arrays = sum(j.dense_nbytes for j in made)
    need = held + sum(j.nbytes for j in jacobians) + arrays + max(j.nnz * 8 for j in made)
    if need <= budget:
        return
    several = len(made) > 1
    what = ", ".join(f"∂y/∂{j.name} {fmt(j.shape)}" for j in made)
    raise JacLimitError(
        f"the structured Jacobian{'s' if several else ''} as dense array{'s' if several else ''} ({what}) "
        f"need{'' if several else 's'} {arrays:,} bytes ({fmt_bytes(arrays)}), and {need:,} bytes "
        f"({fmt_bytes(need)}) with the Jacobians {'they are' if several else 'it is'} made from"
        f"{' and the values' if held else ''}, more than the memory budget of {budget:,} bytes "
        f"({fmt_bytes(budget)}); nothing was allocated. Keep {'them' if several else 'it'} sparse (--sparse with "
        f"--json), take one input at a time (--wrt NAME), or raise --max-memory")


def dense(j: Jacobian, layout: str = "array", budget: int | None = None) -> np.ndarray:
    """``j.to_array(layout)``, refused before allocation when the dense array passes ``budget``."""
    if j.structure != "dense" and budget is not None and j.dense_nbytes > budget:
        raise JacLimitError(
            f"∂y/∂{j.name} is {j.describe()} ({j.nnz:,} stored values), but as a dense array of shape "
            f"{fmt(j.shape)} it needs {j.dense_nbytes:,} bytes ({fmt_bytes(j.dense_nbytes)}), more than the "
            f"memory budget of {budget:,} bytes ({fmt_bytes(budget)}); nothing was allocated. Keep it sparse "
            f"(--sparse with --json; --out FILE.npz for one Jacobian: --wrt {j.name}) or raise --max-memory")
    return j.to_array(layout)


def cotangent(problem: Problem, v=None, name: str = "y", option: str = "--v") -> np.ndarray:
    """The ``v`` of ``y.backward(gradient=v)``: ones for a one-element output, else required.
    ``name`` is what the messages call the output (``z`` in ``jac vjp "x * y"``), ``option`` where a text ``v``
    came from (``--v a`` for one of several outputs)."""
    y_shape = tuple(problem.graph.output_shape)
    dtype = problem.graph.dtype
    if type(v) is np.ndarray and v.dtype.type is dtype and v.shape == y_shape:  # what the lines below give back
        return v
    if v is None:
        if int(np.prod(y_shape, dtype=np.int64)) != 1:
            raise JacValueError(
                f"the output {name} has shape {fmt(y_shape)}, so a vector v of that shape is needed: pass --v VALUE "
                f"(or --v ones). PyTorch says: grad can be implicitly created only for scalar outputs")
        return np.ones(y_shape, dtype=dtype)
    if isinstance(v, str) and v.strip() == "ones":
        return np.ones(y_shape, dtype=dtype)
    if isinstance(v, str):
        v = option_value(option, v, dtype, y_shape)
    v = numeric_value("v", v, dtype)
    if v.shape != y_shape:
        if v.size == int(np.prod(y_shape, dtype=np.int64)) and v.size == 1:
            return v.reshape(y_shape)
        raise JacShapeError(f"v has shape {fmt(v.shape)} but the output {name} has shape {fmt(y_shape)}; "
                            f"they must match, as in {name}.backward(gradient=v)")
    return v


def _own_output(problem: Problem) -> np.ndarray:
    """The output's value as the caller's own array, as a kernel gives it: a copy where the output is an input, a
    constant of the graph or a view of one (``B.T``, ``np.ones(3)``: a write into the result must reach neither
    the caller's array nor the next call's answer)."""
    graph = problem.graph
    out = problem.output
    return out.copy() if may_alias_leaf(graph.nodes, graph.output) else out


def _unshared(array: np.ndarray, given: dict, *more) -> np.ndarray:
    """``array``, copied if it may share memory with one of the caller's arrays (``given``'s inputs, a v or a
    tangent in ``more``): a derivative that passes its seed on unchanged (the vjp of ``x + 1`` is v, the jvp of
    ``flip(x)`` a view of the tangent) is a new array, as a kernel's is."""
    if _in_inputs(array, given):
        return array.copy()
    for m in more:  # a loop, not any() of a generator (made and run at each call)
        if isinstance(m, np.ndarray) and _may_share_memory(array, m):
            return array.copy()
    return array


def vjp_of(problem: Problem, v, read: bool = True) -> dict:
    """``{name: x.grad}`` after ``y.backward(gradient=v)`` (``read``: a NaN of the dense pass read again,
    autodiff.vjp_read; without it the dense pass a kernel traces)."""
    work = graph_work(problem.graph)
    pull = autodiff.vjp_read if read else autodiff.vjp
    if work < SPLIT:  # threads_for(work) would be nullcontext()
        grads = pull(problem.graph, problem.values, v[None])
    else:
        with threads_for(work):
            grads = pull(problem.graph, problem.values, v[None])
    out = {}
    for name in problem.wrt:  # np.asarray of each gradient's row, which is an array but for a structured batch
        row = grads[name][0]
        out[name] = _unshared(row if type(row) is np.ndarray else np.asarray(row), problem.env, v)
    return out


def node_grads(problem: Problem, v) -> dict:
    """``{node_id: gradient}`` after ``y.backward(gradient=v)`` with ``retain_grad()`` on
    every node: ``.grad`` for the leaves that require grad, the cotangent for the others.
    Nodes that do not require grad have none (``.grad`` is ``None`` in PyTorch)."""
    g = problem.graph
    grads, kept = autodiff.vjp(g, problem.values, v[None], retain=True)
    out = {i: np.asarray(ct[0]) for i, ct in kept.items()}
    for name in problem.wrt:  # an input the output does not use gets zeros, as in jac vjp
        out.setdefault(g.inputs[name], np.asarray(grads[name][0]))
    return out


def tangents_of(problem: Problem, tangents: dict) -> dict:
    """Checked tangents ``{name: array of x's shape}``; inputs not named get none."""
    g = problem.graph
    out = {}
    for name, t in tangents.items():
        if name not in g.inputs:
            raise JacNameError(f"--tangent {name}: no input named '{name}' is bound (inputs: {', '.join(g.inputs)})"
                               f"{did_you_mean(name, g.inputs)}")
        if name not in problem.wrt:  # it would move a constant: the header says it is not differentiated
            raise JacNameError(f"--tangent {name}: '{name}' is held constant (--wrt {' '.join(problem.wrt)}); "
                               f"add --wrt {name}, or drop its tangent")
        shape = tuple(g.nodes[g.inputs[name]].shape)
        if isinstance(t, str):
            t = np.ones(shape) if t.strip() == "ones" else option_value(f"--tangent {name}", t, g.dtype, shape)
        t = numeric_value(f"the tangent (--tangent {name})", t, g.dtype)
        if t.shape != shape:
            raise JacShapeError(f"--tangent {name}: the tangent has shape {fmt(t.shape)}, but '{name}' has shape "
                                f"{fmt(shape)}; they must match, as jax.jvp's primals and tangents")
        out[name] = t
    return out


def jvp_of(problem: Problem, tangents: dict, read: bool = True) -> np.ndarray:
    """J·t: the output's directional derivative along ``tangents`` (``read``: as :func:`vjp_of`)."""
    if not tangents:
        return np.zeros(problem.graph.output_shape, dtype=problem.graph.dtype)
    batched = {name: t[None] for name, t in tangents.items()}
    with threads_for(graph_work(problem.graph)):
        push = autodiff.jvp_read if read else autodiff.jvp
        out = np.asarray(push(problem.graph, problem.values, batched)[problem.graph.output][0])
    return _unshared(out, problem.env, *tangents.values())


def hessians(problem: Problem, plan: HessianPlan | None = None, budget: int | None = None) -> dict:
    """``{(a, b): d²y / da db}`` with shape ``y.shape + a.shape + b.shape``.

    Computed as ``plan`` says (default: the plan for ``budget``): a plan that does not fit
    raises :class:`~jacobi_cli.errors.JacLimitError` before a block is allocated."""
    plan = problem.compiled.hessian_plan_of(problem, budget) if plan is None else plan
    check_plan(plan)
    g2, values, grad_ids = problem.compiled.traced_gradient(problem)
    return structural_zeros(problem.graph, problem.values,
                            autodiff.hessian_blocks(g2, values, grad_ids, problem.wrt, plan.batch))


# --- helpers ----------------------------------------------------------------------------------

def _wrt_hint(wrt, shapes: dict):
    """``wrt`` as the frozenset of input names the parser builds the flags for (:attr:`Builder.wrt`),
    or None (every input, the builder's default) for every input, and for anything but a list or tuple
    of input names: bind's check_wrt reads ``wrt`` itself, and refuses what it must."""
    if (type(wrt) is not list and type(wrt) is not tuple) or not wrt or len(wrt) >= len(shapes):
        return None  # as many names as inputs: every input (or a name twice, or one check_wrt refuses)
    try:
        names = frozenset(wrt)
    except TypeError:  # an unhashable name: check_wrt's to refuse
        return None
    return names if names <= shapes.keys() else None


def same(a, b) -> bool:
    """Do two answers agree: structure identical, values identical bit for bit (-0 and +0, NaN's
    payloads)? A kernel is kept only if its first answer is the interpreter's exactly."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Jacobian) or isinstance(b, Jacobian):
        if not (isinstance(a, Jacobian) and isinstance(b, Jacobian)) or a.structure != b.structure:
            return False
        if a.structure != "dense":
            return (np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols)
                    and same(np.asarray(a.values), np.asarray(b.values)))
        a, b = a.to_array(), b.to_array()
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    return a.tobytes() == b.tobytes()  # C order, whatever the strides


def _dense_checked(kernel, env: dict, dense: dict | None):
    """A Jacobian kernel with its dense twin (each Jacobian as its dense array, one call) when
    the twin gives the interpreter's ``dense`` arrays at ``env``; without it when it does not,
    or when this call had no dense arrays to check it against (a structured call)."""
    if kernel.dense is None or kernel.dense is kernel.kernel:  # no twin, or the kernel itself (checked)
        return kernel
    if dense is not None:
        got = _run(kernel.dense.fn, env)
        if got is not None and same(dense, dict(zip(kernel.names, got))):
            return kernel
    return replace(kernel, dense=None)


def _compile(make: str, *args):
    """``kernels.<make>(*args)``, or None when the computation cannot be traced into a kernel
    (a rule that needs concrete values): the interpreter keeps running it. (Imported here: a
    command runs once and never compiles, so ``jac eval`` never loads the compiler.)"""
    from . import kernels

    try:
        return getattr(kernels, make)(*args)
    except Exception:  # noqa: BLE001 - compiling is an optimisation, never an error
        return None


def _run(kernel, *args):
    """The kernel's answer, or None when it fails (the interpreter then runs the call)."""
    try:
        return kernel(*args)
    except Exception:  # noqa: BLE001 - the interpreter's path reports every error properly
        return None


def _as_dense(found, dense):
    """What a vjp or jvp kernel must give at the call that compiles it: ``found``, or where it holds a NaN (which
    a kernel never answers: :func:`_nan_free`) ``dense()``, the interpreter's dense pass the kernel traces, so
    that a kernel checked at values holding a NaN is kept for the calls without one."""
    arrays = found.values() if isinstance(found, dict) else [found]
    if any(autodiff.holds_nan(a) for a in arrays):
        return dense()
    return found


def _nan_free(found):
    """A vjp or jvp kernel's ``found``, or None (the interpreter answers) when a result holds a NaN: the
    kernel's dense pass writes 0 · NaN where the interpreter reads the NaN again (autodiff.vjp_read)."""
    return None if found is None or autodiff.nan_in(found) else found


def _limit(budget: int | None) -> int:
    return memory.default_budget() if budget is None else int(budget)


def _ordinal(k: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(k, f"{k}th")


def _wrt_key(wrt) -> tuple | None:
    return None if not wrt else tuple(wrt)


def _arrays(tangents: dict, dtype) -> dict | None:
    """The tangents as arrays of ``dtype``, or None when one is a string (the interpreter's
    path parses it and reports a bad value)."""
    out = {}
    for name, t in tangents.items():
        if isinstance(t, str):
            return None
        try:
            t = given_array(name, t)  # a tensor detached
        except JacValueError:
            return None
        if t.dtype.kind not in "biuf":
            return None
        out[name] = c_ordered(t if t.dtype.type is dtype else held_in(t, dtype))
    return out


def _in_arrays(found: dict, structured: bool, layout: str, budget: int) -> dict:
    """``found`` as the caller asked: the Jacobian objects, or dense arrays in ``layout``."""
    return found if structured else dense_all(found, layout, budget)


def _in_layout(found: dict, kernel, layout: str) -> dict:
    return {n: Jacobian(n, kernel.y_shape, x_shape, a, kernel.dtype).to_array(layout)
            for (n, a), x_shape in zip(found.items(), kernel.x_shapes)}
