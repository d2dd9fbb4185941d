"""Optimal static base-stock levels by sample-average approximation on HiGHS.

:func:`optimise_static` chooses one base-stock level per node and SKU -- echelon
(Clark & Scarf 1960) or local -- minimising the mean cost per period over the
sample paths and measured periods of a :class:`~scenarios.paths.SamplePaths`: the
sample-average approximation (SAA) of the expected cost (Kleywegt, Shapiro &
Homem-de-Mello 2002). Report the levels on separate test paths.

The program: the simulator in cumulative quantities
---------------------------------------------------
Per path ``p`` and period ``t``, with backlogging, the cumulative orders of node
``j`` are affine in the levels ``S`` (Chen & Zheng 1994):

* echelon: ``R[j,t] = S[j] - E0[j] + C[j,t']`` -- ``E0`` the initial echelon stock,
  ``C`` the cumulative external demand at and below ``j`` (``t' = t`` under
  ``demand-first`` timing, ``t - 1`` under ``order-first``);
* local: ``R[j,t] = S[j] - I0[j] + sum of the customers' R[c,t] (+ C[j,t'] at a demand
  node)`` -- a supplier sees its customers' orders of the same period.

A supplier ships ``min(request, on hand)`` each period, so the cumulative shipments
``X`` on its arc follow the shortfall recursion of Clark & Scarf::

    X[e,t] = min(R[e,t], A[j,t])    A[j,t] = I0[j] + arrivals into j usable by t

and outside supply ships everything (``X = R``). Stocks and pipelines are linear in
``X``; the backlog ``B = max(0, C - I0 - arrivals)`` costs money, so an epigraph
variable is exact for it. These equations reproduce
:func:`scenarios.simulator.simulate` to rounding error at any levels
(:func:`program_cost`; a test checks it).

Why not one LP: the SAA cost is not convex
------------------------------------------
The shortfall ``sh = R - X = max(0, R - A)`` is convex in the levels, and the cost
charges it with a negative weight at every supplier: a unit held back upstream
saves the echelon holding cost ``h_e`` downstream. In echelon terms a path's cost
carries ``-h_e * max(0, S[k] - S[j] - W)`` (``W`` the demand over a lead time): a
concave term. So the LP with ``X <= min(R, A)`` is a relaxation that ships less in
hindsight, and the exact program is a MILP (one binary per supplier, path and
period). That MILP is available (``method="milp"``) but HiGHS's branch-and-bound
gets nowhere on useful samples (serial-3, 8 paths x 40 periods: 3% gap after
100 s), so it is a check for tiny samples.

How it is solved: the convex-concave procedure
----------------------------------------------
The cost is a difference of convex functions, ``F(S) = g(S) - h(S)`` with ``h``
the weighted shortfalls. The convex-concave procedure (Yuille & Rangarajan 2003;
Lipp & Boyd 2016; DCA of Pham Dinh & Le Thi 1997) replaces ``h`` by its tangent at
the current levels ``S_k`` and solves the resulting LP: its objective majorises
``F`` and touches it at ``S_k``, so no step increases the SAA cost. In the program
every shipment column whose own cost is positive (the concave ones) is charged
through its tangent ``X(S_k) + dX/dS (S - S_k)``, computed by forward
differentiation of the program's own simulation; rows and other columns stay.

Each step's LP is solved one of two ways, with the same optimum:

* ``method="ccp"`` (default): Benders decomposition, the multi-cut L-shaped method
  (Van Slyke & Wets 1969). For fixed levels the LP's best shipments are the largest
  ones -- every other use of a shipment rewards shipping more -- which is exactly
  the program's simulation; so ``g`` and a subgradient per path come from one
  simulation, and a master LP over the levels and one epigraph variable per path
  collects the cuts. ``g`` is the same in every step, so cuts are kept.
* ``method="ccp-lp"``: the LP over all paths and periods, built once in HiGHS;
  between steps only the level columns' costs and the offset change (warm-started
  simplex). About ten times slower; levels are continuous in its steps and rounded
  when a step is taken.

The procedure stops when the step's LP finds no levels below ``F(S_k)``: then its
objective equals ``F`` at the returned levels, i.e. the simulated mean cost on the
same paths -- a certificate the result carries (``lp_objective``). The levels are a
critical point of the SAA problem; globally optimal where ``F`` is convex
(single-echelon systems, one step), and on tiny samples they match the exact
MILP's optimum (a test checks it).

Exactness, approximations and what is refused
---------------------------------------------
*Exact* (``StaticResult.exact``): backlog; every supplier with at most one
customer (serial lines, or several independent lines); fixed or random lead
times; unit, transport, operating and pipeline costs; fixed order costs (under
base-stock the order in a period is that period's demand, so their cost does not
depend on the levels); per-path cost scales; integer specs with integer demand
(levels are then integers, the master LP a small MIP).

*Approximate* (``exact = False``, ``notes`` say why):

* a supplier with several customers: in the LP it splits short stock as it likes,
  the simulator shares it proportionally (rounding shares down in integer specs).
  The program's simulation -- hence ``objective``, the cuts and the tangents --
  follows the simulator's rule exactly, from period 0, but that rule is not
  convex, so the cuts are not exact and the certificate may come early; integer
  levels then get a final one-unit coordinate check on the simulation;
* lost sales: sales are ``<= min(demand, stock)`` and the burn-in periods are
  charged like measured ones (else the LP could under-sell before measuring
  starts to shape the state it measures); ``objective`` reports the measured
  periods only;
* integer specs with fractional demand (the simulator rounds orders).

Capacities, MOQs, budgets, perishable SKUs, yields below 1, goodwill, supplier
disruptions, prices, demand at a node that supplies others, lost internal orders
and split sourcing are refused with a :class:`~scenarios.errors.SpecError`.

Assumptions (constraints of the program; ``notes`` say when they bind): levels lie
in ``[0, hi]``, ``hi`` the largest demand below the node over the longest lead time
through the network plus two periods; every order from the first modelled period
(the warm-up less a few lead times) on is order-up-to, i.e. a level is at least the
initial echelon stock less the demand seen by then.

References
----------
* A. J. Clark, H. Scarf (1960). Optimal policies for a multi-echelon inventory
  problem. *Management Science* 6(4), 475-490.
* F. Chen, Y.-S. Zheng (1994). Lower bounds for multi-echelon stochastic inventory
  systems. *Management Science* 40(11), 1426-1443.
* A. J. Kleywegt, A. Shapiro, T. Homem-de-Mello (2002). The sample average
  approximation method for stochastic discrete optimization. *SIAM Journal on
  Optimization* 12(2), 479-502.
* A. L. Yuille, A. Rangarajan (2003). The concave-convex procedure. *Neural
  Computation* 15(4), 915-936.
* T. Lipp, S. Boyd (2016). Variations and extension of the convex-concave
  procedure. *Optimization and Engineering* 17(2), 263-287.
* T. Pham Dinh, H. A. Le Thi (1997). Convex analysis approach to d.c. programming:
  theory, algorithms and applications. *Acta Mathematica Vietnamica* 22(1), 289-355.
* R. M. Van Slyke, R. Wets (1969). L-shaped linear programs with applications to
  optimal control and stochastic programming. *SIAM Journal on Applied
  Mathematics* 17(4), 638-663.

"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from milp.errors import require_timing
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import ParametricPolicy, make_policy
from scenarios.spec import Spec
from scenarios.tuning import initial_levels

__all__ = ["FAMILIES", "METHODS", "StaticResult", "optimise_static", "program_cost"]

#: Policy families the program optimises.
FAMILIES = ("echelon-base-stock", "base-stock")
#: ``ccp``: convex-concave procedure, each step's LP solved by Benders decomposition;
#: ``ccp-lp``: the same steps, each one LP over all paths and periods; ``milp``: the exact MILP.
METHODS = ("ccp", "ccp-lp", "milp")
_MISSING = -2  # a column index for "outside the variable's window": must never be read
_ZERO = -1  # a column index for "before period 0": the cumulative quantity is 0
_RELATIVE_TOL = 1e-7  # an LP step must promise this much relative descent


@dataclass(frozen=True)
class StaticResult:
    """Levels chosen by :func:`optimise_static` and how they were found.

    :param family: ``"echelon-base-stock"`` or ``"base-stock"``.
    :param levels: one level per node in spec node order, summed over SKUs; for a
        single SKU, ``make_policy(spec, family, {"S": levels})`` is the policy.
    :param levels_by_sku: ``(nodes, skus)`` levels; pass this array (:attr:`params`)
        for several SKUs, since ``make_policy`` spreads per-node sums by demand share.
    :param objective: the program's mean cost per period over the measured periods
        of the paths at ``levels`` (the SAA objective); when ``exact`` it is the
        simulated mean cost on the same paths.
    :param status: ``"optimal"`` (no step's LP finds levels below the current cost, or the
        MILP is solved), ``"iteration-limit"``, ``"time-limit"`` (the best levels so far),
        ``"stalled"`` (an approximate step did not improve) or another HiGHS model status.
    :param solve_time_s: wall time of the solves (seconds, building excluded).
    :param n_paths: sample paths in the program.
    :param exact: the program reproduces the simulator (see the module docstring).
    :param n_periods: measured periods per path.
    :param method: ``"ccp"``, ``"ccp-lp"`` or ``"milp"``.
    :param iterations: LPs solved: master LPs (``ccp``) or full LPs (``ccp-lp``).
    :param lp_objective: the last LP's optimal objective (``milp``: the MILP's); equal to
        ``objective`` (to solver tolerance) when ``status == "optimal"`` and ``exact``: the
        certificate that no step of the procedure improves on ``levels``.
    :param history: SAA objective (program periods) after each accepted step.
    :param build_time_s: wall time to build the program (seconds).
    :param gap: relative MIP gap at the end (``milp``; 0 otherwise).
    :param simulated: simulated mean cost per period of ``levels`` on the same paths
        (``validate=True``), else ``None``.
    :param size: ``{"columns", "rows", "nonzeros", "binaries"}`` of the program.
    :param notes: approximations made and assumptions that bind.
    """

    family: str
    levels: list[float]
    levels_by_sku: list[list[float]]
    objective: float
    status: str
    solve_time_s: float
    n_paths: int
    exact: bool
    n_periods: int
    method: str = "ccp"
    iterations: int = 0
    lp_objective: float = float("nan")
    history: tuple[float, ...] = ()
    build_time_s: float = 0.0
    gap: float = 0.0
    simulated: float | None = None
    size: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, list]:
        """Policy parameters: ``{"S": levels}`` for one SKU, else the ``(nodes, skus)`` levels.

        (With as many SKUs as nodes ``scenarios.policies`` reads a square array as per-node
        values with a path axis, so such specs cannot take per-SKU levels yet.)
        """
        single = all(len(row) == 1 for row in self.levels_by_sku)
        return {"S": self.levels if single else self.levels_by_sku}

    def policy(self, spec: Spec) -> ParametricPolicy:
        """The policy with these levels for ``spec``."""
        return make_policy(spec, self.family, self.params)

    def to_dict(self) -> dict:
        """Plain-JSON view (the fields ``echelon solve --method static`` reports)."""
        return {"method": "static", "solver": self.method, "family": self.family,
                "status": self.status, "levels": self.levels, "levels_by_sku": self.levels_by_sku,
                "objective": self.objective,
                "lp_objective": None if np.isnan(self.lp_objective) else self.lp_objective,
                "simulated": self.simulated, "exact": self.exact, "gap": self.gap,
                "iterations": self.iterations, "solve_time_s": self.solve_time_s,
                "build_time_s": self.build_time_s, "n_paths": self.n_paths,
                "n_periods": self.n_periods, "size": self.size, "notes": list(self.notes)}


# ---------------------------------------------------------------------------- expressions
class _Affine:
    """Affine expressions over the ``(paths, periods)`` grid: ``const + sum(coef * column)``.

    ``terms`` holds ``(cols, coefs)`` pairs of ``(paths, periods)`` arrays; a column of
    :data:`_ZERO` contributes nothing (a cumulative quantity before period 0), one of
    :data:`_MISSING` must not be read (outside the variable's window).
    """

    __slots__ = ("const", "terms")
    __array_ufunc__ = None  # ``array * expr`` calls ``expr.__rmul__``

    def __init__(self, const: np.ndarray, terms: list[tuple[np.ndarray, np.ndarray]] | None = None):
        self.const = const
        self.terms = terms or []

    def __add__(self, other: _Affine | np.ndarray | float) -> _Affine:
        if isinstance(other, _Affine):
            return _Affine(self.const + other.const, self.terms + other.terms)
        return _Affine(self.const + other, self.terms)

    def __sub__(self, other: _Affine | np.ndarray | float) -> _Affine:
        return self + (-1.0) * other if isinstance(other, _Affine) else self + (-other)

    def __rmul__(self, factor: np.ndarray | float) -> _Affine:
        return _Affine(factor * self.const, [(c, factor * v) for c, v in self.terms])

    def shift(self, lag: int) -> _Affine:
        """The expression ``lag`` periods earlier (cumulative quantities are 0 before period 0)."""
        if lag == 0:
            return self
        return _Affine(_lag(self.const, lag, 0.0),
                       [(_lag(c, lag, _ZERO), _lag(v, lag, 0.0)) for c, v in self.terms])

    def at(self, t: int, values: np.ndarray, grads: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray | None]:
        """Value ``(paths,)`` in period ``t`` and, with ``grads``, its gradient ``(paths, nodes)``."""
        out = self.const[:, t].copy()
        grad = None if grads is None else np.zeros((out.shape[0], grads.shape[1]))
        for cols, coefs in self.terms:
            c = cols[:, t]
            w = np.where(c >= 0, coefs[:, t], 0.0)
            c = np.maximum(c, 0)
            out += w * values[c]
            if grads is not None:
                grad += w[:, None] * grads[c]
        return out, grad


def _lag(a: np.ndarray, lag: int, fill: float) -> np.ndarray:
    """``a`` moved ``lag`` periods later along axis 1, ``fill`` in front."""
    out = np.full_like(a, fill)
    out[:, lag:] = a[:, :a.shape[1] - lag]
    return out


#: ``rule(t, values, grads) -> (value (paths,), gradient (paths, nodes) or None)``.
Rule = Callable[[int, np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray | None]]


class _Program:
    """Columns, rows and objectives of a (MI)LP, added in vectorised families.

    A column family may carry a :data:`Rule` giving its value period by period from
    earlier columns: :meth:`evaluate` then simulates the policy inside the program,
    with forward-mode gradients with respect to the levels (per SKU, one entry per node).
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.sku: list[np.ndarray] = []
        self.path: list[np.ndarray] = []  # the path of each column (-1: a level)
        self.n_cols = 0
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_lo: list[np.ndarray] = []
        self.row_hi: list[np.ndarray] = []
        self.n_rows = 0
        self.cost: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.offset: dict[str, float] = {}
        self.rules: list[tuple[np.ndarray, Rule]] = []

    # columns ------------------------------------------------------------------------------
    def columns(self, lo: np.ndarray | float, hi: np.ndarray | float, *, sku: int,
                where: np.ndarray | None = None, integer: bool = False, rule: Rule | None = None,
                first: bool = False) -> np.ndarray:
        """New columns on the cells ``where`` (default all); returns their indices ``(P, T)``.

        :param first: apply the rule before the rules already registered (same period).
        """
        where = np.ones(self.shape, bool) if where is None else where
        n = int(where.sum())
        cols = np.full(self.shape, _MISSING, dtype=np.int64)
        cols[where] = self.n_cols + np.arange(n)
        self.lo.append(np.broadcast_to(lo, self.shape)[where].astype(float))
        self.hi.append(np.broadcast_to(hi, self.shape)[where].astype(float))
        self.integer.append(np.full(n, integer))
        self.sku.append(np.full(n, sku))
        self.path.append(np.nonzero(where)[0])
        self.n_cols += n
        if rule is not None:
            self.rules.insert(0 if first else len(self.rules), (cols, rule))
        return cols

    def scalar(self, lo: float, hi: float, *, sku: int, integer: bool = False) -> int:
        """One column (a level)."""
        self.lo.append(np.array([lo], float))
        self.hi.append(np.array([hi], float))
        self.integer.append(np.array([integer]))
        self.sku.append(np.array([sku]))
        self.path.append(np.array([-1]))
        self.n_cols += 1
        return self.n_cols - 1

    def var(self, cols: np.ndarray) -> _Affine:
        """The expression of a column family."""
        return _Affine(np.zeros(self.shape), [(cols, np.ones(self.shape))])

    def level(self, col: int) -> _Affine:
        """A scalar column broadcast over the grid."""
        return _Affine(np.zeros(self.shape), [(np.full(self.shape, col), np.ones(self.shape))])

    def bounds(self, expr: _Affine) -> tuple[np.ndarray, np.ndarray]:
        """Interval bounds of ``expr`` from the column bounds."""
        lo, hi = np.concatenate(self.lo), np.concatenate(self.hi)
        low, high = expr.const.copy(), expr.const.copy()
        for cols, coefs in expr.terms:
            ok = cols >= 0
            c = np.maximum(cols, 0)
            a, b = coefs * lo[c], coefs * hi[c]
            low += np.where(ok, np.minimum(a, b), 0.0)
            high += np.where(ok, np.maximum(a, b), 0.0)
        return low, high

    # rows ---------------------------------------------------------------------------------
    def constrain(self, expr: _Affine, lower: np.ndarray | float = -np.inf,
                  upper: np.ndarray | float = np.inf, where: np.ndarray | None = None) -> None:
        """Rows ``lower <= expr <= upper`` on the cells ``where``."""
        where = np.ones(self.shape, bool) if where is None else where
        n = int(where.sum())
        if n == 0:
            return
        row = np.full(self.shape, -1, dtype=np.int64)
        row[where] = self.n_rows + np.arange(n)
        for cols, coefs in expr.terms:
            self._check_window(cols, where)
            ok = where & (cols >= 0) & (coefs != 0)
            self.rows.append((row[ok], cols[ok], coefs[ok]))
        const = expr.const[where]
        self.row_lo.append(np.broadcast_to(lower, self.shape)[where] - const)
        self.row_hi.append(np.broadcast_to(upper, self.shape)[where] - const)
        self.n_rows += n

    def order(self, first: np.ndarray, second: np.ndarray) -> None:
        """Rows ``first[i] <= second[i]`` between columns."""
        rows = self.n_rows + np.arange(len(first))
        self.rows.append((rows, first, np.ones(len(first))))
        self.rows.append((rows, second, -np.ones(len(first))))
        self.row_lo.append(np.full(len(first), -np.inf))
        self.row_hi.append(np.zeros(len(first)))
        self.n_rows += len(first)

    def charge(self, expr: _Affine, weight: np.ndarray, objective: str) -> None:
        """Add ``sum(weight * expr)`` to the named objective."""
        if objective not in self.cost:
            self.cost[objective], self.offset[objective] = [], 0.0
        for cols, coefs in expr.terms:
            self._check_window(cols, weight != 0)
            ok = (weight != 0) & (cols >= 0)
            self.cost[objective].append((cols[ok], (coefs * weight)[ok]))
        self.offset[objective] += float((expr.const * weight).sum())

    @staticmethod
    def _check_window(cols: np.ndarray, where: np.ndarray) -> None:
        if np.any(where & (cols == _MISSING)):
            raise RuntimeError("static program reads a variable outside its window (a bug)")

    def objective(self, name: str) -> tuple[np.ndarray, float]:
        """Dense cost vector and offset of the named objective."""
        out = np.zeros(self.n_cols)
        for cols, values in self.cost.get(name, []):
            np.add.at(out, cols, values)
        return out, self.offset.get(name, 0.0)

    # the policy simulated inside the program ------------------------------------------------
    def evaluate(self, levels: dict[int, tuple[float, int]], n_nodes: int,
                 gradients: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Column values (and gradients ``(columns, nodes)``) at the given levels.

        :param levels: level column -> ``(value, node)``.
        """
        values = np.zeros(self.n_cols)
        grads = np.zeros((self.n_cols, n_nodes)) if gradients else None
        for col, (v, node) in levels.items():
            values[col] = v
            if grads is not None:
                grads[col, node] = 1.0
        for t in range(self.shape[1]):
            for cols, rule in self.rules:
                c = cols[:, t]
                here = c >= 0
                if here.any():
                    v, g = rule(t, values, grads)
                    values[c[here]] = v[here]
                    if grads is not None:
                        grads[c[here]] = g[here]
        return values, grads


# ---------------------------------------------------------------------------- validation
def _check_supported(spec: Spec, family: str, paths: SamplePaths, net: Network) -> list[str]:
    """Raise :class:`SpecError` for what the program cannot express; return approximation notes."""
    if family not in FAMILIES:
        raise SpecError("family", f"optimise_static supports {', '.join(FAMILIES)}, got {family!r}")
    paths.check(spec)
    require_timing(spec, "optimise_static")
    spec.require_tree(f"optimise_static ({family})")
    refuse = []
    for i, node in enumerate(spec.nodes):
        where = f"nodes[{i}]"
        if node.storage_capacity is not None:
            refuse.append((f"{where}.storage_capacity", "storage capacities"))
        if node.production_capacity is not None:
            refuse.append((f"{where}.production_capacity", "production capacities"))
        if node.yield_rate != 1:
            refuse.append((f"{where}.yield_rate", "yields below 1"))
        if any(p != 0 for p in node.price):
            refuse.append((f"{where}.price", "prices (revenue)"))
        if net.children[i] and any(d.node == node.id for d in spec.demands):
            refuse.append((f"{where}.id", "external demand at a node that also supplies others"))
    for e, arc in enumerate(spec.arcs):
        where = f"arcs[{e}]"
        if arc.capacity is not None:
            refuse.append((f"{where}.capacity", "arc capacities"))
        if arc.moq > 0:
            refuse.append((f"{where}.moq", "minimum order quantities"))
        if arc.split not in (None, 1.0):
            refuse.append((f"{where}.split", "split sourcing"))
    for k, sku in enumerate(spec.skus):
        if sku.shelf_life is not None:
            refuse.append((f"skus[{k}].shelf_life", "perishable SKUs"))
    for d, dem in enumerate(spec.demands):
        if dem.process.goodwill is not None:
            refuse.append((f"demands[{d}].process.goodwill", "goodwill (demand that reacts to stockouts)"))
    pairs = [(d.node, d.sku) for d in spec.demands]
    if len(pairs) != len(set(pairs)):
        refuse.append(("demands", "two demand streams for one node and SKU"))
    if spec.budget is not None:
        refuse.append(("budget", "ordering budgets"))
    if spec.internal_shortage != "backlog":
        refuse.append(("internal_shortage", "lost internal orders"))
    if paths.disrupted.any():
        refuse.append(("arcs.lead_time.disruption", "supplier disruptions"))
    if refuse:
        where, what = refuse[0]
        raise SpecError(where, f"optimise_static cannot model {what} (scenario {spec.name!r}); "
                        "simulation-optimise it with scenarios.tuning.tune instead")
    if paths.n_periods <= paths.warmup:
        raise SpecError("paths", f"need measured periods after the warm-up of {paths.warmup}")

    notes = []
    if any(len(c) > 1 for c in net.children):
        notes.append("a supplier with several customers shares short stock proportionally (rounded "
                     "down): the program simulates that exactly, but its cuts are not those of a convex "
                     "cost and its LP may split as it likes")
    if spec.shortage == "lost-sales":
        notes.append("lost sales: sales are relaxed to <= min(demand, stock) and the burn-in periods "
                     "are charged in the program like measured ones")
        if np.any(net.fixed_cost > 0):
            notes.append("lost sales: fixed order costs are charged in periods with demand, "
                         "not periods with sales")
    if spec.integer and np.any(paths.demand != np.round(paths.demand)):
        notes.append("integer spec with fractional demand: the simulator rounds orders, the program does not")
    return notes


# ---------------------------------------------------------------------------- the program
class _Builder:
    """Writes the SAA program of one policy family on one set of paths.

    :param binaries: write the exact MILP (one binary per supplier, path and period);
        otherwise the LP whose shipments are only bounded above by ``min(R, A)``.
    """

    def __init__(self, spec: Spec, paths: SamplePaths, family: str, net: Network,
                 binaries: bool = False) -> None:
        self.spec, self.paths, self.family, self.net = spec, paths, family, net
        self.binaries = binaries
        self.P, self.T = paths.n_paths, paths.n_periods
        self.w = paths.warmup
        self.lost = spec.shortage == "lost-sales"
        self.prog = _Program((self.P, self.T))
        measured = np.zeros((self.P, self.T))
        measured[:, self.w:] = 1.0 / (self.P * (self.T - self.w))
        self.measured = measured
        # Lost sales charge the burn-in too (see the module docstring).
        self.charged = np.full_like(measured, 1.0 / (self.P * self.T)) if self.lost else measured
        self.hold_scale = paths.holding_scale[:, None]
        self.short_scale = paths.shortage_scale[:, None]
        self.top_down = list(reversed(spec.downstream_order()))  # suppliers before customers
        self.in_arc = {int(net.customer[e]): e for e in range(net.n_arcs)}
        self.out_arcs = {n: [e for e in range(net.n_arcs) if net.supplier[e] == n]
                         for n in range(net.n_nodes)}
        self.streams = {(int(net.demand_node[d]), int(net.demand_sku[d])): d for d in range(net.n_demands)}
        self.level_cols = np.zeros((net.n_nodes, net.n_skus), dtype=np.int64)
        self.n_binaries = 0
        # Proportional sharing depends on what was owed before: with a shared supplier the
        # shipment columns start in period 0 so the program's simulation has the whole history.
        self.from_start = any(len(c) > 1 for c in net.children)
        #: Column families of internal shipments (the concave part of the cost).
        self.shipments: list[np.ndarray] = []
        #: (node, sku, cumulative orders, first modelled period): the order-up-to rows.
        self.order_up_to: list[tuple[int, int, _Affine, int]] = []

    # -- data helpers ---------------------------------------------------------------------------
    def windows(self) -> dict[int, int]:
        """First period each arc's cumulative shipments are modelled from.

        Measured costs read arrivals up to ``L + 1`` periods back, and a supplier's
        shipments from period ``f`` read its own arrivals from ``f - L - 1``; all arcs
        out of one supplier share a window. Lost sales model every period.
        """
        start: dict[int, int] = {}
        for n in self.spec.downstream_order():  # customers first
            outs = self.out_arcs[n]
            need = min([self.w] + [start[e] for e in outs])
            for e in outs:
                start[e] = need
            if n in self.in_arc:
                e = self.in_arc[n]
                start[e] = 0 if self.lost else max(0, need - int(self.paths.lead_time[:, :, e].max()) - 1)
        return start

    def level_bounds(self) -> np.ndarray:
        """``hi`` per node and SKU: the largest demand below the node over the longest lead time + 2."""
        net, paths = self.net, self.paths
        depth = np.zeros(net.n_nodes, dtype=np.int64)  # lead time from outside down to each node
        for n in self.top_down:
            if n in self.in_arc:
                e = self.in_arc[n]
                up = depth[net.supplier[e]] if net.supplier[e] >= 0 else 0
                depth[n] = int(paths.lead_time[:, :, e].max()) + up
        window = int(depth.max()) + 2
        hi = np.ones((net.n_nodes, net.n_skus))
        for n in range(net.n_nodes):
            for k in range(net.n_skus):
                below = self.cumulative_demand(n, k)
                if below is None:
                    continue
                span = below[:, window:] - below[:, :-window] if self.T > window else below[:, -1:]
                hi[n, k] = max(1.0, float(span.max()))
        return hi

    def cumulative_demand(self, node: int, sku: int) -> np.ndarray | None:
        """``(P, T)`` cumulative external demand of ``sku`` at and below ``node`` (None if none)."""
        total = None
        for (n, k), d in self.streams.items():
            if k == sku and self.net.downstream[node, n] > 0:
                c = np.cumsum(self.paths.demand[:, :, d], axis=1)
                total = c if total is None else total + c
        return total

    def arrivals(self, shipped: _Affine, e: int, *, same_period: bool
                 ) -> tuple[_Affine, np.ndarray, np.ndarray]:
        """Cumulative units on arc ``e`` arrived by period ``t``, with interval bounds.

        :param same_period: count shipments with lead time 0 in the period they are sent
            (for end-of-period stock, and demand served after shipping); otherwise they
            count from the next period (what the customer can ship or, ``demand-first``, sell).
        """
        lead = self.paths.lead_time[:, :, e]
        lead = lead if same_period else np.maximum(lead, 1)
        kmax, kmin = int(lead.max()), int(lead.min())
        lo, hi = self.prog.bounds(shipped)
        box = (_lag(lo, kmax, 0.0), _lag(hi, kmin, 0.0))  # cumulative shipments never decrease
        if kmax == kmin:
            return shipped.shift(kmax), *box
        out = shipped.shift(kmax)
        for k in range(kmax):  # sent k periods ago with a lead time <= k: arrived
            arrived = (_lag(lead, k, kmax + 1) <= k).astype(float)
            out = out + arrived * (shipped.shift(k) - shipped.shift(k + 1))
        return out, *box

    # -- the build ------------------------------------------------------------------------------
    def build(self, box: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Write every SKU's program (SKUs share nothing).

        :param box: ``(lo, hi)`` levels ``(nodes, skus)`` replacing the default ``[0, hi]``.
        """
        net = self.net
        self.hi = self.level_bounds()
        self.lo = np.zeros_like(self.hi)
        if box is not None:
            self.lo, self.hi = (np.broadcast_to(np.asarray(b, float).reshape(net.n_nodes, -1),
                                                self.hi.shape).copy() for b in box)
        for n in range(net.n_nodes):
            for k in range(net.n_skus):
                self.level_cols[n, k] = self.prog.scalar(float(self.lo[n, k]), float(self.hi[n, k]),
                                                         sku=k, integer=self.spec.integer)
        self.start = self.windows()
        for k in range(net.n_skus):
            self._build_sku(k)

    def _build_sku(self, k: int) -> None:
        net, prog = self.net, self.prog
        P, T = self.P, self.T
        init = net.initial_inventory[:, k]
        order_first = self.spec.timing == "order-first"

        # Demand signal per demand node: cumulative demand (backlog) or sales (lost sales).
        signal: dict[int, _Affine] = {}
        sales: dict[int, np.ndarray] = {}
        for (n, kk), d in self.streams.items():
            if kk != k:
                continue
            if self.lost:
                sales[n] = prog.columns(0.0, np.cumsum(self.paths.demand[:, :, d], axis=1), sku=k)
                signal[n] = prog.var(sales[n])
            else:
                signal[n] = _Affine(np.cumsum(self.paths.demand[:, :, d], axis=1))
        seen = {n: (s.shift(1) if order_first else s) for n, s in signal.items()}

        # Cumulative orders R per ordering node: affine in the levels (and sales).
        orders: dict[int, _Affine] = {}
        for n in self.spec.downstream_order():  # customers first (local policies add theirs)
            level = prog.level(int(self.level_cols[n, k]))
            if self.family == "echelon-base-stock":
                expr = level - float(net.downstream[n] @ init)
                for m, s in seen.items():
                    if net.downstream[n, m] > 0:
                        expr = expr + s
            else:
                expr = level - float(init[n])
                for c in net.children[n]:
                    expr = expr + orders[c]
                if n in seen:
                    expr = expr + seen[n]
            orders[n] = expr
        t0 = min(self.start.values(), default=0)
        for n in orders:  # every modelled order is order-up-to (see the module docstring)
            if n in self.in_arc:
                first = np.zeros((P, T), bool)
                first[:, t0] = True
                prog.constrain(orders[n], lower=0.0, where=first)
                self.order_up_to.append((n, k, orders[n], t0))

        # What the program's simulation reads: the affine orders, or the true ones from period 0.
        placed = self._true_orders(k, orders, seen, init) if self.from_start else orders

        # Cumulative shipments X per arc, suppliers first (rows read `shipped`, rules `sent`).
        shipped: dict[int, _Affine] = {}
        sent: dict[int, _Affine] = {}
        self.pieces: dict[int, list[_Affine] | None] = {}
        for n in self.top_down:
            if n in self.in_arc and net.supplier[self.in_arc[n]] < 0:
                shipped[self.in_arc[n]] = orders[n]  # unlimited outside supply ships everything
                sent[self.in_arc[n]] = placed[n]
            self.pieces[n] = self._supply_pieces(n, orders, init)
            outs = self.out_arcs[n]
            if not outs:
                continue
            if n in self.in_arc:
                e_in = self.in_arc[n]
                arrived, a_lo, a_hi = self.arrivals(shipped[e_in], e_in, same_period=False)
                available = arrived + float(init[n])
                usable = self.arrivals(sent[e_in], e_in, same_period=False)[0] + float(init[n])
                a_lo, a_hi = a_lo + init[n], a_hi + init[n]
            else:
                available = usable = _Affine(np.full((P, T), float(init[n])))
                a_lo = a_hi = available.const
            self._ship(n, k, outs, (orders, placed), (available, usable), a_lo, a_hi, shipped)
            sent.update({e: shipped[e] for e in outs})

        self._costs(k, init, shipped, signal, sales)

    def _true_orders(self, k: int, orders: dict[int, _Affine], seen: dict[int, _Affine],
                     init: np.ndarray) -> dict[int, _Affine]:
        """Columns for the program's simulation only: the cumulative orders the simulator places.

        ``R[t] = max(R[t-1], S - I0 + customers' R[t] + demand seen)`` (echelon: ``S - E0 + C``):
        order-up-to with no negative orders, so a level below the initial stock orders nothing
        until demand has used the excess. They equal the affine ``orders`` from the rows' window on.
        """
        prog, net = self.prog, self.net
        placed: dict[int, _Affine] = {}
        for n in self.spec.downstream_order():  # customers first
            if n not in self.in_arc:
                continue
            if self.family == "echelon-base-stock":
                affine = orders[n]
            else:
                affine = prog.level(int(self.level_cols[n, k])) - float(init[n])
                for c in net.children[n]:
                    affine = affine + placed[c]
                if n in seen:
                    affine = affine + seen[n]
            mine: dict[str, _Affine] = {}

            def rule(t: int, values: np.ndarray, grads: np.ndarray | None, affine=affine, mine=mine):
                a, a_grad = affine.at(t, values, grads)
                if t == 0:
                    p = np.zeros_like(a)
                    p_grad = None if grads is None else np.zeros_like(a_grad)
                else:
                    p, p_grad = mine["R"].at(t - 1, values, grads)
                up = a > p
                return np.where(up, a, p), None if grads is None else np.where(up[:, None], a_grad, p_grad)

            mine["R"] = placed[n] = prog.var(prog.columns(-np.inf, np.inf, sku=k, rule=rule))
        return placed

    def _ship(self, n: int, k: int, outs: list[int], orders: tuple[dict[int, _Affine], dict[int, _Affine]],
              available: tuple[_Affine, _Affine], a_lo: np.ndarray, a_hi: np.ndarray,
              shipped: dict[int, _Affine]) -> None:
        """``sum X[e] <= min(sum R[e], A)``; with binaries, ``=`` (exact for one customer).

        ``orders`` and ``available`` come in pairs: what the rows read (affine in the levels,
        the true values from the rows' window on) and what the rules read (true from period 0).
        """
        net, prog = self.net, self.prog
        orders, placed = orders
        available, usable = available
        where = np.zeros((self.P, self.T), bool)  # rows: where the affine orders are the true ones
        where[:, self.start[outs[0]]:] = True
        cells = np.ones_like(where) if self.from_start else where  # columns
        requested = orders[int(net.customer[outs[0]])]
        wanted = placed[int(net.customer[outs[0]])]
        for e in outs[1:]:
            requested = requested + orders[int(net.customer[e])]
            wanted = wanted + placed[int(net.customer[e])]
        r_lo, r_hi = prog.bounds(requested)
        x_lo, x_hi = np.minimum(r_lo, a_lo), np.minimum(r_hi, a_hi)
        if len(outs) == 1:
            def single(t: int, values: np.ndarray, grads: np.ndarray | None):
                r, r_grad = wanted.at(t, values, grads)
                a, a_grad = usable.at(t, values, grads)
                short = r > a
                return np.where(short, a, r), (None if grads is None else
                                               np.where(short[:, None], a_grad, r_grad))

            x = prog.columns(x_lo, x_hi, sku=k, where=cells, rule=single)
            self.shipments.append(x)
            total = prog.var(x)
            shipped[outs[0]] = total
        else:
            total = self._split(k, outs, orders, placed, usable, where, x_hi, shipped)
        prog.constrain(total - requested, upper=0.0, where=where)
        prog.constrain(total - available, upper=0.0, where=where)
        if self.binaries:
            self._shortage_binaries(n, k, len(outs), where, total, requested, available,
                                    (r_lo, r_hi), (a_lo, a_hi))

    def _split(self, k: int, outs: list[int], orders: dict[int, _Affine], placed: dict[int, _Affine],
               usable: _Affine, where: np.ndarray, x_hi: np.ndarray, shipped: dict[int, _Affine]) -> _Affine:
        """Shipments per customer: each within its requests, never decreasing (a relaxation).

        Their rule is the simulator's proportional sharing (shares rounded down in integer
        specs), from period 0 on the true orders ``placed`` and the stock ``usable``.
        """
        net, prog = self.net, self.prog
        later = where.copy()
        later[:, self.start[outs[0]]] = False
        cols: dict[int, np.ndarray] = {}
        memo: dict[str, object] = {}

        def share(t: int, values: np.ndarray, grads: np.ndarray | None) -> None:
            prev = {f: (shipped[f].at(t - 1, values, grads) if t > 0 else
                        (np.zeros(self.P), None if grads is None else np.zeros((self.P, grads.shape[1]))))
                    for f in outs}
            req = {}
            for f in outs:
                r, r_grad = _sub(placed[int(net.customer[f])].at(t, values, grads), prev[f])
                req[f] = (np.maximum(r, 0.0),
                          None if r_grad is None else np.where((r > 0)[:, None], r_grad, 0.0))
            owed = _total(req.values())
            stock = _sub(usable.at(t, values, grads), _total(prev.values()))
            short = owed[0] > stock[0]
            factor = np.where(short, stock[0] / np.maximum(owed[0], 1e-12), 1.0)
            out = {}
            for f in outs:
                value = prev[f][0] + req[f][0] * factor
                if self.spec.integer:  # the simulator rounds each share down
                    value = prev[f][0] + np.floor(req[f][0] * factor + 1e-9)
                grad = None
                if grads is not None:  # quotient rule where the supplier is short
                    owed_sq = np.maximum(owed[0], 1e-12)[:, None] ** 2
                    d_factor = np.where(short[:, None],
                                        (stock[1] * owed[0][:, None] - stock[0][:, None] * owed[1]) / owed_sq,
                                        0.0)
                    grad = prev[f][1] + req[f][1] * factor[:, None] + req[f][0][:, None] * d_factor
                out[f] = (value, grad)
            memo.update(t=t, out=out)

        def rule_for(e: int) -> Rule:
            def rule(t: int, values: np.ndarray, grads: np.ndarray | None):
                if memo.get("t") != t:
                    share(t, values, grads)
                return memo["out"][e]
            return rule

        total = None
        for e in outs:
            cols[e] = prog.columns(-np.inf, x_hi, sku=k, rule=rule_for(e))
            self.shipments.append(cols[e])
            x = prog.var(cols[e])
            shipped[e] = x
            prog.constrain(x - orders[int(net.customer[e])], upper=0.0, where=where)
            prog.constrain(x - x.shift(1), lower=0.0, where=later)
            total = x if total is None else total + x
        return total

    # -- the exact MILP's binaries ---------------------------------------------------------------
    def _shortage_binaries(self, n: int, k: int, n_out: int, where: np.ndarray, total: _Affine,
                           requested: _Affine, available: _Affine, r_box: tuple, a_box: tuple) -> None:
        """``z = 1`` iff the supplier is short, so that ``total = min(R, A)`` exactly (big-M from bounds)."""
        prog = self.prog
        big_r = np.maximum(r_box[1] - a_box[0], 0.0)  # R - min(R, A) <= big_r
        big_a = np.maximum(a_box[1] - r_box[0], 0.0)  # A - min(R, A) <= big_a

        def short(t: int, values: np.ndarray, grads: np.ndarray | None):
            gap = requested.at(t, values)[0] - available.at(t, values)[0]
            return (gap > 0).astype(float), None if grads is None else np.zeros((self.P, grads.shape[1]))

        z = prog.columns((big_a <= 0).astype(float), (big_r > 0).astype(float), sku=k, where=where,
                         integer=True, rule=short)
        self.n_binaries += int((where & (big_a > 0) & (big_r > 0)).sum())
        zz = prog.var(z)
        prog.constrain(total - requested + big_r * zz, lower=0.0, where=where)
        prog.constrain(total - available - big_a * zz, lower=-big_a, where=where)
        if n_out == 1 and self.pieces.get(n) is not None:
            self._threshold_families(k, z, where, requested, self.pieces[n])
        else:
            self._chain(z, where, requested - available)

    def _supply_pieces(self, n: int, orders: dict[int, _Affine], init: np.ndarray) -> list[_Affine] | None:
        """``A[n] = min_a P[a]``: node ``n``'s cumulative usable supply unrolled up its supply chain.

        With fixed lead times and one customer per ancestor, what ``n`` can ship by
        ``t`` is the least, over ``n`` and its ancestors ``a``, of the initial stock
        between them plus ``R[a]`` one chain of lead times earlier: each piece is
        affine in the levels. ``None`` where that does not hold.
        """
        e = self.in_arc.get(n)
        if e is None:
            return None
        lead = self.paths.lead_time[:, :, e]
        if lead.min() != lead.max() or lead.min() < 1:
            return None
        lag = int(lead.min())
        own = orders[n].shift(lag) + float(init[n])
        p = int(self.net.supplier[e])
        if p < 0:
            return [own]
        if len(self.out_arcs[p]) != 1 or self.pieces.get(p) is None:
            return None
        return [own] + [piece.shift(lag) + float(init[n]) for piece in self.pieces[p]]

    def _threshold_families(self, k: int, z: np.ndarray, where: np.ndarray, requested: _Affine,
                            pieces: list[_Affine]) -> None:
        """Tie the shortage binaries to the levels through one ordered family per supply piece.

        ``z = 1`` iff some ``q[a] = 1``, ``q[a] = 1`` iff ``R - P[a] > 0``. Each ``R - P[a]`` is
        one affine function of the levels plus a number per cell (demand over a chain
        of lead times), so each family is a threshold on one level difference and is
        chained in the order of those numbers.
        """
        prog = self.prog
        zz = prog.var(z)
        families = []
        for piece in pieces:
            gap = requested - piece
            g_lo, g_hi = prog.bounds(gap)
            if len(pieces) == 1:
                q = z
            else:
                def rule(t: int, values: np.ndarray, grads: np.ndarray | None, gap: _Affine = gap):
                    return ((gap.at(t, values)[0] > 0).astype(float),
                            None if grads is None else np.zeros((self.P, grads.shape[1])))

                q = prog.columns((g_lo > 0).astype(float), (g_hi > 0).astype(float), sku=k, where=where,
                                 integer=True, rule=rule)
                self.n_binaries += int((where & (g_lo <= 0) & (g_hi > 0)).sum())
                prog.constrain(zz - prog.var(q), lower=0.0, where=where)
            qq = prog.var(q)
            up, down = np.maximum(g_hi, 0.0), np.maximum(-g_lo, 0.0)
            prog.constrain(gap - up * qq, upper=0.0, where=where)
            prog.constrain(gap - down * qq, lower=-down, where=where)
            families.append(qq)
            self._chain(q, where, gap)
        if len(pieces) > 1:
            total = families[0]
            for qq in families[1:]:
                total = total + qq
            prog.constrain(total - zz, lower=0.0, where=where)

    def _chain(self, z: np.ndarray, where: np.ndarray, gap: _Affine) -> None:
        """``z[a] <= z[b]`` whenever ``gap`` is one affine function of the columns plus a number per cell.

        Then the binaries (``gap > 0``) are ordered by that number, for every choice of levels.
        """
        if not all(np.all(c[where] == c[where][0]) and np.all(v[where] == v[where][0])
                   for c, v in gap.terms):
            return
        ids = z[where][np.argsort(gap.const[where], kind="stable")]
        if len(ids) > 1:
            self.prog.order(ids[:-1], ids[1:])

    # -- costs ---------------------------------------------------------------------------------
    def _costs(self, k: int, init: np.ndarray, shipped: dict[int, _Affine],
               signal: dict[int, _Affine], sales: dict[int, np.ndarray]) -> None:
        """Holding, pipeline, shortage, per-unit and fixed costs of SKU ``k``."""
        net, prog, paths = self.net, self.prog, self.paths
        P, T = self.P, self.T
        order_first = self.spec.timing == "order-first"
        nothing = _Affine(np.zeros((P, T)))

        def charge(expr: _Affine, scale: np.ndarray | float = 1.0) -> None:
            prog.charge(expr, scale * self.measured, "measured")
            prog.charge(expr, scale * self.charged, "program")

        for n in range(net.n_nodes):
            hold = net.holding_cost[n, k] * self.hold_scale
            e_in = self.in_arc.get(n)
            arrived_end = (self.arrivals(shipped[e_in], e_in, same_period=True)[0] if e_in is not None
                           else nothing)
            if (n, k) in self.streams:
                d = self.streams[(n, k)]
                penalty = net.shortage_cost[d] * self.short_scale
                arrived_sell = (self.arrivals(shipped[e_in], e_in, same_period=order_first)[0]
                                if e_in is not None else nothing)
                if self.lost:
                    sold = prog.var(sales[n])
                    new = sold - sold.shift(1)
                    prog.constrain(new, lower=0.0, upper=paths.demand[:, :, d])
                    prog.constrain(sold - arrived_sell, upper=float(init[n]))
                    charge(_Affine(paths.demand[:, :, d]) - new, penalty)
                    charge(arrived_end - sold + float(init[n]), hold)
                    self._sales_rule(sales[n], arrived_sell, float(init[n]), paths.demand[:, :, d])
                else:
                    demand = signal[n]
                    need = demand - arrived_sell - float(init[n])  # backlog = max(0, need)
                    where = np.zeros((P, T), bool)
                    where[:, self.w:] = True

                    def backlog_rule(t: int, values: np.ndarray, grads: np.ndarray | None, need=need):
                        v, g = need.at(t, values, grads)
                        return np.maximum(v, 0.0), None if g is None else np.where((v > 0)[:, None], g, 0.0)

                    backlog = prog.columns(0.0, np.inf, sku=k, where=where, rule=backlog_rule)
                    b = prog.var(backlog)
                    prog.constrain(b - need, lower=0.0, where=where)
                    charge(b, penalty)
                    charge(arrived_end - demand + b + float(init[n]), hold)  # on hand
            else:
                out = nothing
                for e in self.out_arcs[n]:
                    out = out + shipped[e]
                charge(arrived_end - out + float(init[n]), hold)
        for e in range(net.n_arcs):
            x = shipped[e]
            arrived_end = self.arrivals(x, e, same_period=True)[0]
            charge(x - arrived_end, net.pipeline_cost[e] * self.hold_scale)
            unit = net.unit_cost[e] + net.transport_cost[e] + net.operating_cost[net.customer[e]]
            if unit:
                charge(x - x.shift(1), unit)
        if k == 0 and np.any(net.fixed_cost > 0):
            charge(_Affine(self._fixed_costs()))

    def _sales_rule(self, cols: np.ndarray, arrived: _Affine, init: float, demand: np.ndarray) -> None:
        """Greedy sales: ``Sold[t] = min(Sold[t-1] + D[t], I0 + arrivals[t])``.

        ``demand-first`` orders read this period's sales, so sales are worked out
        before the period's shipments; ``order-first`` sales read this period's
        same-period arrivals, so after them.
        """
        prog = self.prog
        sold = prog.var(cols)

        def rule(t: int, values: np.ndarray, grads: np.ndarray | None):
            if t > 0:
                before, before_grad = sold.at(t - 1, values, grads)
            else:
                before = np.zeros(self.P)
                before_grad = None if grads is None else np.zeros((self.P, grads.shape[1]))
            stock, stock_grad = arrived.at(t, values, grads)
            wanted = before + demand[:, t]
            short = init + stock < wanted
            value = np.where(short, init + stock, wanted)
            return value, None if grads is None else np.where(short[:, None], stock_grad, before_grad)

        if self.spec.timing == "demand-first":
            prog.rules.insert(0, (cols, rule))
        else:
            prog.rules.append((cols, rule))

    def _fixed_costs(self) -> np.ndarray:
        """``(P, T)`` fixed order costs: under base-stock an arc orders iff demand below it was seen."""
        net, demand = self.net, self.paths.demand
        lag = 1 if self.spec.timing == "order-first" else 0
        cost = np.zeros((self.P, self.T))
        for e in np.flatnonzero(net.fixed_cost > 0):
            below = net.downstream[int(net.customer[e])][net.demand_node] > 0  # streams below the arc
            cost += net.fixed_cost[e] * (_lag(demand[:, :, below].sum(axis=2), lag, 0.0) > 0)
        return cost

    # -- levels ---------------------------------------------------------------------------------
    def fixed(self, levels: np.ndarray) -> dict[int, tuple[float, int]]:
        """Level columns -> ``(value, node)`` for :meth:`_Program.evaluate`."""
        return {int(self.level_cols[n, k]): (float(levels[n, k]), n)
                for n in range(self.net.n_nodes) for k in range(self.net.n_skus)}

    def evaluate(self, levels: np.ndarray, gradients: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """The program's simulation of the policy at ``(nodes, skus)`` levels."""
        return self.prog.evaluate(self.fixed(levels), self.net.n_nodes, gradients)

    def start_levels(self) -> np.ndarray:
        """Heuristic ``(nodes, skus)`` levels (newsvendor-style), lifted to satisfy the program."""
        net = self.net
        lv = initial_levels(self.spec, net)
        per_node = lv["echelon"] if self.family == "echelon-base-stock" else lv["local"]
        return self.clip(per_node[:, None] * self.share())

    def share(self) -> np.ndarray:
        """``(nodes, skus)`` each SKU's share of the demand through each node (as ``make_policy`` spreads)."""
        rate = self.net.demand_rate
        total = rate.sum(axis=1, keepdims=True)
        return np.where(total > 0, rate / np.where(total > 0, total, 1.0), 1.0 / self.net.n_skus)

    def clip(self, levels: np.ndarray) -> np.ndarray:
        """Levels inside the box, rounded for integer specs, and lifted so every order is order-up-to.

        The order-up-to rows read the levels only, so they are checked without simulating.
        """
        levels = np.clip(levels, self.lo, self.hi)
        if self.spec.integer:
            levels = np.round(levels)
        for _ in range(self.net.n_nodes + 1):  # local levels feed their suppliers' orders
            values = np.zeros(self.prog.n_cols)
            values[self.level_cols.ravel()] = levels.ravel()
            moved = False
            for n, k, orders, t0 in self.order_up_to:
                low = float(orders.at(t0, values)[0].min())
                if low < -1e-9:
                    levels[n, k] -= low
                    if self.spec.integer:
                        levels[n, k] = np.ceil(levels[n, k] - 1e-9)
                    moved = True
            if not moved:
                break
        return np.minimum(levels, self.hi)


def _sub(a: tuple, b: tuple) -> tuple:
    """Difference of ``(value, gradient)`` pairs."""
    return a[0] - b[0], None if a[1] is None else a[1] - b[1]


def _total(pairs) -> tuple:
    """Sum of ``(value, gradient)`` pairs."""
    pairs = list(pairs)
    value = sum(p[0] for p in pairs)
    grad = None if pairs[0][1] is None else sum(p[1] for p in pairs)
    return value, grad


# ---------------------------------------------------------------------------- HiGHS
def _highs(prog: _Program, cost: np.ndarray, offset: float, integer: np.ndarray,
           threads: int | None) -> highspy.Highs:
    """A HiGHS instance holding the program (built once; objectives change in place)."""
    rows = np.concatenate([r for r, _, _ in prog.rows])
    cols = np.concatenate([c for _, c, _ in prog.rows])
    vals = np.concatenate([v for _, _, v in prog.rows])
    matrix = sp.csc_matrix((vals, (rows, cols)), shape=(prog.n_rows, prog.n_cols))
    matrix.sum_duplicates()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = prog.n_cols, prog.n_rows
    lp.col_cost_ = cost
    lp.offset_ = offset
    lp.col_lower_ = np.concatenate(prog.lo)
    lp.col_upper_ = np.concatenate(prog.hi)
    lp.row_lower_ = np.concatenate(prog.row_lo)
    lp.row_upper_ = np.concatenate(prog.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    if integer.any():
        lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger,
                                   highspy.HighsVarType.kContinuous).tolist()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    return h


def _status(h: highspy.Highs) -> str:
    """The HiGHS model status as a short name."""
    status = h.getModelStatus()
    names = {highspy.HighsModelStatus.kOptimal: "optimal",
             highspy.HighsModelStatus.kTimeLimit: "time-limit",
             highspy.HighsModelStatus.kInfeasible: "infeasible"}
    return names.get(status, h.modelStatusToString(status).lower().replace(" ", "-"))


def _ccp(builder: _Builder, start: np.ndarray, deadline: float, max_iterations: int,
         threads: int | None) -> tuple[np.ndarray, str, int, float, list[float]]:
    """The convex-concave procedure, each step one LP over all paths and periods.

    One HiGHS model is built; between steps only the level columns' costs and the
    offset change (the tangents), and the simplex warm-starts from the last basis.
    """
    prog, net = builder.prog, builder.net
    cost, offset = prog.objective("program")
    concave, gamma, sku_of = _concave(builder, cost)
    flat_levels = builder.level_cols.ravel()
    base_level_cost = cost[flat_levels].copy()
    lp_cost = cost.copy()
    lp_cost[concave] = 0.0
    # Continuous levels: an integer spec would make every step a MIP over all cells; steps are
    # rounded when taken (``clip``) and must lower the SAA cost.
    h = _highs(prog, lp_cost, offset, np.zeros(prog.n_cols, bool), threads)

    def saa(levels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        values, grads = builder.evaluate(levels, gradients=True)
        return float(cost @ values + offset), values, grads

    levels = start
    value, values, grads = saa(levels)
    history, status, lp_value, iterations = [value], "iteration-limit", float("nan"), 0
    for _ in range(max_iterations):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            status = "time-limit"
            break
        slope, constant = _tangent(levels, values, grads, concave, gamma, sku_of, net.n_nodes, net.n_skus)
        h.changeColsCost(len(flat_levels), flat_levels.astype(np.int32), base_level_cost + slope.ravel())
        h.changeObjectiveOffset(offset + constant)
        h.setOptionValue("time_limit", float(remaining))
        h.run()
        iterations += 1
        status = _status(h)
        if status != "optimal":
            break
        lp_value = float(h.getInfo().objective_function_value)
        if lp_value >= value - _RELATIVE_TOL * max(1.0, abs(value)):
            break  # no step promises descent: a critical point, certified by the LP
        proposal = builder.clip(np.array(h.getSolution().col_value)[builder.level_cols])
        new_value, new_values, new_grads = saa(proposal)
        step = 1.0
        while new_value >= value and step > 1 / 16:  # only when the LP is not a majoriser
            step /= 2
            proposal = builder.clip(levels + step * (proposal - levels))
            new_value, new_values, new_grads = saa(proposal)
        if new_value >= value:
            status = "stalled"
            break
        levels, value, values, grads = proposal, new_value, new_values, new_grads
        history.append(value)
        status = "iteration-limit"
    return levels, status, iterations, lp_value, history


class _Cuts:
    """The master LP of the multi-cut L-shaped method over the levels (Van Slyke & Wets 1969).

    ``min  lin . S + sum_p theta_p``  over the level box and the order-up-to rows, with
    ``theta_p >= g_p(S_j) + s_pj . (S - S_j)`` for every evaluated ``S_j``: a lower model of
    ``g = sum_p g_p``, convex in the levels, that tightens with every evaluation.
    """

    def __init__(self, builder: _Builder, threads: int | None) -> None:
        net = builder.net
        self.n_levels = net.n_nodes * net.n_skus
        self.n_paths = builder.P
        index = {int(c): i for i, c in enumerate(builder.level_cols.ravel())}
        self.h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", 0)
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        n = self.n_levels + self.n_paths
        h.addVars(n, np.concatenate([builder.lo.ravel(), np.full(self.n_paths, -highspy.kHighsInf)]),
                  np.concatenate([builder.hi.ravel(), np.full(self.n_paths, highspy.kHighsInf)]))
        if builder.spec.integer:
            h.changeColsIntegrality(self.n_levels, np.arange(self.n_levels, dtype=np.int32),
                                    np.full(self.n_levels, highspy.HighsVarType.kInteger))
        for _, _, orders, t0 in builder.order_up_to:  # R[t0] >= 0 on every path: linear in the levels
            coef = np.zeros((self.n_paths, n))
            for cols, coefs in orders.terms:
                c, w = cols[:, t0], coefs[:, t0]
                for p in np.flatnonzero(c >= 0):
                    if int(c[p]) not in index:
                        raise RuntimeError("order-up-to rows must read levels only (a bug)")
                    coef[p, index[int(c[p])]] += w[p]
            self._add_rows(sp.csr_matrix(coef), -orders.const[:, t0])

    def _add_rows(self, matrix: sp.csr_matrix, lower: np.ndarray) -> None:
        """Rows ``matrix . (S, theta) >= lower``."""
        self.h.addRows(matrix.shape[0], lower, np.full(matrix.shape[0], highspy.kHighsInf), matrix.nnz,
                       matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32), matrix.data)

    def add(self, levels: np.ndarray, values: np.ndarray, slopes: np.ndarray) -> None:
        """Cuts ``theta_p - s_p . S >= g_p(S_j) - s_p . S_j`` from one evaluation.

        :param values: ``(paths,)`` ``g_p`` at ``levels``; ``slopes``: ``(paths, levels)``.
        """
        theta = sp.identity(self.n_paths, format="csr")
        self._add_rows(sp.hstack([sp.csr_matrix(-slopes), theta], format="csr"),
                       values - slopes @ levels.ravel())

    def solve(self, linear: np.ndarray, offset: float, time_limit: float) -> tuple[str, np.ndarray, float]:
        """Minimise the model plus ``linear . S + offset``; return status, levels, model value."""
        n = self.n_levels + self.n_paths
        costs = np.concatenate([linear, np.ones(self.n_paths)])
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        self.h.changeObjectiveOffset(float(offset))
        self.h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
        self.h.run()
        status = _status(self.h)
        if status != "optimal":
            return status, np.zeros(self.n_levels), float("nan")
        x = np.array(self.h.getSolution().col_value)
        return status, x[:self.n_levels], float(self.h.getInfo().objective_function_value)


def _ccp_decomposed(builder: _Builder, start: np.ndarray, deadline: float, max_iterations: int,
                    threads: int | None) -> tuple[np.ndarray, str, int, float, list[float]]:
    """The convex-concave procedure with each step's LP solved by Benders decomposition.

    Step ``k``'s LP is ``min_S g(S) - [tangent of the concave part at S_k](S)`` where ``g``
    is the LP's value with the concave shipments uncharged. For fixed levels that
    LP's best shipments are the largest ones (every other use of a shipment rewards
    shipping more), which is exactly the program's simulation: so ``g`` and a
    subgradient per path come from one :meth:`_Builder.evaluate` and the master LP
    (:class:`_Cuts`) only sees the levels. ``g`` does not change between steps, so
    its cuts are kept. A proposal is taken as soon as it lowers the SAA cost ``F``; the
    procedure stops when the master's bound shows no level can lower the step's
    majoriser below ``F`` at the current levels -- the same certificate as the full LP.
    """
    prog, net = builder.prog, builder.net
    cost, offset = prog.objective("program")
    concave, gamma, sku_of = _concave(builder, cost)
    g_cost = cost.copy()
    g_cost[concave] = 0.0
    path = np.concatenate(prog.path)
    sku = np.concatenate(prog.sku)
    flat_levels = builder.level_cols.ravel()
    level_linear = g_cost[flat_levels].copy()  # levels' own cost: global, kept out of the cuts
    per_path = np.flatnonzero((path >= 0) & (g_cost != 0))
    N, K = net.n_nodes, net.n_skus
    cuts = _Cuts(builder, threads)

    def evaluate(levels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        values, grads = builder.evaluate(levels, gradients=True)
        w = g_cost[per_path] * values[per_path]
        g_paths = np.bincount(path[per_path], weights=w, minlength=builder.P)
        slopes = np.zeros((builder.P, N, K))
        for k in range(K):
            mine = per_path[sku[per_path] == k]
            for n in range(N):
                slopes[:, n, k] = np.bincount(path[mine], weights=g_cost[mine] * grads[mine, n],
                                              minlength=builder.P)
        cuts.add(levels, g_paths, slopes.reshape(builder.P, -1))
        return float(cost @ values + offset), values, grads

    levels = start
    value, values, grads = evaluate(levels)
    history, status, bound, iterations = [value], "iteration-limit", float("nan"), 0
    tangent = _tangent(levels, values, grads, concave, gamma, sku_of, N, K)
    for _ in range(max_iterations * 50):  # master LPs: several per step while cuts accumulate
        tol = _RELATIVE_TOL * max(1.0, abs(value))
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            status = "time-limit"
            break
        slope, constant = tangent
        status, proposal, bound = cuts.solve(level_linear + slope.ravel(), offset + constant, remaining)
        iterations += 1
        if status != "optimal":
            break
        if bound >= value - tol:
            status = "optimal"  # no level lowers the step's majoriser below F(S_k)
            break
        proposal = builder.clip(proposal.reshape(N, K))
        new_value, new_values, new_grads = evaluate(proposal)
        if new_value < value - tol:
            levels, value, values, grads = proposal, new_value, new_values, new_grads
            history.append(value)
            tangent = _tangent(levels, values, grads, concave, gamma, sku_of, N, K)
            if len(history) > max_iterations:
                status = "iteration-limit"
                break
        elif np.allclose(proposal, levels):
            status = "stalled"  # the proposal is the current point: the model cannot improve
            break
    return levels, status, iterations, bound, history


def _concave(builder: _Builder, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shipment columns whose own cost is positive (charged through tangents), their costs and SKUs."""
    shipments = (np.concatenate([c[c >= 0] for c in builder.shipments]) if builder.shipments
                 else np.zeros(0, np.int64))
    concave = shipments[cost[shipments] > 0]
    return concave, cost[concave], np.concatenate(builder.prog.sku)[concave]


def _tangent(levels: np.ndarray, values: np.ndarray, grads: np.ndarray, concave: np.ndarray,
             gamma: np.ndarray, sku_of: np.ndarray, n_nodes: int, n_skus: int) -> tuple[np.ndarray, float]:
    """Slope ``(nodes, skus)`` and constant of ``sum gamma * [X(S_k) + dX/dS . (S - S_k)]``."""
    g = grads[concave]  # (m, nodes): each column's gradient over its SKU's levels
    slope = np.zeros((n_skus, n_nodes))
    np.add.at(slope, sku_of, gamma[:, None] * g)
    here = levels[:, sku_of].T  # (m, nodes): the current levels of each column's SKU
    return slope.T, float(gamma @ (values[concave] - (g * here).sum(axis=1)))


def _polish(builder: _Builder, levels: np.ndarray, deadline: float) -> tuple[np.ndarray, int]:
    """Move integer levels by one unit while that lowers the program's SAA cost; return levels, moves.

    For approximate integer programs only: there the cuts of a shared supplier's
    proportional, rounded-down sharing are not those of a convex function, so the
    procedure's stopping test can fire early.
    """
    cost, offset = builder.prog.objective("program")

    def saa(candidate: np.ndarray) -> float:
        return float(cost @ builder.evaluate(candidate)[0] + offset)

    best, moves = saa(levels), 0
    while time.perf_counter() < deadline:
        trials = []
        for index in np.ndindex(levels.shape):
            for step in (-1.0, 1.0):
                trial = levels.copy()
                trial[index] += step
                trial = builder.clip(trial)
                if not np.array_equal(trial, levels):
                    trials.append((saa(trial), trial))
        if not trials:
            break
        value, trial = min(trials, key=lambda pair: pair[0])
        if value >= best - _RELATIVE_TOL * max(1.0, abs(best)):
            break
        best, levels, moves = value, trial, moves + 1
    return levels, moves


def _milp(builder: _Builder, start: np.ndarray, time_limit: float, mip_gap: float,
          threads: int | None) -> tuple[np.ndarray, str, float, float]:
    """The exact MILP, started from ``start``; returns levels, status, objective and gap."""
    prog = builder.prog
    cost, offset = prog.objective("program")
    h = _highs(prog, cost, offset, np.concatenate(prog.integer), threads)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    values, _ = builder.evaluate(start)
    solution = highspy.HighsSolution()
    solution.col_value = values.tolist()
    solution.value_valid = True
    h.setSolution(solution)
    h.run()
    status = _status(h)
    found = h.getSolution()
    columns = np.array(found.col_value) if found.value_valid else values
    levels = builder.clip(columns[builder.level_cols])
    info = h.getInfo()
    return levels, status, float(info.objective_function_value), float(info.mip_gap)


# ---------------------------------------------------------------------------- entry points
def optimise_static(spec: Spec, paths: SamplePaths, family: str = "echelon-base-stock", *,
                    method: str = "ccp", time_limit: float = 120.0, max_iterations: int = 50,
                    start: np.ndarray | list[float] | None = None, mip_gap: float = 1e-4,
                    threads: int | None = None, validate: bool = False) -> StaticResult:
    """Base-stock levels minimising the mean cost per period over ``paths``.

    See the module docstring for the program, how it is solved, what is exact and
    what is approximated. Mind the size: a few columns and rows per path, period and
    (internal arc or demand stream) and SKU; 200 paths of 200 periods take seconds
    on ``serial-3``.

    :param spec: the scenario; tree-shaped (one supplier per node).
    :param paths: training sample paths; their ``warmup`` periods are a burn-in:
        simulated from the spec's initial inventory but not counted.
    :param family: ``"echelon-base-stock"`` (Clark & Scarf 1960) or ``"base-stock"`` (local).
    :param method: ``"ccp"`` (convex-concave procedure with Benders steps, the default),
        ``"ccp-lp"`` (the same, each step one LP over all cells; slower) or ``"milp"`` (the
        exact MILP; tiny samples only).
    :param time_limit: seconds HiGHS may spend in total; on a time-out the best levels
        found are returned with ``status="time-limit"``.
    :param max_iterations: cap on steps of the procedure (``ccp``, ``ccp-lp``).
    :param start: starting levels, ``(nodes,)`` (spread over SKUs by demand share) or
        ``(nodes, skus)`` (default: the newsvendor-style :func:`scenarios.tuning.initial_levels`).
    :param mip_gap: relative optimality gap at which HiGHS stops (``milp``, integer specs).
    :param threads: HiGHS threads (default: HiGHS's choice).
    :param validate: also simulate the levels on ``paths`` and store the mean in ``simulated``.
    :return: a :class:`StaticResult`.
    :raises SpecError: unknown family or method, unsupported scenario features (named),
        paths drawn for another spec.
    """
    if method not in METHODS:
        raise SpecError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    began = time.perf_counter()
    net = Network(spec)
    notes = _check_supported(spec, family, paths, net)
    exact = not notes
    builder = _Builder(spec, paths, family, net, binaries=method == "milp")
    builder.build()
    if start is None:
        first = builder.start_levels()
    else:
        first = np.asarray(start, dtype=float)
        if first.ndim == 1:
            first = first[:, None] * builder.share()
        first = builder.clip(first.reshape(net.n_nodes, net.n_skus))
    build_time = time.perf_counter() - began

    solving = time.perf_counter()
    iterations, history, gap = 0, [], 0.0
    if method in ("ccp", "ccp-lp"):
        run = _ccp_decomposed if method == "ccp" else _ccp
        levels, status, iterations, lp_value, history = run(
            builder, first, solving + time_limit, max_iterations, threads)
        if spec.integer and not exact:
            levels, moves = _polish(builder, levels, solving + time_limit)
            if moves:
                notes.append(f"integer levels moved {moves} time(s) by one unit after the procedure "
                             "(its cuts are not exact here); lp_objective is the bound before that")
    else:
        levels, status, lp_value, gap = _milp(builder, first, time_limit, mip_gap, threads)
    solve_time = time.perf_counter() - solving

    values, _ = builder.evaluate(levels)
    measured, measured_offset = builder.prog.objective("measured")
    objective = float(measured @ values + measured_offset)
    if np.any(levels >= builder.hi - 1e-6):
        notes.append("a level sits at its upper bound (the largest demand over the longest lead time + 2)")
    for n, _, orders, t0 in builder.order_up_to:
        if orders.at(t0, values)[0].min() < 1e-6:
            notes.append(f"node {spec.node_ids[n]!r}: the level is held at the initial stock less the "
                         "burn-in demand (a longer warm-up would free it)")
    simulated = None
    if validate:
        from scenarios.simulator import simulate

        policy = make_policy(spec, family, {"S": levels[:, 0] if net.n_skus == 1 else levels})
        simulated = float(simulate(spec, paths, policy, network=net).total_cost[:, paths.warmup:].mean())
    prog = builder.prog
    size = {"columns": prog.n_cols, "rows": prog.n_rows,
            "nonzeros": int(sum(len(r) for r, _, _ in prog.rows)), "binaries": builder.n_binaries}
    return StaticResult(
        family=family, levels=[float(v) for v in levels.sum(axis=1)], levels_by_sku=levels.tolist(),
        objective=objective, status=status, solve_time_s=solve_time, n_paths=paths.n_paths,
        exact=exact, n_periods=paths.n_periods - paths.warmup, method=method, iterations=iterations,
        lp_objective=lp_value, history=tuple(history), build_time_s=build_time, gap=gap,
        simulated=simulated, size=size, notes=tuple(notes))


def program_cost(spec: Spec, paths: SamplePaths, family: str, levels: np.ndarray | list[float]) -> float:
    """The program's mean cost per period over the measured periods at fixed ``levels``.

    No solver is involved: the policy is simulated inside the program's own
    equations, so comparing this with :func:`scenarios.simulator.simulate` checks
    the formulation.

    :param levels: ``(nodes,)`` for one SKU or ``(nodes, skus)``.
    """
    net = Network(spec)
    _check_supported(spec, family, paths, net)
    builder = _Builder(spec, paths, family, net)
    builder.build()
    values, _ = builder.evaluate(np.asarray(levels, dtype=float).reshape(net.n_nodes, net.n_skus))
    cost, offset = builder.prog.objective("measured")
    return float(cost @ values + offset)


def static_from_params(spec: Spec, params: dict[str, list[float | str]] | None,
                       train: Callable[[], SamplePaths]) -> ParametricPolicy:
    """Policy factory for ``milp-static`` (``echelon evaluate -p milp-static``).

    Solves :func:`optimise_static` on the training paths: echelon base-stock on
    tree networks, local base-stock otherwise; it takes no parameters.
    """
    if params:
        raise SpecError(f"policy.{next(iter(params))}", "milp-static takes no parameters; it solves for them")
    family = "echelon-base-stock" if spec.is_tree else "base-stock"
    result = optimise_static(spec, train(), family)
    policy = make_policy(spec, family, result.params)
    policy.name = "milp-static"
    return policy
