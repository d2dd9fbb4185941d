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

Layout
------
``result`` (:class:`StaticResult`), ``scope`` (what is refused, what is approximated),
``expressions`` and ``program`` (the (MI)LP in vectorised families, with the policy
simulated inside it), ``builder`` with ``shipping``, ``binaries`` and ``costs`` (the
program of one family on one set of paths), ``highs_lp`` and ``ccp`` (how it is
solved), ``optimise`` (the entry points, re-exported here).

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

from milp.static.optimise import METHODS, optimise_static, program_cost, static_from_params
from milp.static.result import StaticResult
from milp.static.scope import FAMILIES

__all__ = ["FAMILIES", "METHODS", "StaticResult", "optimise_static", "program_cost", "static_from_params"]
