"""Run the calls compiled into a shared object; print one JSON record per call.

    python3 driver.py run LIB.so
    python3 driver.py expand INPUT.c.src OUTPUT.c

`run` loads LIB.so (tests/equivalence/harness.c compiled with a fixture and
its call spec) and calls its `equiv_main`, which hands each call's record to
`record` below as soon as the call is made, so a crash loses only the call
that crashed. `expand` expands a NumPy `.c.src` template with NumPy's own
template processor (numpy.distutils.conv_template), block by block: text
outside the repeat blocks is kept as it is.
"""

import ctypes
import importlib.util
import json
import os
import re
import sys

import numpy as np

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def describe(value, values=True):
    """A JSON-able description to compare: arrays by everything but identity."""
    if isinstance(value, np.ndarray):
        out = {
            "type": "ndarray",
            "shape": list(value.shape),
            "strides": list(value.strides),
            "dtype": value.dtype.str,
            "flags": {k: bool(value.flags[k]) for k in ("C", "F", "W", "O")},
        }
        if values:
            out["values"] = value.tolist()
        return out
    if isinstance(value, int):
        return value
    return {"type": type(value).__name__, "repr": ADDRESS.sub("0x?", repr(value))}


def record(rec):
    results = []
    for r in rec["results"]:
        if r["null"]:
            value = "NULL"
        elif r["kind"] == "void":
            value = None
        else:
            value = describe(r["value"], r["kind"] != "uninitialised")
        results.append({"call": r["call"], "value": value, "error": r["error"]})
    out = {
        "line": rec["line"],
        "results": results,
        "seen": [[name, describe(v)] for name, v in rec["seen"]],
        "arrays": [describe(a) for a in rec["arrays"]],
    }
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


def run(lib_path):
    lib = ctypes.PyDLL(lib_path)
    lib.equiv_main.argtypes = [ctypes.py_object]
    lib.equiv_main.restype = ctypes.c_int
    if lib.equiv_main(record) != 0:
        sys.exit("equiv_main failed")


def expand(src, dst):
    path = os.path.join(os.path.dirname(np.__file__), "distutils", "conv_template.py")
    spec = importlib.util.spec_from_file_location("conv_template", path)
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    with open(src) as f:
        text = f.read()
    out, pos = [], 0
    for start, _, _, end, _ in conv.parse_structure(text, 0):
        out.append(text[pos:start])
        out.append(conv.process_str(text[start:end]))
        pos = end
    out.append(text[pos:])
    with open(dst, "w") as f:
        f.write("".join(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"] and len(sys.argv) == 3:
        run(sys.argv[2])
    elif sys.argv[1:2] == ["expand"] and len(sys.argv) == 4:
        expand(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
