"""``s2vg serve``: a local web app for the whole conversion workflow (FastAPI + one static page).

Routes (JSON unless said otherwise; errors are ``{"error": one line}`` with a 4xx code):

=======================================  ===================================================
``GET  /``                               the page (``static/index.html``, ``app.js``, ``style.css``)
``GET  /api/options``                    choices and defaults for the form, limits, features
``POST /api/upload?name=clip.mp4``       raw file body -> a source (size limit, content check)
``GET  /api/browse?path=sub``            folders and videos under ``--root`` (names only)
``POST /api/open {"path": "sub/x.mp4"}``  a file under ``--root`` -> a source
``POST /api/preview``                    ``{"source", "frame", "options"}`` -> SBS + anaglyph PNGs
``GET  /api/previews/{id}/{name}``       a preview image
``POST /api/jobs``                       ``{"source", "options"}`` -> a queued job
``GET  /api/jobs``, ``/api/jobs/{id}``   state, stage, frames, percent, ETA, files
``DELETE /api/jobs/{id}``                cancel a queued job
``GET  /api/jobs/{id}/files/{index}``    download an output (or an extra: report, render)
=======================================  ===================================================

Safety: binds 127.0.0.1 unless told otherwise (and warns then), optional HTTP basic
auth, uploads limited in size and checked by content, every write under the work folder
(:mod:`s2vg.web.storage`), the path picker confined to the root, and one worker thread
whose failing job is reported, not fatal (:mod:`s2vg.web.jobs`).
"""


import base64
import binascii
import contextlib
import dataclasses
import ipaddress
import logging
import secrets
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2vg.config import ConvertConfig, OutputConfig, ServeConfig, StereoConfig
from s2vg.errors import InputError, OptionError, S2VGError
from s2vg.web.jobs import Job, JobOptions, JobQueue, PostStep, QueueFull
from s2vg.web.storage import OutsideRoot, Source, UploadTooLarge, WorkDir, new_id

log = logging.getLogger("s2vg.web")

STATIC = Path(__file__).parent / "static"

#: Bodies of JSON requests (options, paths) are small; larger ones are refused.
MAX_JSON_BYTES = 64 * 1024


def _require_web() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise OptionError(
            f"s2vg serve needs the web extra ({exc.name} is missing); install it with pip install 's2vg[web]'"
        ) from None


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _status_for(exc: Exception) -> int:
    if isinstance(exc, UploadTooLarge):
        return 413
    if isinstance(exc, OutsideRoot):
        return 403
    if isinstance(exc, QueueFull):
        return 429
    return 400


def _layout_choices() -> list[dict[str, Any]]:
    from s2vg.io.layouts import ALL_LAYOUTS
    from s2vg.io.mvhevc import find_multiview_x265

    choices = []
    for name in ALL_LAYOUTS:
        note = None
        if name == "mv-hevc":
            found = find_multiview_x265()
            note = None if found.usable else f"needs a multiview x265 ({found.describe()})"
        choices.append({"name": name, "available": note is None, "note": note})
    return choices


