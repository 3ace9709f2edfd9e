"""Session 56 (h56-sweeps): the sweeps' ``--sample N:SEED``, which let the hostile sweeps too slow for the time left
run a seeded sample across all their kinds of case (benchmarks/fuzzkit.py's ``part_of``)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import fuzzkit  # noqa: E402

CASES = [f"case {i}" for i in range(100)]


def test_a_sample_is_n_cases_of_the_slice_in_their_order():
    chosen = fuzzkit.part_of(CASES, "2/4", "10:56")
    assert len(chosen) == 10
    assert set(chosen) <= set(CASES[25:50])
    assert chosen == sorted(chosen, key=CASES.index)


def test_a_sample_is_the_same_for_the_same_seed_and_differs_for_another():
    assert fuzzkit.part_of(CASES, "1/1", "20:56") == fuzzkit.part_of(CASES, "1/1", "20:56")
    assert fuzzkit.part_of(CASES, "1/1", "20:56") != fuzzkit.part_of(CASES, "1/1", "20:57")


def test_a_sample_larger_than_the_slice_is_the_slice():
    assert fuzzkit.part_of(CASES, "4/4", "99:1") == CASES[75:]


def test_no_sample_is_the_slice():
    assert fuzzkit.part_of(CASES, "3/4") == fuzzkit.part_of(CASES, "3/4", "") == CASES[50:75]


@pytest.mark.parametrize("sample", ["10", "a:b", "1:2:3"])
def test_a_malformed_sample_says_what_it_takes(sample):
    with pytest.raises(SystemExit, match="N:SEED"):
        fuzzkit.part_of(CASES, "1/1", sample)
