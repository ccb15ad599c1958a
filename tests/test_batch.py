"""Batches: folders, globs and lists of inputs, skipping existing outputs, failures and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_stream_clips import write_clip
from s2vg.batch import expand_inputs
from s2vg.cli import main
from s2vg.io import probe

FAST = ["--depth", "heuristic", "--chunk-frames", "8", "--preset", "ultrafast", "--quiet"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("batch")
    write_clip(folder / "a.mp4", frames=8, seed=1)
    write_clip(folder / "b.mp4", frames=8, seed=2)
    (folder / "sub").mkdir()
    write_clip(folder / "sub" / "c.mp4", frames=8, seed=3)
    (folder / "notes.txt").write_text("# inputs\na.mp4\n\nsub/c.mp4\n")
    return folder


def test_expand_folders_globs_and_lists(clips):
    items, batch = expand_inputs([str(clips)])
    assert batch and [i.input.name for i in items] == ["a.mp4", "b.mp4"]
    items, _ = expand_inputs([str(clips)], recursive=True)
    assert [(i.input.name, str(i.subfolder)) for i in items] == [("a.mp4", "."), ("b.mp4", "."), ("c.mp4", "sub")]
    items, batch = expand_inputs([str(clips / "*.mp4")])
    assert batch and [i.input.name for i in items] == ["a.mp4", "b.mp4"]
    items, batch = expand_inputs([str(clips / "notes.txt")])
    assert batch and [i.input.name for i in items] == ["a.mp4", "c.mp4"]
    items, batch = expand_inputs([str(clips / "a.mp4")])
    assert not batch and len(items) == 1


def test_folder_batch_skips_existing_outputs(clips, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["convert", str(clips), "--recursive", "-o", str(out), *FAST]) == 0
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*.mp4"))
    assert names == ["a_LRF_Full_SBS.mp4", "b_LRF_Full_SBS.mp4", "sub/c_LRF_Full_SBS.mp4"]
    assert probe(out / "sub" / "c_LRF_Full_SBS.mp4").frames == 8
    table = capsys.readouterr().out
    assert "3 done, 0 skipped, 0 failed" in table
    before = (out / "a_LRF_Full_SBS.mp4").stat().st_mtime_ns

    assert main(["convert", str(clips), "--recursive", "-o", str(out), *FAST, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in summary["rows"]] == ["skipped"] * 3
    assert (out / "a_LRF_Full_SBS.mp4").stat().st_mtime_ns == before

    assert main(["convert", str(clips / "a.mp4"), str(clips / "b.mp4"), "-o", str(out), "--overwrite", *FAST, "--json"]) == 0
    assert [r["status"] for r in json.loads(capsys.readouterr().out)["rows"]] == ["done", "done"]


def test_failure_stops_unless_keep_going(clips, tmp_path, capsys):
    (tmp_path / "bad.mp4").write_text("not a video")
    inputs = [str(tmp_path / "bad.mp4"), str(clips / "a.mp4"), str(clips / "b.mp4")]
    out = tmp_path / "out"

    assert main(["convert", *inputs, "-o", str(out), *FAST, "--json"]) == 1
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["rows"]
    assert [r["status"] for r in rows] == ["failed", "not run", "not run"]
    assert "not a video" in rows[0]["reason"] or "bad.mp4" in rows[0]["reason"]
    assert "1 of 3 inputs failed" in captured.err

    assert main(["convert", *inputs, "-o", str(out), "--keep-going", *FAST]) == 1
    table = capsys.readouterr().out
    assert "2 done, 0 skipped, 1 failed" in table and "failed" in table.splitlines()[1]
    assert sorted(p.name for p in out.glob("*.mp4")) == ["a_LRF_Full_SBS.mp4", "b_LRF_Full_SBS.mp4"]
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no state left behind


def test_batch_needs_an_output_folder(clips, tmp_path, capsys):
    assert main(["convert", str(clips / "a.mp4"), str(clips / "b.mp4"), "-o", str(tmp_path / "x.mp4"), *FAST]) == 2
    assert "output folder" in capsys.readouterr().err


def test_single_input_skips_an_existing_output(clips, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"keep me")
    assert main(["convert", str(clips / "a.mp4"), "-o", str(out), *FAST]) == 0
    assert "skipped" in capsys.readouterr().out and out.read_bytes() == b"keep me"
