"""Options, round 2 (session 39): what benchmarks/options39_probe.py left, on every command that takes the option.

- an integer option given a whole float (``--order 3.0``, ``--seed 2.0``) is refused, as ``int()`` and click's INT do;
- ``--max-memory`` without a unit is a whole number of bytes (``1.5`` was read as 1 byte), at least 1; ``0%`` and a
  size under one byte are refused, each naming the forms accepted;
- a typo of a choice (``--mode revers``) gets "did you mean 'reverse'?";
- ``--rtol 1e309`` quotes what was typed, not ``inf``;
- a typo of an option's name (``--wtr``, ``--WRT``, ``--jsn``) names the option meant, on every command;
- ``--batch`` of a parameter the text makes says so (and what to do), ``--batch x,y`` / ``--wrt x,y`` say to repeat it;
- the Python API's refusals of ``dtype=``, ``seed=``, ``mode=``, ``layout=`` use the API's words, not ``--dtype``.

    (ulimit -v 6000000; PYTHONPATH=. python benchmarks/options2_39_probe.py [--verbose] [--part K/N])

Prints counts per check and each failure; exit 1 if any check failed. Reuses options39_probe's runner.
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import options39_probe as base  # noqa: E402

INTEGERS = ("--seed", "--order", "--max-nodes", "--jobs")
WHOLE_FLOATS = ("3.0", "2.0", "1.")
SIZES = ("1.5", "0.5", "2.5B", "0.0001K", "0%", "0.0%")
TYPOS = {"--dtype": [("flot32", "float32"), ("FLOAT64", "float64"), ("float23", "float32")],
         "--layout": [("numerater", "numerator"), ("aray", "array")],
         "--mode": [("revers", "reverse"), ("forwad", "forward"), ("Auto", "auto")],
         "--method": [("richardsn", "richardson"), ("centrl", "central")]}
OPTION_TYPOS = [("--wtr", "--wrt"), ("--WRT", "--wrt"), ("--jsn", "--json"), ("--JSON", "--json")]
PARAMETER = "fc = torch.nn.Linear(2, 1); fc(x).sum()"


def main() -> int:
    verbose, commands, last = base.commands_and_last()
    probe = base.Probe(verbose)
    os.chdir(tempfile.mkdtemp(prefix="options2-39-"))
    with open("suite.toml", "w") as f:
        f.write(base.SUITE)
    os.environ["COLUMNS"] = "100"
    for command in commands:
        for param in base.options(command):
            option = param.opts[0]
            probe.pairs.add((command, option))
            if option in INTEGERS:
                for value in WHOLE_FLOATS:
                    probe.refused("integer option given a whole float", base.line(command, option, [value]),
                                  {"usage"}, option=option, value=value, words=["integer"])
            if option == "--max-memory":
                for value in SIZES:
                    probe.refused("size under a byte or not whole", base.line(command, option, [value]), {"usage"},
                                  option=option, value=value, words=["%" if "%" in value else "whole number of bytes"])
            for typo, meant in TYPOS.get(option, []):
                probe.refused("did you mean (choice)", base.line(command, option, [typo]), {"usage"},
                              option=option, value=typo, words=[f"did you mean '{meant}'"])
            if option in ("--rtol", "--atol"):
                for value in ("1e309", "-1e309", "1E400"):
                    probe.refused("the value as typed", base.line(command, option, [value]), {"usage"},
                                  option=option, words=[repr(value)])
        for typo, meant in OPTION_TYPOS:
            if command == "run" and meant == "--wrt":
                continue
            probe.refused("did you mean (option)", [command, typo, "x", *base.BASE[command][0]], {"usage"},
                          option=typo, words=[meant])
        takes = {p.opts[0] for p in base.options(command)}
        if "--batch" in takes:
            bindings = ["x:2"] if command in ("shape", "diff") else ["x=[1, 2]"]
            extra = {"vjp": ["--v", "ones"], "jvp": ["--tangent", "x=ones"], "plot": ["--out", "p.png"]}.get(command, [])
            probe.refused("--batch of a parameter the text makes", [command, *extra, "--batch", "fc.weight", "--",
                                                                    PARAMETER, *bindings],
                          {"name"}, option="--batch", words=["parameter the text makes", "--wrt fc.weight"])
            probe.refused("--batch x,y", [command, *extra, "--batch", "x,y", "--", "x * y", "x:2", "y:2"], {"name"},
                          option="--batch", words=["--batch x --batch y"])
        if "--wrt" in takes and command != "run":
            needs = {"plot": ["--out", "p.png"], "jvp": ["--tangent", "x=1"]}.get(command, [])
            probe.refused("--wrt x,y", [command, *needs, "--wrt", "x,y", "--", "x * y", "x=1", "y=2"],
                          {"name"}, option="--wrt", words=["--wrt x --wrt y"])
        if verbose:
            print(f"done  {command}: {probe.counts['runs']} runs, {len(probe.failures)} failures so far", flush=True)
    if last:
        api_checks(probe)
    base.report(probe)
    return 1 if probe.failures else 0


def api_checks(probe) -> None:
    import numpy as np

    import jacobi_cli
    from jacobi_cli.errors import JacError

    calls = {"dtype='float16'": (lambda: jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, dtype="float16"), "dtype="),
             "dtype=np.int32": (lambda: jacobi_cli.evaluate("sin(x)", {"x": [1.0]}, dtype=np.int32), "dtype="),
             "dtype='flot32'": (lambda: jacobi_cli.vjp("sin(x)", {"x": [1.0]}, dtype="flot32"), "did you mean"),
             "seed=-1": (lambda: jacobi_cli.jacobian("sin(x)", {"x": "x:3"}, seed=-1), "seed="),
             "mode='revers'": (lambda: jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, mode="revers"), "mode="),
             "layout='numerater'": (lambda: jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, layout="numerater"),
                                    "did you mean 'numerator'"),
             "max_memory=1.5": (lambda: jacobi_cli.jacobian("sin(x)", {"x": [1.0]}, max_memory=1.5), "whole number")}
    for label, (call, word) in calls.items():
        probe.counts["runs"] += 1
        probe.counts["refusals checked (the API's words)"] += 1
        try:
            call()
        except JacError as err:
            if word not in err.message or "--dtype" in err.message or "--seed" in err.message:
                probe.fail("the API's words", [label], f"{err.message!r} lacks {word!r} or names a CLI option")
        except Exception as err:  # noqa: BLE001
            probe.fail("the API's words", [label], f"{type(err).__name__}: {err}")
        else:
            probe.fail("the API's words", [label], "accepted")


if __name__ == "__main__":
    sys.exit(main())
