"""Reproduce the np.repeat data race of numpy#28197.

Several threads, released together by a barrier, call np.repeat on one
shared array with different repeats and axes, and check every result
against an expectation computed before the threads start. Each trial runs
in a fresh interpreter, so a crash (heap corruption abort, segfault) is a
signal exit of that trial, not of this script.

    python repeat_race.py --trials 30 --threads 8 --calls 20000 [--json OUT]

Prints one line per trial and a JSON summary (also written to OUT).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading

SHAPE = (3, 4, 20)
CASES = [(2, 0), (3, 1), (4, 2), (5, 0), (2, 2), (3, 2), (4, 1), (5, 1)]


def one_trial(threads, calls):
    """Run in the child: hammer np.repeat, report wrong results as JSON."""
    import numpy as np

    base = np.arange(np.prod(SHAPE), dtype=np.int64).reshape(SHAPE)
    expected = {}
    for repeats, axis in CASES:
        out = np.repeat(base, repeats, axis=axis)
        expected[(repeats, axis)] = (out.shape, int(out.sum()))
    barrier = threading.Barrier(threads)
    wrong = [0] * threads
    seen = [None] * threads

    def work(i):
        repeats, axis = CASES[i % len(CASES)]
        want_shape, want_sum = expected[(repeats, axis)]
        barrier.wait()
        for _ in range(calls):
            out = np.repeat(base, repeats, axis=axis)
            if out.shape != want_shape or int(out.sum()) != want_sum:
                wrong[i] += 1
                if seen[i] is None:
                    seen[i] = f"{out.shape} for {want_shape}"
                    # Reported at once: the process may not live to the end.
                    print(f"WRONG {seen[i]}", flush=True)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(json.dumps({
        "calls": threads * calls,
        "wrong": sum(wrong),
        "examples": sorted({s for s in seen if s}),
    }))


def run_trials(trials, threads, calls, timeout):
    results = []
    for n in range(1, trials + 1):
        cmd = [sys.executable, os.path.abspath(__file__), "--child",
               "--threads", str(threads), "--calls", str(calls)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            results.append({"trial": n, "outcome": "hung"})
            print(f"trial {n}: hung (over {timeout}s)", flush=True)
            continue
        early = [l[6:] for l in proc.stdout.splitlines() if l.startswith("WRONG ")]
        if proc.returncode < 0:
            name = signal.Signals(-proc.returncode).name
            tail = proc.stderr.strip().splitlines()[-1:] if proc.stderr.strip() else []
            results.append({"trial": n, "outcome": "crashed", "signal": name, "stderr": tail,
                            "wrong_seen": bool(early), "examples": sorted(set(early))})
            seen = f" after wrong results such as {early[0]}" if early else ""
            print(f"trial {n}: crashed ({name}){seen} {' '.join(tail)}", flush=True)
            continue
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-3:]
            results.append({"trial": n, "outcome": "error", "stderr": tail})
            print(f"trial {n}: error (exit {proc.returncode}) {' | '.join(tail)}", flush=True)
            continue
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        outcome = "wrong" if report["wrong"] else "clean"
        results.append({"trial": n, "outcome": outcome, **report})
        print(f"trial {n}: {outcome}: {report['wrong']} wrong of {report['calls']} calls"
              + (f", e.g. {report['examples'][0]}" if report["examples"] else ""), flush=True)
    count = lambda o: sum(r["outcome"] == o for r in results)
    return {
        "trials": trials,
        "threads": threads,
        "calls_per_thread": calls,
        "clean": count("clean"),
        "wrong": count("wrong"),
        "crashed": count("crashed"),
        "hung": count("hung"),
        "error": count("error"),
        # Trials that showed a wrong result, whether or not they crashed later.
        "wrong_seen": sum(r["outcome"] == "wrong" or r.get("wrong_seen", False) for r in results),
        "wrong_results": sum(r.get("wrong", 0) for r in results),
        "checked_calls": sum(r.get("calls", 0) for r in results),
        "results": results,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=30)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--calls", type=int, default=20000)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--json")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        one_trial(a.threads, a.calls)
        return
    summary = run_trials(a.trials, a.threads, a.calls, a.timeout)
    text = json.dumps(summary, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    print(json.dumps({k: v for k, v in summary.items() if k != "results"}))


if __name__ == "__main__":
    main()
