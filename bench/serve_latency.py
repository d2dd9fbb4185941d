"""Latency of `echelon serve`: p50 / p99 of POST /decide at 1 and 16 concurrent clients, per policy.

    python bench/serve_latency.py                     # base-stock, RL, rolling horizon; ~2 min
    python bench/serve_latency.py --quick             # 100 requests per level
    python bench/serve_latency.py --agent runs/X      # a saved agent instead of a tiny one trained here

Each policy is served by its own server process (``hybrid.serve.serve``, uvicorn, loopback, a free
port); this process is the load generator: ``c`` threads, each with its own keep-alive HTTP client
(httpx), send the requests of one level back to back, bounded by ``--requests`` in all and
``--max-seconds`` per level. A request's latency is its round trip as the client sees it (send,
server decides, JSON back). The states are realistic: the per-path states of a short simulation
of the scenario under a base-stock policy (:func:`hybrid.serve.request_from_state`), cycled.

References measured in the same run: ``GET /health`` round trips on the same server (the HTTP floor:
no policy) and the same requests decided in-process (:meth:`DecisionService.decide`, no HTTP). The
server decides one request at a time (policies keep state; solvers are not thread-safe), so at 16
clients a request also waits for the ones ahead of it: p99 there is mostly queueing.

Goals (issue 17): p99 under 50 ms for the RL policy; under the solver's time limit + 20 ms for the
rolling horizon. The RL agent is tiny by default (64 training steps): its network has the default
size, so its inference costs what a fully trained agent's does.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

ROOT = common.ROOT
TIME_LIMIT = 1.0  # seconds per rolling-horizon solve
CASES = {  # name: (scenario, policy text; {agent} is filled in)
    "base-stock": ("serial-3", "base-stock:S=7,6,11"),
    "rl": ("lost-sales-poisson", "rl:path={agent}"),
    "rolling-horizon": ("serial-3", f"rolling-horizon:horizon=8,time_limit={TIME_LIMIT:g}"),
}
GOALS = {"rl": 0.050, "rolling-horizon": TIME_LIMIT + 0.020}  # p99 seconds at each level


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(scenario: str, policy: str, port: int, timeout: float = 180.0) -> subprocess.Popen:
    """Start ``hybrid.serve.serve`` in its own process and wait (at most ``timeout`` s) for /health."""
    import httpx

    code = f"from hybrid.serve import serve; serve({scenario!r}, {policy!r}, port={port})"
    # python -c puts its working directory first on sys.path: this checkout, as common.py does here
    server = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server for {policy} exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server for {policy} did not answer /health within {timeout:.0f} s")


def states(scenario: str, n: int = 120) -> list[dict]:
    """``n`` request bodies: per-path states of a short base-stock simulation of ``scenario``."""
    from hybrid.serve import request_from_state
    from scenarios import SamplePaths, load, make_policy
    from scenarios.simulator import Simulator

    spec = load(scenario)
    paths = SamplePaths.draw(spec, paths=4, periods=max(1, n // 4), seed=1, warmup=0)
    policy = make_policy(spec, "base-stock", {"S": [8.0] * len(spec.nodes)})
    sim = Simulator(spec, paths)
    policy.reset(sim.network, paths.n_paths)
    bodies = []
    while not sim.done:
        state = sim.begin_period()
        bodies += [request_from_state(spec, state, p).model_dump() for p in range(paths.n_paths)]
        sim.end_period(policy.act(state, sim.t))
    return bodies[:n]


def load_level(url: str, bodies: list[dict] | None, clients: int, requests: int,
               max_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Round-trip seconds of up to ``requests`` calls from ``clients`` threads (GET when ``bodies`` is None).

    :return: ``(round trips, the policy's own seconds as the server reports them)`` (the second is
        empty for GET).
    """
    import httpx

    latencies: list[float] = []
    deciding: list[float] = []
    lock, counter = threading.Lock(), iter(range(requests))
    stop = time.monotonic() + max_seconds

    def client() -> None:
        with httpx.Client(timeout=60) as http:
            while time.monotonic() < stop:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                start = time.perf_counter()
                response = (http.get(url) if bodies is None
                            else http.post(url, json=bodies[i % len(bodies)]))
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
                with lock:
                    latencies.append(elapsed)
                    if bodies is not None:
                        deciding.append(response.json()["seconds"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return np.array(latencies), np.array(deciding)


def in_process(scenario: str, policy: str, bodies: list[dict], requests: int) -> np.ndarray:
    """Seconds per decision without HTTP: the same requests to a :class:`DecisionService` in this process."""
    from hybrid.serve import DecideRequest, DecisionService
    from scenarios import load

    service = DecisionService(load(scenario), policy)
    out = []
    for i in range(requests):
        request = DecideRequest(**bodies[i % len(bodies)])
        start = time.perf_counter()
        service.decide(request)
        out.append(time.perf_counter() - start)
    return np.array(out)


def summary(seconds: np.ndarray) -> dict:
    """Count, p50 and p99 in milliseconds."""
    return {"n": int(seconds.size), "p50_ms": float(np.percentile(seconds, 50) * 1e3),
            "p99_ms": float(np.percentile(seconds, 99) * 1e3)}


def tiny_agent() -> str:
    """Train the test suite's tiny agent on lost-sales-poisson (about a second); return its folder."""
    from rl.training import TrainConfig, train

    out = tempfile.mkdtemp(prefix="serve-latency-agent-")
    train(TrainConfig(scenario="lost-sales-poisson", timesteps=64, n_envs=2, n_steps=32, batch_size=64,
                      n_epochs=1, periods=10, eval_every=0, eval_paths=2, anchor_paths=4,
                      progress_bar=False, out=out))
    return out


def run_case(name: str, scenario: str, policy: str, args) -> dict:
    """Every level of one policy on its own server."""
    bodies = states(scenario)
    port = free_port()
    server = start_server(scenario, policy, port)
    try:
        base = f"http://127.0.0.1:{port}"
        load_level(f"{base}/decide", bodies, 1, 10, args.max_seconds)  # warm-up, not measured
        out = {"scenario": scenario, "policy": policy,
               "health_1": summary(load_level(f"{base}/health", None, 1, args.requests, args.max_seconds)[0])}
        for clients in (1, 16):
            trips, deciding = load_level(f"{base}/decide", bodies, clients, args.requests, args.max_seconds)
            out[f"decide_{clients}"] = summary(trips)
            out[f"policy_in_server_{clients}"] = summary(deciding)
    finally:
        server.terminate()
        server.wait(timeout=30)
    out["in_process"] = summary(in_process(scenario, policy, bodies, min(args.requests, 200)))
    out["http_over_in_process_p50"] = out["decide_1"]["p50_ms"] / out["in_process"]["p50_ms"]
    if name in GOALS:
        goal = GOALS[name] * 1e3
        out["goal_p99_ms"] = goal
        out["p99_over_goal"] = {c: out[f"decide_{c}"]["p99_ms"] / goal for c in (1, 16)}
    return out


def main() -> None:
    """Serve each policy, load it, print the table and the last line as JSON."""
    p = common.parser(__doc__, quick="100 requests per level (default --requests 500).")
    p.add_argument("--requests", type=int, default=None, help="Requests per level (default 500).")
    p.add_argument("--max-seconds", type=float, default=60.0, help="Longest a level may run.")
    p.add_argument("--agent", default=None, help="Saved agent for the RL case (default: train a tiny one).")
    p.add_argument("--cases", default=",".join(CASES), help="Comma-separated cases to run.")
    args = p.parse_args()
    args.requests = args.requests or (100 if args.quick else 500)
    started = common.machine_facts()
    results = {}
    for name in args.cases.split(","):
        scenario, policy = CASES[name]
        if "{agent}" in policy:
            policy = policy.format(agent=args.agent or tiny_agent())
        results[name] = run_case(name, scenario, policy, args)
        r = results[name]
        print(f"{name:16s} {scenario:20s} health p50 {r['health_1']['p50_ms']:6.2f} ms | in-process p50 "
              f"{r['in_process']['p50_ms']:7.2f} ms | /decide 1 client p50 {r['decide_1']['p50_ms']:7.2f} "
              f"p99 {r['decide_1']['p99_ms']:7.2f} ms | 16 clients p50 {r['decide_16']['p50_ms']:7.2f} "
              f"p99 {r['decide_16']['p99_ms']:7.2f} ms | policy in server p50/p99 "
              f"{r['policy_in_server_1']['p50_ms']:.2f}/{r['policy_in_server_1']['p99_ms']:.2f} ms | "
              f"HTTP/in-process p50 x{r['http_over_in_process_p50']:.1f}"
              + (f" | p99/goal {r['p99_over_goal'][1]:.2f} (1), {r['p99_over_goal'][16]:.2f} (16)"
                 if "goal_p99_ms" in r else ""), flush=True)
    common.write_record(args.record, "serve_latency", results, started=started)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
