"""Whether NumPy's sort-like methods leave a structured array's dtype
changed after an `order=` call that fails between the dtype swap and its
restore (the early exits dims-fix reports as DF190).

Each case makes a fresh structured array, makes the call fail on purpose,
and compares the array's field names afterwards with the ones it had.
Prints one line per case and, with --json FILE, writes
{"case": {"raised": bool, "changed": bool}}.
"""

import argparse
import json

import numpy as np


def cases():
    # `kth` must be at most 1-d: a 2-d one fails after the swap.
    yield "partition", lambda a: a.partition([[0]], order="b")
    yield "argpartition", lambda a: a.argpartition([[0]], order="b")
    # `kind` and `stable` together are refused after the swap.
    yield "sort", lambda a: a.sort(order="b", kind="quicksort", stable=True)
    yield "argsort", lambda a: a.argsort(order="b", kind="quicksort", stable=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json")
    args = parser.parse_args()
    out = {}
    for name, call in cases():
        a = np.zeros(4, dtype=[("a", "i4"), ("b", "f8")])
        before = a.dtype.names
        try:
            call(a)
            raised = False
        except (ValueError, TypeError):
            raised = True
        changed = a.dtype.names != before
        out[name] = {"raised": raised, "changed": changed}
        print(f"{name}: raised={raised} dtype names {before} -> {a.dtype.names}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f)


if __name__ == "__main__":
    main()