def create_app(
    config: ServeConfig = ServeConfig(), *, post_steps: Sequence[PostStep] | None = None, queue: JobQueue | None = None
):
    """The FastAPI application of ``s2vg serve``.

    Args:
        config: host, port, root, work folder, upload limit, auth (see :class:`ServeConfig`).
        post_steps: run after each finished conversion in the worker, e.g. an evaluation
            report or a spatial render written into the job's folder (see
            :data:`s2vg.web.jobs.PostStep`); defaults to None:
            :func:`s2vg.web.extras.default_post_steps` (the eval report where
            ``s2vg.metrics`` is installed).
        queue: the job queue; defaults to a new :class:`JobQueue` running conversions.

    Returns:
        A ``fastapi.FastAPI``; its worker thread starts and stops with the app's lifespan.
    """
    _require_web()
    from fastapi import FastAPI, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import FileResponse, JSONResponse, Response
    from fastapi.staticfiles import StaticFiles

    from s2vg.web.extras import default_post_steps, eval_report

    work = WorkDir(config.work_dir, config.root, int(config.max_upload_mb * 2**20))
    if post_steps is None:
        post_steps = default_post_steps()
    jobs = queue or JobQueue(post_steps=post_steps, max_queued=config.max_queued)
    sources: dict[str, Source] = {}
    previews: dict[str, Path] = {}
    preview_lock = threading.Lock()  # one preview at a time; the worker has the other core

    @contextlib.asynccontextmanager
    async def lifespan(app):
        jobs.start()
        try:
            yield
        finally:
            jobs.stop(timeout=1.0)

    app = FastAPI(title="s2vg", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.work = work
    app.state.jobs = jobs
    app.state.sources = sources

    def error(exc: Exception) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=_status_for(exc))

    @app.exception_handler(S2VGError)
    async def _s2vg_error(request: Request, exc: S2VGError) -> JSONResponse:
        return error(exc)

    if config.auth is not None:
        user, password = config.auth.split(":", 1)
        expected = (user.encode(), password.encode())

        @app.middleware("http")
        async def basic_auth(request: Request, call_next):
            header = request.headers.get("authorization", "")
            ok = False
            if header.lower().startswith("basic "):
                try:
                    given_user, _, given_password = base64.b64decode(header[6:], validate=True).partition(b":")
                except (binascii.Error, ValueError):
                    given_user, given_password = b"", b""
                # Compare both parts in constant time, always both.
                ok = secrets.compare_digest(given_user, expected[0]) & secrets.compare_digest(given_password, expected[1])
            if not ok:
                return JSONResponse(
                    {"error": "authentication required"}, status_code=401, headers={"WWW-Authenticate": 'Basic realm="s2vg"'}
                )
            return await call_next(request)

    async def json_body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_JSON_BYTES:
            raise InputError(f"request body of {len(raw)} bytes is too large for options")
        import json

        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise InputError("request body is not JSON") from None
        if not isinstance(data, dict):
            raise InputError("request body must be a JSON object")
        return data

    def source_of(source_id: Any) -> Source:
        source = sources.get(str(source_id))
        if source is None:
            raise InputError(f"unknown source {source_id!r}; upload or open a video first")
        return source

    @app.get("/")
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/options")
    async def options() -> dict[str, Any]:
        from s2vg.depth.registry import available_depth_estimators
        from s2vg.inpaint.base import available_inpainters

        return {
            "depth": ["auto", *available_depth_estimators()],
            "inpainter": ["auto", *available_inpainters()],
            "layout": _layout_choices(),
            "defaults": dataclasses.asdict(JobOptions()),
            "max_upload_mb": config.max_upload_mb,
            "root": work.root is not None,
            "auth": config.auth is not None,
            "features": {"eval_report": eval_report in jobs.post_steps},
            "limits": {"divergence": [0, 20], "convergence": [0, 1]},
            "library_defaults": {
                "layout": OutputConfig.layout,
                "divergence": StereoConfig.divergence,
                "depth": ConvertConfig.depth,
            },
        }

    @app.post("/api/upload")
    async def upload(request: Request, name: str = "video") -> JSONResponse:
        length = request.headers.get("content-length")
        declared = int(length) if length and length.isdigit() else None
        source = await work.save_upload(request.stream(), name, declared)
        sources[source.id] = source
        return JSONResponse(source.to_json())

    @app.get("/api/browse")
    async def browse(path: str = "") -> dict[str, Any]:
        return await run_in_threadpool(work.browse, path)

    @app.post("/api/open")
    async def open_path(request: Request) -> dict[str, Any]:
        data = await json_body(request)
        source = await run_in_threadpool(work.open_from_root, str(data.get("path", "")))
        sources[source.id] = source
        return source.to_json()

    @app.post("/api/preview")
    async def preview(request: Request) -> dict[str, Any]:
        from s2vg.web.preview import make_preview

        data = await json_body(request)
        source = source_of(data.get("source"))
        opts = JobOptions.from_json(data.get("options") or {})
        try:
            frame = int(data.get("frame") or 0)
        except (TypeError, ValueError):
            raise OptionError(f"frame must be a frame number; got {data.get('frame')!r}") from None
        preview_id = new_id()
        folder = work.folder("previews", preview_id)
        folder.mkdir(parents=True)

        def run() -> dict[str, Any]:
            with preview_lock:
                return make_preview(source.path, frame, opts, folder)

        result = await run_in_threadpool(run)
        previews[preview_id] = folder
        return {"id": preview_id, "frame": result["frame"], "images": {
            name.removesuffix(".png"): f"/api/previews/{preview_id}/{name}" for name in result["files"]
        }}

    @app.get("/api/previews/{preview_id}/{name}")
    async def preview_file(preview_id: str, name: str) -> Response:
        from s2vg.web.preview import PREVIEW_FILES

        folder = previews.get(preview_id)
        if folder is None or name not in PREVIEW_FILES:
            return JSONResponse({"error": "no such preview"}, status_code=404)
        return FileResponse(folder / name, media_type="image/png")

    @app.post("/api/jobs")
    async def submit(request: Request) -> dict[str, Any]:
        data = await json_body(request)
        source = source_of(data.get("source"))
        opts = await run_in_threadpool(JobOptions.from_json, data.get("options") or {})
        if opts.layout == "mv-hevc":
            from s2vg.io.mvhevc import require_multiview_encoder

            require_multiview_encoder()
        job_id = JobQueue.new_id()
        job = Job(job_id, source.id, source.name, source.path, opts, work.folder("jobs", job_id))
        jobs.submit(job)
        return job.to_json()

    @app.get("/api/jobs")
    async def list_jobs() -> dict[str, Any]:
        return {"jobs": [job.to_json() for job in sorted(jobs.jobs.values(), key=lambda j: j.created)]}

    def job_of(job_id: str) -> Job:
        job = jobs.jobs.get(job_id)
        if job is None:
            raise InputError(f"unknown job {job_id!r}")
        return job

    @app.get("/api/jobs/{job_id}")
    async def job_state(job_id: str) -> dict[str, Any]:
        return job_of(job_id).to_json()

    @app.delete("/api/jobs/{job_id}")
    async def cancel(job_id: str) -> dict[str, Any]:
        job = job_of(job_id)
        if not jobs.cancel(job_id):
            raise InputError(f"job {job_id} is {job.status}; only queued jobs can be cancelled")
        return job.to_json()

    @app.get("/api/jobs/{job_id}/files/{index}")
    async def download(job_id: str, index: int) -> Response:
        job = job_of(job_id)
        files = job.files()
        if job.status != "done" or not 0 <= index < len(files):
            return JSONResponse({"error": f"job {job_id} has no file {index}"}, status_code=404)
        path = files[index].resolve()
        if not path.is_relative_to(work.path) or not path.is_file():
            return JSONResponse({"error": "file is gone"}, status_code=404)
        return FileResponse(path, filename=path.name)

    return app


