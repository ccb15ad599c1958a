"""`s2vg eval` and `s2vg demo` through the CLI, at tiny sizes."""

from __future__ import annotations

import json

from s2vg.cli import main


def test_eval_cli_writes_report_and_json(tmp_path, capsys):
    out = tmp_path / "report"
    code = main(["eval", "-o", str(out), "--scenes", "cards", "border", "--frames", "4", "--height", "64", "--width", "96",
                 "--no-clips", "--methods", "black", "classical", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {p.name for p in out.iterdir()} >= {"eval.json", "eval.md", "eval.png"}
    rows = summary["summary"]["scenes"]
    by_method = {row["method"]: row for row in rows}
    assert by_method["classical"]["psnr_holes"] > by_method["black"]["psnr_holes"]


def test_eval_disparity_without_pair_is_refused(tmp_path, capsys):
    assert main(["eval", "-o", str(tmp_path / "r"), "--disparity", "d.npy"]) == 2
    assert "--pair" in capsys.readouterr().err


def test_demo_cli(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--frames", "4", "--height", "64", "--width", "96", "--no-estimated", "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert "demo.png" in names and "demo_input.mp4" in names and any(n.endswith("sbs.mp4") for n in names)
    assert "converted" in capsys.readouterr().out


def test_eval_seams_of_a_converted_video(tmp_path, capsys):
    import numpy as np

    from s2vg.io.writer import VideoWriter

    frames = np.tile(np.linspace(0.2, 0.8, 64, dtype=np.float32)[None, None, :, None], (12, 32, 1, 3))
    with VideoWriter(tmp_path / "v.mp4", fps=24, width=64, height=32) as out:
        out.write(frames)
    assert main(["eval", "--seams", str(tmp_path / "v.mp4"), "--chunk-frames", "4", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seams"]["boundaries"] == [4, 8]


def test_eval_pair_folder_in_middlebury_layout(tmp_path, capsys):
    import cv2
    import numpy as np

    # A textured plane 8 px behind a textured card: a real right view made by exact integer shifts.
    rng = np.random.default_rng(0)
    h, w = 48, 80
    far, near = rng.integers(0, 256, (h, w + 16, 3), dtype=np.uint8), rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    disp = np.full((h, w), 4.0, np.float32)
    disp[12:36, 30:50] = 12.0
    left = far[:, 4:4 + w].copy()
    left[12:36, 30:50] = near[12:36, 30:50]
    right = far[:, 8:8 + w].copy()
    right[12:36, 18:38] = near[12:36, 30:50]
    folder = tmp_path / "Scene"
    folder.mkdir()
    cv2.imwrite(str(folder / "im0.png"), left)
    cv2.imwrite(str(folder / "im1.png"), right)
    cv2.imwrite(str(folder / "disp0.pfm"), disp)
    code = main(["eval", "--pair", str(folder), "-o", str(tmp_path / "r"), "--methods", "black", "classical", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and set(summary["results"]) == {"black", "classical"}
    assert summary["results"]["classical"]["psnr_holes"] > summary["results"]["black"]["psnr_holes"]
    (folder / "disp0.pfm").unlink()
    assert main(["eval", "--pair", str(folder), "-o", str(tmp_path / "r2")]) == 2
    assert "disp0.pfm" in capsys.readouterr().err
    assert main(["eval", "--pair", str(folder), "--disparity", "d.pfm", "-o", str(tmp_path / "r3")]) == 2
    assert "drop --disparity" in capsys.readouterr().err
