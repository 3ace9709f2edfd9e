"""Session 34: the command-line fuzz (benchmarks/cli34_fuzz.py) kept honest, and a seeded slice of it run here.

The full fuzz (3,300 command lines, 20 minutes) found no traceback, hang, lost file, bad JSON or message problem;
these tests check that its classifier would have seen each of them, and rerun a small seeded slice of its draws
through ``entry.main`` in a forked worker with a timeout, every one of which must be OK."""
from __future__ import annotations

import json
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import cli34_fuzz as fuzz  # noqa: E402


@pytest.fixture
def scratch(tmp_path):
    d = str(tmp_path / "s")
    fuzz.make_scratch(d)
    yield d
    os.chmod(os.path.join(d, "noperm.json"), 0o644)


def test_the_classifier_sees_each_kind_of_problem(scratch):
    before = fuzz.snapshot(scratch)
    ok = fuzz.classify(["eval", "x", "x=1"], 0, "", "", None, before, before, scratch)
    assert ok == ("OK", "")
    assert fuzz.classify(["eval", "x"], 70, "", "jac: internal error", None, before, before, scratch)[0] == "TRACEBACK"
    assert fuzz.classify(["eval", "x"], 2, "", "Traceback (most recent call last):\n", None, before, before,
                         scratch)[0] == "TRACEBACK"
    assert fuzz.classify(["eval", "x"], "HANG", "", "", None, before, before, scratch)[0] == "HANG"
    assert fuzz.classify(["eval", "x", "--json"], 0, "{} {}", "", None, before, before, scratch)[0] == "BAD-JSON"
    assert fuzz.classify(["eval", "x", "--json"], 0, '{"a": NaN}', "", None, before, before, scratch)[0] == "BAD-JSON"
    error = json.dumps({"error": {"kind": "nonsense", "message": "m", "position": None}})
    assert fuzz.classify(["eval", "x", "--json"], 2, error, "jac: error (value): m", None, before, before,
                         scratch)[0] == "BAD-JSON"
    for err in ("", "Usage: jac eval", "jac: error (value): a\njac: error (value): b"):
        assert fuzz.classify(["eval", "x"], 2, "", err, None, before, before, scratch)[0] == "MESSAGE"
    with open(os.path.join(scratch, "existing.json"), "w") as f:
        f.write("{}")
    after = fuzz.snapshot(scratch)
    args = ["eval", "x", "x=1", "--out", "existing.json"]
    assert fuzz.classify(args, 2, "", "jac: error (io): m", None, before, after, scratch)[0] == "LOST-FILE"
    assert fuzz.classify(args, 0, "", "", None, before, after, scratch)[0] == "OK"  # a success may write it
    assert fuzz.classify(["eval", "x", "--out", "outlink.json"], 0, "", "", None, before, after, scratch)[0] == "OK"
    open(os.path.join(scratch, "PWNED"), "w").close()
    assert fuzz.classify(["eval", "x"], 2, "", "jac: error (name): m", None, before, fuzz.snapshot(scratch),
                         scratch)[0] == "CODE-RAN"


def test_a_seeded_slice_of_the_fuzz_is_clean(scratch):
    r = random.Random(3434)
    worker = fuzz.Worker(scratch)
    pristine = fuzz.snapshot(scratch)
    found = []
    try:
        for i in range(40):
            args = fuzz.draw(r, False)
            code, out, err, escaped = worker.run(args, "entry" if i % 2 else "runner")
            after = fuzz.snapshot(scratch)
            cls, detail = fuzz.classify(args, code, out, err, escaped, pristine, after, scratch)
            if cls not in ("OK", "SLOW"):
                found.append((cls, args[:6], detail))
            if after != pristine:
                fuzz.reset_scratch(scratch)
    finally:
        worker.stop()
    assert found == []