def warn_if_exposed(config: ServeConfig) -> None:
    """Warn when the server is reachable from other machines (and more so without --auth)."""
    if not is_loopback(config.host):
        warnings.warn(
            f"s2vg serve is listening on {config.host}, reachable from other machines"
            + ("" if config.auth else " without a password (use --auth user:password)"),
            stacklevel=3,
        )


def serve(config: ServeConfig = ServeConfig(), *, post_steps: Sequence[PostStep] | None = None) -> None:
    """Run the web app until interrupted (Ctrl-C); prints the address and the work folder."""
    _require_web()
    import uvicorn

    warn_if_exposed(config)
    app = create_app(config, post_steps=post_steps)
    host = f"[{config.host}]" if ":" in config.host else config.host
    print(f"s2vg serve: http://{host}:{config.port}/  (work folder {app.state.work.path})", flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")


class BackgroundServer:
    """The web app served from a thread (tests, notebooks): ``with BackgroundServer(cfg) as s: s.url``.

    Port 0 picks a free port; :attr:`url` has the real one once started.
    """

    def __init__(self, config: ServeConfig = ServeConfig(port=0), *, post_steps: Sequence[PostStep] | None = None) -> None:
        _require_web()
        import uvicorn

        warn_if_exposed(config)
        self.app = create_app(config, post_steps=post_steps)
        self._server = uvicorn.Server(uvicorn.Config(self.app, host=config.host, port=config.port, log_level="warning"))
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
        self._thread = threading.Thread(target=self._server.run, name="s2vg-serve", daemon=True)
        self.url = ""

    def start(self, timeout: float = 20.0) -> "BackgroundServer":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OptionError("the web server did not start (is the port free?)")
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
