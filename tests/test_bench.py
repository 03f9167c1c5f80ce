"""The benchmarks' own pieces still run against the package as it is now.

bench/ is never timed here (speed lives there, not in the tests); but a benchmark that no
longer runs is found only when someone waits a quarter of an hour for it. These tests run a
few steps of each of its loops on a handful of names, so an API change in the package that
breaks a benchmark fails here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import time_to_target  # noqa: E402

from makemore.data import make_splits  # noqa: E402

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "ella", "elizabeth", "camila", "luna", "sofia", "avery", "mila",
         "aria", "scarlett", "penelope", "layla", "chloe", "victoria", "madison", "eleanor",
         "grace", "nora", "riley", "zoey", "hannah", "hazel", "lily", "ellie", "violet", "xu",
         "quinn", "jade", "kay", "beatrice", "willow"]


@pytest.mark.parametrize("name", sorted(time_to_target.CASES))
def test_the_lectures_loop_runs_in_bursts(name):
    case = time_to_target.CASES[name]
    splits = make_splits(WORDS, block_size=case.block_size)
    assert len(set("".join(WORDS))) + 1 == time_to_target.VOCAB  # every letter, and '.'
    clock = time_to_target.LectureClock(case, splits.Xtr, splits.Ytr, burst=2, total=5)
    before = [p.detach().clone() for p in clock.model.parameters()]
    for _ in range(4):  # one more tick than the budget needs: it does nothing
        clock.tick()
    assert (clock.steps, clock.k) == (5, 3) and clock.seconds > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, clock.model.parameters(),
                                                     strict=True))
