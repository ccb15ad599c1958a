"""The chunk size chosen from a memory budget: the largest that fits, a clear error below one frame."""

from __future__ import annotations

import json

import pytest

from s2vg.cli import main
from s2vg.errors import OptionError
from s2vg.jobs.memory import MAX_CHUNK_FRAMES, choose_chunk_frames, job_peak_bytes, parse_size
from test_stream_clips import write_clip

SHAPE = dict(views=2, context_frames=4, window=3)


@pytest.mark.parametrize("text, size", [("3G", 3 * 2**30), ("3000M", 3000 * 2**20), ("1.5GiB", 3 * 2**29),
                                        ("512k", 512 * 2**10), ("123", 123), (" 2 gb ", 2 * 2**30)])
def test_parse_size_reads_binary_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "3X", "-1G", "0", "three"])
def test_parse_size_rejects_what_is_not_a_size(text):
    with pytest.raises(OptionError, match="size"):
        parse_size(text)


@pytest.mark.parametrize("height, width", [(320, 576), (1080, 1920), (2160, 3840)])
def test_chosen_chunk_is_the_largest_that_fits(height, width):
    for budget in (2**30, 3 * 2**30, 8 * 2**30, 64 * 2**30):
        try:
            n = choose_chunk_frames(height, width, budget=budget, **SHAPE)
        except OptionError:
            assert job_peak_bytes(height, width, chunk_frames=1, **SHAPE) > budget
            continue
        assert 1 <= n <= MAX_CHUNK_FRAMES
        assert job_peak_bytes(height, width, chunk_frames=n, **SHAPE) <= budget
        if n < MAX_CHUNK_FRAMES:
            assert job_peak_bytes(height, width, chunk_frames=n + 1, **SHAPE) > budget


def test_more_budget_never_gives_a_smaller_chunk():
    minimum = job_peak_bytes(1080, 1920, chunk_frames=1, **SHAPE)
    chunks = [choose_chunk_frames(1080, 1920, budget=minimum + b * 2**26, **SHAPE) for b in range(0, 400, 7)]
    assert chunks == sorted(chunks) and chunks[0] < chunks[-1]


def test_too_small_budget_names_the_minimum():
    minimum = job_peak_bytes(1080, 1920, chunk_frames=1, **SHAPE)
    with pytest.raises(OptionError, match=r"give --memory-budget (\d+\.\d)G or more") as info:
        choose_chunk_frames(1080, 1920, budget=minimum - 1, **SHAPE)
    suggested = float(info.value.args[0].rsplit("--memory-budget ", 1)[1].split("G")[0])
    # The suggestion itself is enough.
    assert choose_chunk_frames(1080, 1920, budget=int(suggested * 2**30), **SHAPE) >= 1
    assert choose_chunk_frames(1080, 1920, budget=minimum, **SHAPE) == 1


def test_convert_chooses_the_chunk_from_the_budget_and_says_so(tmp_path, capsys):
    clip = write_clip(tmp_path / "clip.mp4", frames=6, height=64, width=96)
    args = ["convert", str(clip), "--depth", "heuristic", "--context-frames", "2", "--json", "-o"]
    budget = job_peak_bytes(64, 96, views=2, chunk_frames=3, context_frames=2, window=3)
    assert main([*args, str(tmp_path / "a.mp4"), "--memory-budget", str(budget)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["chunks"]["chunk_frames"] == choose_chunk_frames(64, 96, views=2, context_frames=2, window=3, budget=budget)
    assert summary["memory"]["chunk_from"] == "budget" and summary["memory"]["budget_mib"] == round(budget / 2**20, 1)
    # A given chunk wins over the budget.
    assert main([*args, str(tmp_path / "b.mp4"), "--memory-budget", str(budget), "--chunk-frames", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["chunks"]["chunk_frames"] == 2 and summary["memory"]["chunk_from"] == "given"


def test_convert_refuses_a_budget_below_one_frame(tmp_path, capsys):
    clip = write_clip(tmp_path / "clip.mp4", frames=4, height=64, width=96)
    out = tmp_path / "o.mp4"
    assert main(["convert", str(clip), "-o", str(out), "--depth", "heuristic", "--memory-budget", "1M"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert any("--memory-budget" in line and "or more" in line for line in err), err
    assert not out.exists() and not any(p.name.startswith(".") or "state" in p.name for p in tmp_path.iterdir() if p != clip)


def test_default_budget_is_3g_within_the_free_memory(monkeypatch):
    from s2vg.jobs import memory

    gib = 2**30
    monkeypatch.setattr(memory, "available_memory", lambda: 20 * gib)
    assert memory.default_memory_budget() == 3 * gib
    assert memory.default_memory_budget(minimum=10 * gib) == 10 * gib  # a 4K frame: one per chunk, 80 % of free
    assert memory.default_memory_budget(minimum=17 * gib) == 3 * gib  # more than 80 %: the chooser then refuses
    monkeypatch.setattr(memory, "available_memory", lambda: 4 * gib)
    assert memory.default_memory_budget() == 2 * gib  # never more than half of what is free
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    assert memory.default_memory_budget() == 3 * gib
