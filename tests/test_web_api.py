"""The web app's HTTP API (s2vg.web): conversions end to end, live progress, and the safety
rules: uploads checked by content and size, the path picker confined to its root, basic
auth, failing jobs that leave the server serving, writes only under the work folder."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi, uvicorn) is not installed")
pytest.importorskip("httpx", reason="httpx (fastapi's test client) is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from s2vg.config import ServeConfig  # noqa: E402
from s2vg.errors import OptionError  # noqa: E402
from s2vg.io import probe, read_frames  # noqa: E402
from s2vg.progress import Progress  # noqa: E402
from s2vg.web.jobs import Job, JobOptions, JobProgress, JobQueue  # noqa: E402
from s2vg.web.server import create_app, is_loopback, warn_if_exposed  # noqa: E402
from s2vg.web.storage import safe_name  # noqa: E402

FAST = {"depth": "heuristic", "inpainter": "classical"}


def make_clip(path: Path, frames: int = 6, height: int = 48, width: int = 64, fps: int = 12) -> Path:
    """A small H.264 clip: a colour gradient with a bright disc moving right (a near object)."""
    yy, xx = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.zeros((height, width, 3), np.uint8)
            image[..., 0] = (xx * 255 // max(1, width - 1)).astype(np.uint8)
            image[..., 2] = (yy * 255 // max(1, height - 1)).astype(np.uint8)
            disc = (xx - width // 3 - 2 * i) ** 2 + (yy - height // 2) ** 2 < (min(width, height) // 5) ** 2
            image[disc] = 245
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def wait_for(client: TestClient, job_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.mp4")


@pytest.fixture()
def root(tmp_path: Path, clip: Path) -> Path:
    folder = tmp_path / "root"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "inside.mp4").write_bytes(clip.read_bytes())
    (tmp_path / "secret.mp4").write_bytes(clip.read_bytes())
    (folder / "escape.mp4").symlink_to(tmp_path / "secret.mp4")
    return folder


@pytest.fixture()
def client(tmp_path: Path, root: Path):
    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"), root=str(root), max_upload_mb=0.25)
    with TestClient(create_app(config)) as c:
        yield c


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_upload_convert_download(client: TestClient, clip: Path, tmp_path: Path) -> None:
    up = client.post("/api/upload", params={"name": "my clip.mp4"}, content=clip.read_bytes())
    assert up.status_code == 200, up.text
    source = up.json()
    assert (source["name"], source["width"], source["height"], source["frames"]) == ("my_clip.mp4", 64, 48, 6)
    job = client.post("/api/jobs", json={"source": source["id"], "options": FAST}).json()
    assert job["status"] in ("queued", "running")
    job = wait_for(client, job["id"])
    assert job["status"] == "done", job["error"]
    assert job["progress"]["percent"] == 100.0 and job["progress"]["stage"] == "stereo"
    assert job["progress"]["count"] == job["progress"]["total"] == 6
    assert [o["name"] for o in job["outputs"]] == ["my_clip_LRF_Full_SBS.mp4"]
    download = client.get(f"/api/jobs/{job['id']}/files/0")
    assert download.status_code == 200
    assert 'filename="my_clip_LRF_Full_SBS.mp4"' in download.headers["content-disposition"]
    out = tmp_path / "downloaded.mp4"
    out.write_bytes(download.content)
    info = probe(out)
    assert (info.width, info.height, info.frames) == (2 * 64, 48, 6)
    # Left half = the source frames (the source view is the left eye, kept exactly up to coding).
    left = read_frames(out)[0][:, :, :64]
    src = read_frames(clip)[0]
    assert float(np.abs(left - src).mean()) < 0.03
    assert client.get(f"/api/jobs/{job['id']}/files/1").status_code == 404
    # Everything the server wrote is in its work folder.
    work = client.app.state.work.path
    assert all(p.resolve().is_relative_to(work) for p in _files_under(work))


def test_preview_gives_side_by_side_and_anaglyph(client: TestClient, clip: Path) -> None:
    source = client.post("/api/upload", params={"name": "clip.mp4"}, content=clip.read_bytes()).json()
    result = client.post("/api/preview", json={"source": source["id"], "frame": 99, "options": FAST})
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["frame"] == 5  # clamped to the last frame
    sizes = {}
    for name, url in body["images"].items():
        png = client.get(url)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        sizes[name] = av.open(__import__("io").BytesIO(png.content)).streams.video[0].codec_context.width
    assert sizes == {"sbs": 128, "anaglyph": 64}
    assert client.get(f"/api/previews/{body['id']}/frame.png").status_code == 404  # only the two results


def test_text_named_mp4_is_refused_and_nothing_is_kept(client: TestClient) -> None:
    answer = client.post("/api/upload", params={"name": "movie.mp4"}, content=b"just some text, not a video\n" * 50)
    assert answer.status_code == 400
    assert "is not a video or image" in answer.json()["error"]
    assert str(client.app.state.work.path) not in answer.json()["error"]  # no server paths leak
    assert _files_under(client.app.state.work.path / "uploads") == []
    assert client.get("/api/options").status_code == 200  # still serving


def test_over_limit_upload_is_refused_declared_or_streamed(client: TestClient) -> None:
    big = bytes(300 * 1024)  # limit is 0.25 MiB = 256 KiB
    answer = client.post("/api/upload", params={"name": "big.mp4"}, content=big)
    assert answer.status_code == 413
    assert "larger than the limit of 0.25 MiB" in answer.json()["error"]

    def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(10):
            yield bytes(64 * 1024)

    answer = client.post("/api/upload", params={"name": "big.mp4"}, content=chunks())
    assert answer.status_code == 413
    assert _files_under(client.app.state.work.path / "uploads") == []
    assert client.get("/api/options").status_code == 200


def test_path_picker_stays_inside_its_root(client: TestClient, root: Path) -> None:
    ok = client.post("/api/open", json={"path": "sub/inside.mp4"})
    assert ok.status_code == 200 and ok.json()["origin"] == "root" and ok.json()["frames"] == 6
    for outside in ("../secret.mp4", str(root.parent / "secret.mp4"), "escape.mp4", "sub/../../secret.mp4", "/etc/passwd"):
        answer = client.post("/api/open", json={"path": outside})
        assert answer.status_code == 403, outside
        assert "outside the served folder" in answer.json()["error"]
    assert client.post("/api/open", json={"path": "sub/missing.mp4"}).status_code == 400
    listing = client.get("/api/browse", params={"path": ""}).json()
    assert listing["entries"] == [{"name": "sub", "dir": True}]  # the link out of the root is hidden
    assert client.get("/api/browse", params={"path": ".."}).status_code == 403
    assert client.get("/api/browse", params={"path": "sub"}).json()["entries"][0]["name"] == "inside.mp4"


def test_bad_options_are_refused_before_queueing(client: TestClient, clip: Path) -> None:
    source = client.post("/api/upload", params={"name": "clip.mp4"}, content=clip.read_bytes()).json()["id"]
    for options, words in (
        ({"divergence": 50}, "divergence"),
        ({"layout": "3d"}, "layout"),
        ({"depth": "magic"}, "depth"),
        ({"colour": "red"}, "unknown option"),
        ({"views": "two"}, "wrong type"),
        ({"layout": "mv-hevc"}, "x265"),
    ):
        answer = client.post("/api/jobs", json={"source": source, "options": options})
        assert answer.status_code == 400, options
        assert words in answer.json()["error"]
    assert client.post("/api/jobs", json={"source": "nope", "options": {}}).status_code == 400
    assert client.get("/api/jobs").json()["jobs"] == []


def test_a_failing_job_does_not_stop_the_next(tmp_path: Path, clip: Path) -> None:
    from s2vg.web.jobs import run_conversion

    def runner(job: Job) -> dict:
        if job.options.divergence == 1.0:
            raise RuntimeError("boom")
        return run_conversion(job)

    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"))
    with TestClient(create_app(config, queue=JobQueue(runner=runner))) as client:
        source = client.post("/api/upload", params={"name": "clip.mp4"}, content=clip.read_bytes()).json()["id"]
        bad = client.post("/api/jobs", json={"source": source, "options": {**FAST, "divergence": 1}}).json()
        good = client.post("/api/jobs", json={"source": source, "options": FAST}).json()
        bad, good = wait_for(client, bad["id"]), wait_for(client, good["id"])
    assert bad["status"] == "failed" and "RuntimeError: boom" in bad["error"]
    assert good["status"] == "done" and good["outputs"]


def test_library_errors_fail_the_job_with_their_message(tmp_path: Path, clip: Path) -> None:
    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"))
    with TestClient(create_app(config)) as client:
        source = client.post("/api/upload", params={"name": "clip.mp4"}, content=clip.read_bytes()).json()["id"]
        # depth-anything without weights: MissingWeightsError, a one-line message.
        job = client.post("/api/jobs", json={"source": source, "options": {"depth": "depth-anything-v2-small", "inpainter": "classical"}}).json()
        job = wait_for(client, job["id"])
        if job["status"] == "done":
            pytest.skip("Depth Anything V2 weights are cached on this machine")
        assert job["status"] == "failed" and "\n" not in job["error"] and "internal error" not in job["error"]
        assert client.get("/api/options").status_code == 200


def test_post_steps_add_files_and_their_failures_are_notes(tmp_path: Path, clip: Path) -> None:
    def report(job: Job) -> None:
        path = job.folder / "report.json"
        path.write_text('{"frames": %d}' % job.summary["output_frames"])
        job.extras.append(path)

    def broken(job: Job) -> None:
        raise ValueError("no metrics here")

    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"))
    with TestClient(create_app(config, post_steps=[report, broken])) as client:
        source = client.post("/api/upload", params={"name": "clip.mp4"}, content=clip.read_bytes()).json()["id"]
        job = wait_for(client, client.post("/api/jobs", json={"source": source, "options": FAST}).json()["id"])
        assert job["status"] == "done"
        assert job["extras"] == [{"index": 1, "name": "report.json", "size": len('{"frames": 6}')}]
        assert client.get(f"/api/jobs/{job['id']}/files/1").json() == {"frames": 6}
        assert job["notes"] == ["broken failed: no metrics here"]


def test_basic_auth(tmp_path: Path) -> None:
    config = ServeConfig(port=0, work_dir=str(tmp_path / "work"), auth="ann:s3cret:with:colons")
    with TestClient(create_app(config)) as client:
        denied = client.get("/api/options")
        assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Basic")
        assert client.get("/", auth=("ann", "wrong")).status_code == 401
        assert client.get("/api/options", headers={"Authorization": "Basic !!!"}).status_code == 401
        token = base64.b64encode(b"ann:s3cret:with:colons").decode()
        assert client.get("/api/options", headers={"Authorization": f"Basic {token}"}).status_code == 200
        assert client.get("/", auth=("ann", "s3cret:with:colons")).status_code == 200


def test_page_and_options(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="convert"' in page.text
    assert client.get("/static/app.js").status_code == 200
    choices = client.get("/api/options").json()
    assert "heuristic" in choices["depth"] and "classical" in choices["inpainter"]
    layouts = {c["name"]: c for c in choices["layout"]}
    assert layouts["vr180"]["available"]
    assert choices["root"] is True and choices["max_upload_mb"] == 0.25
    assert choices["defaults"] == {
        "depth": "auto", "inpainter": "auto", "layout": "sbs", "divergence": 2.5, "convergence": None,
        "views": None, "max_frames": None, "evaluate": False,
    }


def test_serve_config_and_binding_warnings() -> None:
    assert ServeConfig().host == "127.0.0.1" and ServeConfig().port == 7860
    for bad in ({"port": 70000}, {"auth": "nopassword"}, {"auth": ":x"}, {"max_upload_mb": 0}, {"host": ""}):
        with pytest.raises(OptionError):
            ServeConfig(**bad)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    with pytest.warns(UserWarning, match="without a password"):
        warn_if_exposed(ServeConfig(host="0.0.0.0"))
    with pytest.warns(UserWarning, match="reachable from other machines"):
        warn_if_exposed(ServeConfig(host="0.0.0.0", auth="a:b"))


def test_safe_names() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\evil clip.MP4") == "evil_clip.MP4"
    assert safe_name(".hidden.mp4") == "hidden.mp4"
    assert safe_name("") == "video"
    assert safe_name("ü" * 200 + ".mov") == "video.mov"
    assert len(safe_name("a" * 500 + ".mp4")) <= 80


def test_job_progress_fraction_and_eta() -> None:
    progress = JobProgress()
    progress.start()
    progress("decode", 0, 10)
    progress("decode", 10, 10)
    assert progress.snapshot()["percent"] == 5.0
    progress("depth", 5, 10)
    assert progress.snapshot()["percent"] == pytest.approx(17.5)
    progress("some inner step", 3, 4)  # label only
    snap = progress.snapshot()
    assert snap["stage"] == "some inner step" and snap["percent"] == pytest.approx(17.5)
    progress("depth", 10, 10)
    progress("stabilize depth", 0, 10)
    assert progress.snapshot()["percent"] == pytest.approx(30.0)
    progress("stereo", 4, 8)
    snap = progress.snapshot()
    assert snap["percent"] == pytest.approx(100 * (0.05 + 0.25 + 0.15 + 0.55 / 2))
    assert snap["eta_s"] is not None and snap["eta_s"] >= 0
    progress.finish()
    assert progress.snapshot()["percent"] == 100.0 and progress.snapshot()["eta_s"] == 0.0
    # A streamed conversion: "depth pass" then "stereo" cover the whole bar.
    streamed = JobProgress()
    streamed.start()
    streamed("depth pass", 8, 8)
    assert streamed.snapshot()["percent"] == pytest.approx(45.0)
    streamed("stereo", 8, 8)
    assert streamed.snapshot()["percent"] == pytest.approx(100.0)


def test_progress_callback_sees_every_stage_update() -> None:
    seen: list[tuple] = []
    progress = Progress(enabled=False, on_update=lambda *a: seen.append(a))
    with progress.stage("decode", total=3) as bar:
        bar.update(2)
        bar.update()
    with progress.stage("depth") as bar:
        bar.update()
    assert seen == [("decode", 0, 3), ("decode", 2, 3), ("decode", 3, 3), ("depth", 0, None), ("depth", 1, None)]
    assert set(progress.seconds) == {"decode", "depth"}
    assert Progress(enabled=False).on_update is None  # old callers unchanged


def test_job_options_from_json() -> None:
    options = JobOptions.from_json({"depth": "heuristic", "divergence": "3", "convergence": "", "views": 4, "max_frames": None})
    assert options == JobOptions(depth="heuristic", divergence=3.0, views=4)
    configs = options.configs()
    assert configs["stereo"].divergence == 3.0 and configs["rig"].views == 4
    assert configs["depth_stage"].estimator == "heuristic"
    with pytest.raises(OptionError):
        JobOptions.from_json({"views": 2.5})
    with pytest.raises(OptionError):
        JobOptions.from_json({"convergence": 2})


def test_eval_report_is_an_extra_when_asked(client: TestClient, clip: Path) -> None:
    pytest.importorskip("s2vg.metrics.eval", reason="s2vg.metrics is not installed")
    assert client.get("/api/options").json()["features"]["eval_report"] is True
    source = client.post("/api/upload", params={"name": "clip.mp4"}, content=clip.read_bytes()).json()["id"]
    plain = wait_for(client, client.post("/api/jobs", json={"source": source, "options": FAST}).json()["id"])
    assert plain["extras"] == []  # only on request
    job = client.post("/api/jobs", json={"source": source, "options": {**FAST, "evaluate": True}}).json()
    job = wait_for(client, job["id"])
    assert job["status"] == "done" and job["notes"] == []
    assert [e["name"] for e in job["extras"]] == ["eval.png", "eval.md", "eval.json"]
    report = client.get(f"/api/jobs/{job['id']}/files/{job['extras'][2]['index']}").json()
    assert report["methods"] == ["black", "telea", "nearest-background", "classical"]
    assert report["config"]["clips"][0].endswith("clip.mp4") and report["summary"]["clips"]
