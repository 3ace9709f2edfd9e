"""Peak memory of the text readers (.csv, .txt, .json) against the bytes of the array they
return, measured with tracemalloc on files of about SIZE bytes of each form.

    PYTHONPATH=. python benchmarks/text_readers.py [SIZE_MB] [DIR]

Not a test (it writes ~10 files of SIZE_MB); tests/test_fileio.py checks the same ratios on
files of a few MB."""

import json
import os
import sys
import tracemalloc

import numpy as np


def forms(n: int, rng) -> dict:
    """{name: text} of about n numbers each."""
    x = rng.standard_normal(n)
    side = int(round(n ** (1 / 3)))
    cube = rng.standard_normal((side, side, side))
    ints = rng.integers(-1000, 1000, n)
    mixed = [int(v) if i % 2 else float(v) for i, v in enumerate(x * 1000)]
    rows = x[: (n // 1000) * 1000].reshape(-1, 1000)
    return {
        "one-line.csv": ",".join(map(repr, x.tolist())) + "\n",
        "rows.csv": "\n".join(",".join(map(repr, r)) for r in rows.tolist()) + "\n",
        "rows.txt": "\n".join(" ".join(map(repr, r)) for r in rows.tolist()) + "\n",
        "plain.json": json.dumps(x.tolist()),
        "pretty.json": json.dumps(rows.tolist(), indent=2),
        "mixed-ints.json": json.dumps(mixed),
        "exponents.json": json.dumps([f"{v:.6e}" for v in x.tolist()]).replace('"', ""),
        "negative-ints.json": json.dumps((-np.abs(ints)).tolist()),
        "cube.json": json.dumps(cube.tolist(), indent=1),
        "wrapped.json": json.dumps({"value": rows.tolist()}),
    }


def measure(path: str) -> tuple:
    from jacobi_cli.lang.fileio import load_array

    tracemalloc.start()
    try:
        array = load_array(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return array.nbytes, peak


def main(size_mb: float = 50, folder: str = "/tmp/jac-text-readers") -> None:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    n = int(size_mb * 1e6 / 20)  # about 20 characters a number
    print(f"{'file':22s} {'file MB':>8s} {'result MB':>10s} {'peak MB':>9s} {'peak/result':>12s} {'peak/file':>10s}")
    for name, text in forms(n, rng).items():
        path = os.path.join(folder, name)
        with open(path, "w") as fp:
            fp.write(text)
        del text
        size = os.path.getsize(path)
        result, peak = measure(path)
        print(f"{name:22s} {size / 1e6:8.1f} {result / 1e6:10.1f} {peak / 1e6:9.1f} {peak / result:12.2f} "
              f"{peak / size:10.2f}")
        os.remove(path)


if __name__ == "__main__":
    main(*(float(a) if i == 0 else a for i, a in enumerate(sys.argv[1:])))
