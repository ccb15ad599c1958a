"""The ``s2vg`` command line: thin commands over :mod:`s2vg.api`.

Each command checks its option combinations, builds configs (defaults come from the
dataclasses in :mod:`s2vg.config`) and calls one API function. Errors become one line
on stderr and a non-zero exit code through :data:`ERROR_TABLE`; ``S2VG_DEBUG=1`` shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable

from s2vg import __version__
from s2vg.config import (
    DEPTH_KINDS,
    RIG_MODES,
    CleanupConfig,
    ConvertConfig,
    DepthConfig,
    DepthStageConfig,
    OutputConfig,
    RigConfig,
    StereoConfig,
)
from s2vg.errors import InputError, MissingWeightsError, OptionError, OutputError, S2VGError

# Exception type -> (label, exit code); subclasses before their bases.
ERROR_TABLE: list[tuple[type[BaseException], str, int]] = [
    (MissingWeightsError, "missing weights", 2),
    (InputError, "bad input", 2),
    (OptionError, "bad option", 2),
    (OutputError, "cannot write output", 2),
    (S2VGError, "error", 1),
    (MemoryError, "out of memory", 1),
]


# Optional dependencies -> the extra that installs them.
EXTRAS = {
    "diffusers": "models", "transformers": "models", "huggingface_hub": "models", "accelerate": "models",
    "safetensors": "models", "tokenizers": "models", "sentencepiece": "models", "ftfy": "models",
    "fastapi": "web", "uvicorn": "web", "ray": "ray",
}


def default(config: type, name: str) -> Any:
    """The default of a config dataclass field: the one place defaults are written."""
    field = config.__dataclass_fields__[name]
    return field.default


def _memory_size(text: str) -> int:
    """argparse type of --memory-budget: 3G, 3000M or bytes."""
    from s2vg.jobs.memory import parse_size

    try:
        return parse_size(text)
    except OptionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout (no progress bars)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_rig_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rig (the virtual cameras)")
    group.add_argument("--mode", choices=RIG_MODES, default=default(RigConfig, "mode"), help="where the source camera sits")
    group.add_argument("--views", type=int, default=default(RigConfig, "views"), help="views V, source included (default %(default)s)")
    group.add_argument("--baseline", type=float, default=default(RigConfig, "baseline"), help="largest baseline B in metres (default %(default)s)")
    group.add_argument("--focal", type=float, default=None, help="focal length in px (default: 800 scaled by width/576)")
    group.add_argument("--circle-diameter", type=float, default=default(RigConfig, "circle_diameter"), help="circle rig diameter in metres")
    group.add_argument("--circle-squash", type=float, default=default(RigConfig, "circle_squash"), help="circle rig vertical squash")


def add_depth_kind_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("depth meaning")
    group.add_argument(
        "--depth-kind",
        choices=DEPTH_KINDS,
        default=default(DepthConfig, "kind"),
        help="relative: inverse depth (larger = nearer), normalised over the clip; metric: metres; "
        "disparity: pixels of shift at the baseline (default %(default)s)",
    )
    group.add_argument("--far", type=float, default=default(DepthConfig, "far"), help="depth of the farthest content in metres (relative depth)")
    group.add_argument("--near", type=float, default=None, help="divisor moving the nearest content away (relative depth)")


def rig_config(args: argparse.Namespace) -> RigConfig:
    return RigConfig(
        mode=args.mode,
        views=args.views,
        baseline=args.baseline,
        focal=args.focal,
        circle_diameter=args.circle_diameter,
        circle_squash=args.circle_squash,
    )


def depth_config(args: argparse.Namespace) -> DepthConfig:
    return DepthConfig(kind=args.depth_kind, far=args.far, near=args.near)


def make_progress(args: argparse.Namespace):
    from s2vg.progress import Progress

    return Progress(enabled=not (args.json or args.quiet) and sys.stderr.isatty())


# ---------------------------------------------------------------- commands


def cmd_matrix(args: argparse.Namespace) -> dict:
    from s2vg import api

    return api.export_frame_matrix(
        args.input,
        args.depth,
        args.out,
        rig=rig_config(args),
        depth=depth_config(args),
        cleanup=CleanupConfig(planes=args.planes, enabled=not args.no_cleanup, crack_rule=args.crack_rule),
        max_frames=args.max_frames,
        save_depth=args.save_depth,
        progress=make_progress(args),
    )


def add_matrix(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="a video file, a folder of images (sorted by name) or one image")
    parser.add_argument("--depth", required=True, help="depth file: .npy (T,H,W), .npz, FILE.npz:KEY, or a folder of per-frame 16-bit PNG/.npy")
    parser.add_argument("--out", required=True, help="output folder for {frame:05d}_view{view:03d}.png and _mask.png")
    add_rig_flags(parser)
    add_depth_kind_flags(parser)
    parser.add_argument("--planes", type=int, default=default(CleanupConfig, "planes"), help="cleanup depth planes P (default %(default)s)")
    parser.add_argument("--no-cleanup", action="store_true", help="skip the multi-plane cleanup (raw splat)")
    parser.add_argument("--crack-rule", choices=("two-sided", "reference"), default=default(CleanupConfig, "crack_rule"),
                        help="cleanup cracks: two-sided (default, edges not grown) or reference (the authors' code)")
    parser.add_argument("--max-frames", type=int, default=None, help="use only the first N frames")
    parser.add_argument("--save-depth", action="store_true", help="also write depth.npy (V,T,H,W) in metres")
    add_output_flags(parser)


def _print_matrix(summary: dict) -> None:
    print(
        f"wrote {summary['views']} views x {summary['frames']} frames ({summary['width']}x{summary['height']}, "
        f"focal {summary['focal']:.1f} px, {100 * summary['unknown_fraction']:.2f}% disoccluded) "
        f"to {summary['output']} in {summary['seconds']['total']:.2f} s"
    )


def add_diffusion_flags(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import DiffusionConfig

    group = parser.add_argument_group("diffusion inpainter (--inpainter svg)")
    group.add_argument("--prompt", default="", help="text describing the clip (conditions the video model)")
    group.add_argument("--model", default=None, help="video model: hub id or local folder (default cerspense/zeroscope_v2_576w)")
    group.add_argument("--vae", default=None, help="a separate VAE folder (e.g. a temporally aware decoder)")
    group.add_argument("--steps", type=int, default=default(DiffusionConfig, "steps"), help="denoising steps (default %(default)s)")
    group.add_argument("--resample", type=int, default=default(DiffusionConfig, "resample"), help="frame-matrix resamples per step (default %(default)s)")
    group.add_argument("--guidance", type=float, default=default(DiffusionConfig, "guidance_scale"), help="classifier-free guidance (default %(default)s)")
    group.add_argument("--negative-prompt", default=default(DiffusionConfig, "negative_prompt"), help="negative prompt")
    group.add_argument("--seed", type=int, default=default(DiffusionConfig, "seed"), help="random seed (default %(default)s)")
    group.add_argument("--dtype", default=None, help="model precision: float16, bfloat16 or float32 (default: float16 on CUDA)")


def diffusion_options(args: argparse.Namespace) -> dict:
    """Keyword options of the ``svg`` inpainter from the diffusion flags."""
    return {
        "prompt": args.prompt,
        "model": args.model,
        "vae": args.vae,
        "dtype": args.dtype,
        "steps": args.steps,
        "resample": args.resample,
        "guidance_scale": args.guidance,
        "negative_prompt": args.negative_prompt,
        "seed": args.seed,
    }


LAYOUT_CHOICES = ("sbs", "half-sbs", "tb", "half-tb", "anaglyph", "cross", "lr", "vr180", "mv-hevc")


def add_convert(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import EXECUTORS, JobConfig

    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="a video file (anything FFmpeg reads), a folder of images, or one image; several inputs, "
                        "folders of videos, glob patterns ('clips/*.mp4') and .txt lists of paths make a batch")
    parser.add_argument("-o", "--output", default=None,
                        help="output file, or a folder for player-named files (a batch needs a folder; default: next to each input)")
    out = parser.add_argument_group("output")
    out.add_argument("--layout", choices=LAYOUT_CHOICES, default=default(OutputConfig, "layout"), help="stereo packing (default %(default)s)")
    out.add_argument("--codec", choices=("h264", "hevc"), default=default(OutputConfig, "codec"), help="video codec (default %(default)s)")
    out.add_argument("--crf", type=int, default=default(OutputConfig, "crf"), help="quality, lower is better (default %(default)s)")
    out.add_argument("--preset", default=default(OutputConfig, "preset"), help="x264/x265 speed preset (default %(default)s)")
    out.add_argument("--png-sequence", action="store_true", help="write lossless PNG frames into a folder instead of a video")
    eff = parser.add_argument_group("3D effect")
    eff.add_argument("--divergence", type=float, default=default(StereoConfig, "divergence"),
                     help="disparity of the nearest content between the eyes, %% of width (default %(default)s)")
    eff.add_argument("--convergence", type=float, default=None,
                     help="depth at the screen plane: 0 farthest .. 1 nearest (default: parallel, infinity at the screen)")
    rig = parser.add_argument_group("rig (the method's own setting; --baseline overrides --divergence)")
    rig.add_argument("--mode", choices=("left2right", "right2left", "middle2leftright"), default=default(RigConfig, "mode"),
                     help="which eye the input is: left2right = left eye (default)")
    rig.add_argument("--views", type=int, default=None, help="views in the frame matrix (default 2 classical, 8 svg)")
    rig.add_argument("--baseline", type=float, default=None, help="distance between the eyes in metres (literal)")
    rig.add_argument("--focal", type=float, default=None, help="focal length in px (default 800 x width/576)")
    dep = parser.add_argument_group("depth")
    dep.add_argument("--depth", default=default(ConvertConfig, "depth"),
                     help="auto, heuristic, depth-anything-v2-small (Apache-2.0) | base | large (CC-BY-NC-4.0, non-commercial), "
                     "dpt-large | dpt-hybrid (Apache-2.0), zoedepth-nyu-kitti | nyu | kitti (MIT), or a depth file (.npy/.npz/folder)")
    dep.add_argument("--depth-model", default=None,
                     help="local folder (save_pretrained) or hub id of a transformers depth model (Depth Anything V2, DPT, ZoeDepth); "
                     "a folder never touches the network, "
                     "a hub id is downloaded only when not cached and HF_HUB_OFFLINE is unset (fetch it with: hf download ID)")
    dep.add_argument("--depth-kind", choices=DEPTH_KINDS, default=default(DepthConfig, "kind"),
                     help="meaning of a depth file: relative inverse depth, metric metres, or disparity px at --baseline")
    dep.add_argument("--far", type=float, default=default(DepthConfig, "far"), help="farthest depth in metres (relative depth)")
    dep.add_argument("--near", type=float, default=None, help="divisor moving the nearest content away (relative depth)")
    dep.add_argument("--no-stabilize", action="store_true", help="skip temporal depth stabilisation")
    inp = parser.add_argument_group("inpainting")
    inp.add_argument("--inpainter", default=default(ConvertConfig, "inpainter"),
                     help="auto, classical, svg (diffusion), or a baseline: black, telea, nearest-background")
    inp.add_argument("--outpaint", action=argparse.BooleanOptionalAction, default=None,
                     help="extend the source beyond the border a new view reveals, then warp (default: on for svg only)")
    inp.add_argument("--outpaint-method", default=default(ConvertConfig, "outpaint_method"),
                     choices=("auto", "classical", "diffusion", "mirror", "stretch"), help="how to extend (default %(default)s)")
    add_diffusion_flags(parser)
    run = parser.add_argument_group("run")
    run.add_argument("--max-frames", type=int, default=None, help="convert only the first N frames")
    run.add_argument("--chunk-frames", type=int, default=default(ConvertConfig, "chunk_frames"),
                     help="frames processed at a time; peak memory grows with it, not with the video's length "
                          "(default: the most, up to 32, that fits --memory-budget; a given value wins over the budget)")
    run.add_argument("--memory-budget", type=_memory_size, default=default(ConvertConfig, "memory_budget"), metavar="SIZE",
                     help="peak memory the job may use when it chooses the chunk size: 3G, 3000M or bytes "
                          "(default: 3G, at most half of the available memory; or what one frame per chunk needs where that is more "
                          "and fits in 80%% of it)")
    run.add_argument("--context-frames", type=int, default=default(ConvertConfig, "context_frames"),
                     help="frames on each side of a chunk the fill may read, so seams do not show (default %(default)s)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted conversion from its state folder next to the output (same input and options)")
    run.add_argument("--keep-state", action="store_true", help="keep the state folder (depth chunks, segments) after success")
    bat = parser.add_argument_group("batch")
    bat.add_argument("--recursive", action="store_true", help="also convert videos in subfolders of input folders")
    bat.add_argument("--overwrite", action="store_true", help="convert again when the outputs exist (default: skip them)")
    bat.add_argument("--keep-going", action="store_true", help="go on with the other inputs when one fails (exit code 1 at the end)")
    bat.add_argument("--executor", choices=EXECUTORS, default=default(JobConfig, "executor"),
                     help="local: this process; ray: Ray tasks for the inputs and the chunks (pip install 's2vg[ray]')")
    bat.add_argument("--ray-address", default=None, help="Ray cluster address (default: RAY_ADDRESS, else a local Ray instance)")
    bat.add_argument("--ray-gpus", type=float, default=None, help="GPUs per Ray task that runs a model (default: 1 if the cluster has GPUs)")
    add_output_flags(parser)


def cmd_convert(args: argparse.Namespace) -> dict:
    from s2vg.batch import BatchFailed, run_batch
    from s2vg.config import BatchConfig, JobConfig
    from s2vg.convert import RigRequest

    if args.depth_model and args.depth not in ("auto",) and not args.depth.startswith(("depth-anything", "dpt-", "zoedepth-")):
        raise OptionError(f"--depth-model is for learned depth models, but --depth is {args.depth!r}; drop one of them")
    depth_name = args.depth
    if args.depth_model and depth_name == "auto":
        depth_name = "depth-anything-v2-small"
    summary = run_batch(
        args.inputs,
        args.output,
        batch=BatchConfig(recursive=args.recursive, overwrite=args.overwrite, keep_going=args.keep_going),
        job=JobConfig(resume=args.resume, keep_state=args.keep_state, executor=args.executor,
                      ray_address=args.ray_address, ray_gpus=args.ray_gpus),
        config=ConvertConfig(
            depth=depth_name, inpainter=args.inpainter, chunk_frames=args.chunk_frames, memory_budget=args.memory_budget,
            context_frames=args.context_frames, max_frames=args.max_frames,
            outpaint=args.outpaint, outpaint_method=args.outpaint_method,
        ),
        rig=RigRequest(mode=args.mode, views=args.views, baseline=args.baseline, focal=args.focal),
        depth=DepthConfig(kind=args.depth_kind, far=args.far, near=args.near),
        depth_stage=DepthStageConfig(model_path=args.depth_model, stabilize=not args.no_stabilize),
        stereo=StereoConfig(divergence=args.divergence, convergence=args.convergence),
        output_config=OutputConfig(
            layout=args.layout, codec=args.codec, crf=args.crf, preset=args.preset, png_sequence=args.png_sequence
        ),
        inpainter_options=diffusion_options(args),
        progress=make_progress(args),
    )
    if summary.get("batch") and summary["failed"]:
        # The table (or JSON) is printed before the error line, which sets exit code 1.
        if args.json:
            print(json.dumps({k: v for k, v in summary.items() if not k.startswith("_")}, indent=2, default=_jsonable))
        else:
            _print_convert(summary)
        raise BatchFailed(f"{summary['failed']} of {len(summary['rows'])} inputs failed (see the table above)")
    return summary


def _print_convert(summary: dict) -> None:
    if summary.get("batch"):
        from s2vg.batch import format_table

        print(format_table(summary))
        return
    if summary.get("skipped"):
        print(f"skipped {summary['input']}: {', '.join(summary['outputs'])} exists (--overwrite converts it again)")
        return
    rig = summary["rig"]
    strength = f"divergence {rig['divergence_pct']}%" if rig["divergence_pct"] else f"baseline {rig['baseline_m']:.4f} m"
    resumed = " (resumed)" if summary.get("job", {}).get("resumed") else ""
    print(
        f"wrote {', '.join(summary['outputs'])}{resumed}: {summary['output_frames']} frames at {summary['fps']} fps, "
        f"{summary['layout']} {summary['output_size'][0]}x{summary['output_size'][1]}; depth "
        f"{summary['depth'].get('estimator', summary['depth'].get('path'))}, inpainter {summary['inpainter']}, "
        f"{strength}; {summary['seconds']['total']:.1f} s ({summary['frames_per_second']:.2f} frames/s)"
    )


def add_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="a video file, a folder of images, or one image")
    add_output_flags(parser)


def cmd_info(args: argparse.Namespace) -> dict:
    from s2vg.io import probe

    info = probe(args.input)
    data = dataclasses.asdict(info)
    data.pop("files", None)
    data["path"] = str(info.path)
    data["fps"] = str(info.fps)
    data["command"] = "info"
    data["_info"] = info
    return data


def _print_info(summary: dict) -> None:
    from s2vg.io import describe

    print(describe(summary["_info"]))


def add_eval(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import SCENE_KINDS, EvalConfig

    parser.add_argument("-o", "--output", default="s2vg-eval", help="report folder: eval.json, eval.md, eval.png (default %(default)s)")
    parser.add_argument("--scenes", nargs="+", choices=SCENE_KINDS, default=list(default(EvalConfig, "scenes")), help="rendered scene kinds")
    parser.add_argument("--height", type=int, default=default(EvalConfig, "height"))
    parser.add_argument("--width", type=int, default=default(EvalConfig, "width"))
    parser.add_argument("--frames", type=int, default=default(EvalConfig, "frames"))
    parser.add_argument("--seed", type=int, default=default(EvalConfig, "seed"))
    parser.add_argument("--divergence", type=float, default=default(EvalConfig, "divergence"), help="%% of width (default %(default)s)")
    parser.add_argument("--views", type=int, default=None, help="views per frame matrix (default 2, 8 for svg)")
    parser.add_argument("--methods", nargs="+", default=list(default(EvalConfig, "methods")),
                        help="inpainters, each NAME or NAME:key=value,... (default: baselines, classical, svg)")
    parser.add_argument("--clip", action="append", default=None, metavar="VIDEO[=DEPTH]",
                        help="a real clip for the round-trip protocol (repeatable); default: the sample clips when present")
    parser.add_argument("--no-clips", action="store_true", help="rendered scenes only")
    parser.add_argument("--clip-depth", default=default(EvalConfig, "clip_depth"), help="depth estimator for clips without a depth file")
    parser.add_argument("--clip-max-width", type=int, default=default(EvalConfig, "clip_max_width"))
    parser.add_argument("--no-figure", action="store_true", help="skip the PNG figure")
    parser.add_argument("--no-reference", action="store_true", help="also report measures that need no truth")
    parser.add_argument("--model", default=None, help="video model folder for the svg inpainter")
    parser.add_argument("--pair", nargs="+", metavar="PATH",
                        help="score fills on a rectified stereo pair instead: LEFT RIGHT (with --disparity) or one folder "
                        "in the Middlebury layout (im0.png, im1.png, disp0.pfm)")
    parser.add_argument("--disparity", default=None, help="the left image's true disparity in px (.pfm, KITTI .png, .npy/.npz)")
    parser.add_argument("--depth-quality", action="store_true",
                        help="score depth estimators instead (heuristic, plane, position prior; ordinal accuracy, AbsRel, delta<1.25, flicker) "
                        "on the scenes, the tracked-subject scene and any --pair FOLDER...")
    parser.add_argument("--seams", default=None, metavar="VIDEO",
                        help="measure chunk seams of a converted video instead (jumps at chunk boundaries vs inside chunks)")
    parser.add_argument("--chunk-frames", type=int, default=32,
                        help="the chunk size VIDEO was converted with (`convert --json` prints it; for --seams; default %(default)s)")
    parser.add_argument("--layout", choices=LAYOUT_CHOICES, default=default(OutputConfig, "layout"), help="VIDEO's layout (for --seams)")
    add_output_flags(parser)


def cmd_eval(args: argparse.Namespace) -> dict:
    from s2vg.config import EvalConfig

    if args.seams:
        from s2vg.metrics.seams import video_seams

        report = video_seams(args.seams, args.chunk_frames, args.layout)
        return {"command": "eval", "seams": report.as_dict(), "within_spread": report.within_spread, "outputs": []}
    if args.depth_quality:
        from s2vg.metrics.depth_quality import run_depth_eval

        if args.disparity:
            raise OptionError("--depth-quality reads pair folders (--pair FOLDER ...); drop --disparity")
        return run_depth_eval(args.output, scenes=tuple(args.scenes), height=args.height, width=args.width, frames=args.frames,
                              seed=args.seed, pairs=tuple(args.pair or ()))
    if args.pair:
        from s2vg.metrics.pairs import PAIR_METHODS, middlebury_pair, run_pair_eval

        if len(args.pair) > 2:
            raise OptionError(f"--pair takes LEFT RIGHT or one folder; got {len(args.pair)} paths")
        if len(args.pair) == 1:
            if args.disparity:
                raise OptionError("--pair FOLDER reads FOLDER/disp0.pfm; drop --disparity or give --pair LEFT RIGHT")
            left, right, disparity = middlebury_pair(args.pair[0])
        elif not args.disparity:
            raise OptionError("--pair LEFT RIGHT needs --disparity FILE (the left image's disparity in pixels)")
        else:
            (left, right), disparity = args.pair, args.disparity
        methods = args.methods if args.methods != list(default(EvalConfig, "methods")) else PAIR_METHODS
        return run_pair_eval(left, right, disparity, args.output, methods=methods)
    if args.disparity:
        raise OptionError("--disparity belongs to --pair LEFT RIGHT; add --pair or drop --disparity")
    from s2vg.metrics.eval import run_eval

    config = EvalConfig(
        scenes=tuple(args.scenes),
        height=args.height,
        width=args.width,
        frames=args.frames,
        seed=args.seed,
        divergence=args.divergence,
        views=args.views,
        methods=tuple(args.methods),
        clips=() if args.no_clips else (tuple(args.clip) if args.clip else None),
        clip_depth=args.clip_depth,
        clip_max_width=args.clip_max_width,
        figure=not args.no_figure,
        no_reference=args.no_reference,
    )
    options = {"svg": {"model": args.model}} if args.model else None
    return run_eval(config, args.output, inpainter_options=options, progress=make_progress(args))


def _print_eval(summary: dict) -> None:
    if "seams" in summary:
        print(json.dumps(summary["seams"], indent=2))
        print("seams are within the spread inside chunks" if summary["within_spread"] else "seams stand out")
        return
    if "table" in summary:
        print(summary["table"])
    print("wrote " + ", ".join(str(p) for p in summary.get("outputs", [])))


def add_demo(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import SCENE_KINDS, DemoConfig

    parser.add_argument("-o", "--output", default="s2vg-demo", help="output folder (default %(default)s)")
    parser.add_argument("--scene", choices=SCENE_KINDS, default=default(DemoConfig, "scene"))
    parser.add_argument("--height", type=int, default=default(DemoConfig, "height"))
    parser.add_argument("--width", type=int, default=default(DemoConfig, "width"))
    parser.add_argument("--frames", type=int, default=default(DemoConfig, "frames"))
    parser.add_argument("--seed", type=int, default=default(DemoConfig, "seed"))
    parser.add_argument("--divergence", type=float, default=default(DemoConfig, "divergence"), help="%% of width")
    parser.add_argument("--no-estimated", action="store_true", help="convert with the true depth only")
    add_output_flags(parser)


def cmd_demo(args: argparse.Namespace) -> dict:
    from s2vg.config import DemoConfig
    from s2vg.metrics.demo import run_demo

    config = DemoConfig(
        scene=args.scene, height=args.height, width=args.width, frames=args.frames, seed=args.seed,
        divergence=args.divergence, estimated=not args.no_estimated,
    )
    return run_demo(config, args.output, progress=make_progress(args))


def _print_demo(summary: dict) -> None:
    outputs = summary["outputs"]
    files = outputs.values() if isinstance(outputs, dict) else outputs
    print(f"rendered the {summary['scene']!r} scene and converted it; wrote " + ", ".join(str(p) for p in files))
    for label, score in summary.get("scores", {}).items():
        print(f"  {label}: {score}")


def add_generate(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import GenerateConfig

    parser.add_argument("prompt", nargs="?", default="", help="what the video shows (optional with --image)")
    parser.add_argument("-o", "--output", required=True, help="output file or folder (as for convert)")
    parser.add_argument("--image", default=None, help="first frame for an image-to-video model")
    gen = parser.add_argument_group("generation (defaults: the model's own)")
    gen.add_argument("--model", default=default(GenerateConfig, "model"),
                     help="video model: hub id or local folder; model_index.json picks the family (also the inpainter's model)")
    gen.add_argument("--steps", type=int, default=None)
    gen.add_argument("--guidance", type=float, default=None)
    gen.add_argument("--negative-prompt", default=None)
    gen.add_argument("--height", type=int, default=None)
    gen.add_argument("--width", type=int, default=None)
    gen.add_argument("--frames", type=int, default=None)
    gen.add_argument("--fps", type=float, default=None)
    gen.add_argument("--seed", type=int, default=default(GenerateConfig, "seed"))
    gen.add_argument("--device", default=None)
    gen.add_argument("--dtype", default=None)
    gen.add_argument("--cpu-offload", action="store_true", help="keep modules on the CPU until used (less GPU memory)")
    gen.add_argument("--vae-tiling", action="store_true", help="decode in tiles (less GPU memory)")
    gen.add_argument("--mono-only", action="store_true", help="stop after generating the monocular video")
    st = parser.add_argument_group("stereo conversion of the generated video")
    st.add_argument("--layout", choices=LAYOUT_CHOICES, default=default(OutputConfig, "layout"))
    st.add_argument("--divergence", type=float, default=default(StereoConfig, "divergence"), help="%% of width")
    st.add_argument("--convergence", type=float, default=None)
    st.add_argument("--views", type=int, default=None)
    st.add_argument("--depth", default=default(ConvertConfig, "depth"), help="depth estimator name")
    st.add_argument("--inpainter", default=default(ConvertConfig, "inpainter"), help="auto, svg (reuses the generator), classical")
    st.add_argument("--inpaint-steps", type=int, default=None, help="denoising steps of the svg inpainter")
    st.add_argument("--inpaint-resample", type=int, default=None, help="frame-matrix resamples per step")
    st.add_argument("--upscale", type=int, default=None, choices=(2, 4), help="stereo super-resolution of the result")
    add_output_flags(parser)


def cmd_generate(args: argparse.Namespace) -> dict:
    from s2vg.config import GenerateConfig, SuperResolutionConfig
    from s2vg.convert import RigRequest
    from s2vg.generate.api import generate

    if not args.prompt and not args.image:
        raise OptionError("give a PROMPT, or --image IMG for an image-to-video model")
    config = GenerateConfig(
        model=args.model, steps=args.steps, guidance=args.guidance, negative_prompt=args.negative_prompt,
        height=args.height, width=args.width, frames=args.frames, fps=args.fps, seed=args.seed, device=args.device,
        dtype=args.dtype, cpu_offload=args.cpu_offload, vae_tiling=args.vae_tiling,
    )
    inpainter_options = {k: v for k, v in (("steps", args.inpaint_steps), ("resample", args.inpaint_resample)) if v is not None}
    convert_options = {
        "config": ConvertConfig(depth=args.depth, inpainter=args.inpainter),
        "rig": RigRequest(views=args.views),
        "stereo": StereoConfig(divergence=args.divergence, convergence=args.convergence),
        "output_config": OutputConfig(layout=args.layout),
        "inpainter_options": inpainter_options,
    }
    return generate(
        args.prompt, args.output, image=args.image, config=config, mono_only=args.mono_only,
        convert_options=convert_options, upscale=SuperResolutionConfig(scale=args.upscale) if args.upscale else None,
        progress=make_progress(args),
    )


def _print_generate(summary: dict) -> None:
    print(f"generated {summary.get('output_frames')} frames from {summary.get('model')!r} (seed {summary.get('seed')}); "
          f"wrote {', '.join(str(p) for p in summary.get('outputs', []))}")


def add_upscale(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import SuperResolutionConfig

    parser.add_argument("input", help="a stereo video in any of s2vg's layouts (or the _L file of an L/R pair)")
    parser.add_argument("-o", "--output", default=None, help="output file or folder (default: next to the input)")
    parser.add_argument("--scale", type=int, default=default(SuperResolutionConfig, "scale"), help="2 or 4 (default %(default)s)")
    parser.add_argument("--layout", default="auto", help="the input's layout (default: detected from name, metadata or content)")
    parser.add_argument("--output-layout", default=None, help="layout of the result (default: the input's)")
    parser.add_argument("--method", default=default(SuperResolutionConfig, "method"), help="classical (no weights) or learned")
    parser.add_argument("--model", default=None, help="upscaler model for --method learned: hub id or local folder")
    parser.add_argument("--no-temporal", action="store_true", help="no temporal condition (previous upscaled frame)")
    parser.add_argument("--no-cross-view", action="store_true", help="no cross-view condition (left eye warped to the right)")
    parser.add_argument("--codec", choices=("h264", "hevc"), default=default(OutputConfig, "codec"))
    parser.add_argument("--crf", type=int, default=default(OutputConfig, "crf"))
    parser.add_argument("--png-sequence", action="store_true")
    add_output_flags(parser)


def cmd_upscale(args: argparse.Namespace) -> dict:
    from s2vg.config import SuperResolutionConfig
    from s2vg.sr.api import upscale

    config = SuperResolutionConfig(
        scale=args.scale, method=args.method, model=args.model, temporal=not args.no_temporal, cross_view=not args.no_cross_view
    )
    return upscale(
        args.input, args.output, config=config, layout=None if args.layout == "auto" else args.layout,
        output_layout=args.output_layout,
        output_config=OutputConfig(codec=args.codec, crf=args.crf, png_sequence=args.png_sequence),
        progress=make_progress(args),
    )


def _print_upscale(summary: dict) -> None:
    print(f"upscaled x{summary.get('scale')}: wrote {', '.join(str(p) for p in summary.get('outputs', []))}")


def _add_path_flags(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import CameraPathConfig

    group = parser.add_argument_group("camera path")
    group.add_argument("--path", default=default(CameraPathConfig, "path"),
                       help="stereo, dolly, orbit, or a JSON/CSV file with a position and look-at per frame (default %(default)s)")
    group.add_argument("--stereo", action="store_true", help="render dolly/orbit/file paths as stereo pairs")
    group.add_argument("--divergence", type=float, default=default(CameraPathConfig, "divergence"), help="eye separation, %% of width")
    group.add_argument("--baseline", type=float, default=None, help="eye separation in metres (overrides --divergence)")
    group.add_argument("--convergence", type=float, default=None, help="depth at the screen plane, 0 farthest .. 1 nearest")
    group.add_argument("--layout", choices=LAYOUT_CHOICES, default=default(OutputConfig, "layout"), help="packing of stereo paths")
    group.add_argument("--crf", type=int, default=default(OutputConfig, "crf"))


def _path_config(args: argparse.Namespace):
    from s2vg.config import CameraPathConfig

    return CameraPathConfig(
        path=args.path, stereo=args.stereo, divergence=args.divergence, baseline=args.baseline, convergence=args.convergence
    )


def add_spatial(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import SpatialConfig, SpatialFitConfig

    parser.add_argument("input", help="a video (the whole pipeline runs first) or a frame matrix folder from s2vg matrix")
    parser.add_argument("-o", "--output", default=None, help="output video file or folder")
    parser.add_argument("--views", type=int, default=default(SpatialConfig, "views"), help="views of the frame matrix (default %(default)s)")
    parser.add_argument("--mode", choices=("circle", "middle2leftright", "left2right", "right2left"),
                        default=default(SpatialConfig, "mode"), help="rig of the frame matrix (default %(default)s)")
    parser.add_argument("--inpainter", default=default(SpatialConfig, "inpainter"), help="auto, classical or svg")
    parser.add_argument("--max-width", type=int, default=default(SpatialConfig, "max_width"), help="scale wider frames down first")
    parser.add_argument("--max-frames", type=int, default=None, help="fit only the first N frames")
    parser.add_argument("--depth", default="auto", help="depth estimator name")
    parser.add_argument("--iterations", type=int, default=default(SpatialFitConfig, "iterations"), help="fit steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=default(SpatialFitConfig, "seed"))
    parser.add_argument("--save-scene", default=None, metavar="DIR", help="save the fitted scene (3DGS .ply + deformation + rig)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the fit")
    _add_path_flags(parser)
    add_output_flags(parser)


def cmd_spatial(args: argparse.Namespace) -> dict:
    from s2vg.config import SpatialConfig, SpatialFitConfig
    from s2vg.spatial.api import spatial

    return spatial(
        args.input, args.output,
        config=SpatialConfig(mode=args.mode, views=args.views, inpainter=args.inpainter, max_width=args.max_width,
                             max_frames=args.max_frames),
        fit=SpatialFitConfig(iterations=args.iterations, seed=args.seed, threads=args.threads),
        path=_path_config(args),
        output_config=OutputConfig(layout=args.layout, crf=args.crf),
        save_scene=args.save_scene,
        depth_stage=DepthStageConfig(estimator=args.depth),
        progress=make_progress(args),
    )


def add_render(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scene", help="a scene folder saved by s2vg spatial --save-scene")
    parser.add_argument("-o", "--output", default=None, help="output video file or folder")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    _add_path_flags(parser)
    add_output_flags(parser)


def cmd_render(args: argparse.Namespace) -> dict:
    from s2vg.spatial.api import render

    return render(
        args.scene, args.output, path=_path_config(args), output_config=OutputConfig(layout=args.layout, crf=args.crf),
        threads=args.threads, progress=make_progress(args),
    )


def _print_spatial(summary: dict) -> None:
    outputs = summary.get("outputs", [])
    saved = summary.get("command") == "spatial" and summary.get("scene")
    print(f"wrote {', '.join(str(p) for p in outputs)}" + (f"; scene saved in {summary['scene']}" if saved else ""))


def add_serve(parser: argparse.ArgumentParser) -> None:
    from s2vg.config import ServeConfig

    parser.add_argument("--host", default=default(ServeConfig, "host"), help="address to bind (default %(default)s: this machine only)")
    parser.add_argument("--port", type=int, default=default(ServeConfig, "port"), help="port (default %(default)s)")
    parser.add_argument("--root", default=None, help="folder whose videos the page may open by path")
    parser.add_argument("--work-dir", default=None, help="folder for uploads, previews and results (default: a new temp folder)")
    parser.add_argument("--max-upload-mb", type=float, default=default(ServeConfig, "max_upload_mb"), help="largest upload in MiB")
    parser.add_argument("--auth", default=os.environ.get("S2VG_AUTH"), metavar="USER:PASSWORD",
                        help="require HTTP basic auth (or set S2VG_AUTH)")


def cmd_serve(args: argparse.Namespace) -> dict:
    from s2vg.config import ServeConfig
    from s2vg.web import serve

    config = ServeConfig(
        host=args.host, port=args.port, root=args.root, work_dir=args.work_dir, max_upload_mb=args.max_upload_mb, auth=args.auth
    )
    serve(config)
    return {"command": "serve", "host": config.host, "port": config.port}


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], dict]
    show: Callable[[dict], None]
    examples: tuple[str, ...] = ()


COMMANDS: list[Command] = [
    Command(
        "convert",
        "convert a monocular video (or image) to stereo 3D: side-by-side, top-bottom, anaglyph or L/R files",
        add_convert,
        cmd_convert,
        _print_convert,
        (
            "s2vg convert clip.mp4 -o out/                      # clip_LRF_Full_SBS.mp4, offline defaults",
            "s2vg convert clip.mp4 -o clip_3d.mp4 --layout half-sbs --divergence 3 --convergence 0.3",
            "s2vg convert clip.mp4 -o red_cyan.mp4 --layout anaglyph --depth depth-anything-v2-base",
            "s2vg convert photo.jpg -o photo_sbs.png",
        ),
    ),
    Command(
        "demo",
        "render a scene with known 3D truth, convert it offline, and write the stereo videos and a comparison image",
        add_demo,
        cmd_demo,
        _print_demo,
        ("s2vg demo", "s2vg demo -o demo/ --scene fence"),
    ),
    Command(
        "eval",
        "measure inpainters on rendered ground-truth scenes and real clips (PSNR/SSIM in holes, flicker); report",
        add_eval,
        cmd_eval,
        _print_eval,
        (
            "s2vg eval -o report/",
            "s2vg eval --methods classical telea --clip my_clip.mp4 --no-figure",
            "s2vg eval --pair left.png right.png --disparity disp0.pfm",
            "s2vg eval --pair Motorcycle/   # Middlebury layout: im0.png, im1.png, disp0.pfm",
            "s2vg eval --depth-quality --pair Motorcycle/   # depth estimators against truth",
        ),
    ),
    Command(
        "generate",
        "generate a video from a prompt (or an image) with a video model, then convert it to stereo",
        add_generate,
        cmd_generate,
        _print_generate,
        (
            's2vg generate "an astronaut riding a horse" -o out/ --model ./zeroscope_v2_576w',
            "s2vg generate --image first_frame.png -o out/ --model ./Wan2.1-I2V --mono-only",
        ),
    ),
    Command(
        "upscale",
        "stereo super-resolution of a stereo video, keeping both eyes consistent",
        add_upscale,
        cmd_upscale,
        _print_upscale,
        ("s2vg upscale clip_LRF_Full_SBS.mp4 -o big/ --scale 2",),
    ),
    Command(
        "spatial",
        "fit dynamic 3D Gaussians to the frame matrix and render a moving viewpoint (spatial video)",
        add_spatial,
        cmd_spatial,
        _print_spatial,
        (
            "s2vg spatial clip.mp4 -o orbit.mp4 --path orbit --save-scene scene/",
            "s2vg spatial matrix/ -o pair.mp4 --path stereo --divergence 3",
        ),
    ),
    Command(
        "render",
        "render a saved spatial scene along a camera path (stereo, dolly, orbit or a JSON/CSV file)",
        add_render,
        cmd_render,
        _print_spatial,
        ("s2vg render scene/ -o dolly.mp4 --path dolly --stereo", "s2vg render scene/ -o path.mp4 --path cams.json"),
    ),
    Command(
        "serve",
        "run the local web app: upload or pick a video, preview, convert with live progress, download",
        add_serve,
        cmd_serve,
        lambda summary: None,
        ("s2vg serve", "s2vg serve --root ~/Videos --port 8080"),
    ),
    Command(
        "info",
        "show what s2vg sees in a file: size, frames, exact frame rate, rotation, audio and subtitle streams",
        add_info,
        cmd_info,
        _print_info,
        ("s2vg info clip.mp4", "s2vg info clip.mp4 --json"),
    ),
    Command(
        "matrix",
        "warp a clip with its depth into a frame matrix (V views x T frames) and write it as PNGs",
        add_matrix,
        cmd_matrix,
        _print_matrix,
        (
            "s2vg matrix clip/images --depth clip/depth.npz:refined --out matrix/",
            "s2vg matrix left.png --depth disp.npy --depth-kind disparity --views 2 --out pair/",
        ),
    ),
]


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2) instead of the whole usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: bad option: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="s2vg",
        description="Monocular video to stereoscopic 3D and spatial video (training-free frame-matrix method).",
    )
    parser.add_argument("--version", action="version", version=f"s2vg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in command.examples) if command.examples else None
        p = sub.add_parser(
            command.name, help=command.help, description=command.help, epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(p)
        p.set_defaults(_command=command)
    return parser


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings reach CLI users as one line each, without the source line."""
    print(f"s2vg: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_command", None):
        parser.print_help()
        return 2
    command: Command = args._command
    try:
        summary = command.run(args)
    except KeyboardInterrupt:
        print("s2vg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one table turns errors into one line
        if os.environ.get("S2VG_DEBUG"):
            raise
        missing = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        if missing and missing.split(".")[0] in EXTRAS:
            extra = EXTRAS[missing.split(".")[0]]
            print(f"s2vg {command.name}: missing dependency: this needs {missing.split('.')[0]}; "
                  f"install it with pip install 's2vg[{extra}]'", file=sys.stderr)
            return 2
        for kind, label, code in ERROR_TABLE:
            if isinstance(exc, kind):
                print(f"s2vg {command.name}: {label}: {exc}", file=sys.stderr)
                return code
        print(
            f"s2vg {command.name}: internal error: {type(exc).__name__}: {exc} (run with S2VG_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
    if getattr(args, "json", False):
        print(json.dumps({k: v for k, v in summary.items() if not k.startswith("_")}, indent=2, default=_jsonable))
    else:
        command.show(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
