"""``s2vg generate``: a prompt (or an image) in, a stereo video out.

generate the monocular video (:mod:`s2vg.generate.video`) -> write it to a temporary
file (``--mono-only``: to the output, and stop) -> ``s2vg.convert.convert`` on it, with
the prompt reused by the diffusion inpainter and the generator's own modules handed to it
as its denoiser (one model, loaded once) -> optionally stereo super-resolution
(:func:`s2vg.sr.api.upscale`). The prompt, seed, model and every resolved number go into
the output's container tags (:mod:`s2vg.generate.metadata`) and the returned summary.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from s2vg.config import ConvertConfig, GenerateConfig, OutputConfig, SuperResolutionConfig
from s2vg.errors import OptionError, OutputError
from s2vg.generate.metadata import generation_metadata, tag_video
from s2vg.progress import Progress

#: Quality of the intermediate files: x264 at constant quality 0 is lossless in YUV.
_LOSSLESS = dict(codec="h264", crf=0, preset="ultrafast")
_CONVERT_KEYS = ("config", "rig", "depth", "depth_stage", "stereo", "output_config", "inpainter_options")


def clip_name(prompt: str, image: str | Path | None) -> str:
    """A file stem for the generated clip: the image's stem, else the prompt's first words."""
    if image is not None and isinstance(image, (str, Path)):
        return Path(image).stem
    words = re.findall(r"[a-z0-9]+", prompt.lower())[:6]
    return "-".join(words) or "generated"


def _is_video_file(path: Path) -> bool:
    return path.suffix.lower() in (".mp4", ".mov", ".m4v", ".mkv")


def _share_model(generator: Any, config: ConvertConfig, options: dict[str, Any]) -> tuple[ConvertConfig, bool]:
    """Hand the generator's modules to the ``svg`` inpainter when it will run and uses the
    same model; ``auto`` becomes ``svg`` on CUDA when they can be shared."""
    import torch

    wants_svg = config.inpainter == "svg" or (config.inpainter == "auto" and torch.cuda.is_available())
    same_model = options.get("model") in (None, generator.about["model"]) and not options.get("vae")
    if not wants_svg or not same_model or options.get("denoiser") is not None:
        return config, False
    denoiser = generator.denoiser()
    if denoiser is None:
        return config, False
    options["denoiser"] = denoiser
    return dataclasses.replace(config, inpainter="svg"), True


def generate(
    prompt: str,
    output: str | Path,
    *,
    image: str | Path | None = None,
    config: GenerateConfig = GenerateConfig(),
    mono_only: bool = False,
    convert_options: dict[str, Any] | None = None,
    upscale: int | SuperResolutionConfig | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Generate a video from ``prompt`` (and ``image``) and convert it to stereo.

    Args:
        prompt: what the video shows (also the diffusion inpainter's prompt unless
            ``convert_options["inpainter_options"]["prompt"]`` says otherwise).
        output: a file, or a folder (player-named files ``<clip>_LRF_Full_SBS.mp4`` ...,
            the clip named after the image or the prompt's first words).
        image: first frame for an image-to-video model.
        config: generation options.
        mono_only: write the generated monocular video to ``output`` and stop.
        convert_options: keyword arguments of :func:`s2vg.convert.convert` (``config``,
            ``rig``, ``depth``, ``depth_stage``, ``stereo``, ``output_config``,
            ``inpainter_options``).
        upscale: 2, 4 or a :class:`SuperResolutionConfig` to upscale the stereo result.

    Returns:
        a summary ``dict``: ``command``, ``prompt``, ``seed``, ``model``, ``generation``
        (every resolved number), ``outputs``, and the ``convert`` / ``upscale`` summaries.

    Raises:
        OptionError: bad options, an image-to-video model without an image (or the
            reverse), an unknown convert option.
        MissingWeightsError: the generator's weights are not available.
        OutputError: the output folder does not exist.
    """
    from s2vg.generate.video import VideoGenerator

    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    options = dict(convert_options or {})
    unknown = sorted(set(options) - set(_CONVERT_KEYS))
    if unknown:
        raise OptionError(f"unknown convert option(s) {', '.join(unknown)}; they are {', '.join(_CONVERT_KEYS)}")
    sr_config = SuperResolutionConfig(scale=upscale) if isinstance(upscale, int) else upscale
    output = Path(output)
    output_config: OutputConfig = options.get("output_config", OutputConfig())
    folder = output if (output.is_dir() or not output.suffix) else output.parent
    parent = (output.parent if output.suffix else output.parent if not output.is_dir() else output) or Path(".")
    if not (parent if str(parent) else Path(".")).is_dir():
        raise OutputError(f"output folder {str(folder)!r} does not exist; create it or choose another output")

    with progress.timer("load generator"):
        generator = VideoGenerator.load(config, image=image is not None)
    frames, fps, info = generator(prompt, image, config=config, progress=progress)
    metadata = generation_metadata(info)
    name = clip_name(prompt, image)
    t, h, w, _ = frames.shape
    summary: dict[str, Any] = {"command": "generate", "prompt": prompt, "seed": info["seed"], "model": info["model"],
                               "generation": info}

    from s2vg.io.writer import open_writer

    if mono_only:
        if not output.suffix:
            output.mkdir(exist_ok=True)
            target = output / (name if output_config.png_sequence else f"{name}.mp4")
        else:
            target = output
        video = dict(codec=output_config.codec, crf=output_config.crf, preset=output_config.preset, metadata=metadata)
        with open_writer(target, fps=fps, width=w, height=h, **(video if _is_video_file(target) else {})) as writer:
            writer.write(frames)
        summary.update(outputs=[str(target)], output_frames=t, fps=str(fps), output_size=[w, h], mono_only=True)
        summary["seconds"] = {"total": round(time.perf_counter() - start, 3)}
        return summary

    from s2vg.convert import convert

    work = Path(tempfile.mkdtemp(prefix=".s2vg-generate-", dir=folder if folder.is_dir() else None))
    try:
        mono = work / f"{name}.mp4"
        with open_writer(mono, fps=fps, width=w, height=h, **_LOSSLESS) as writer:
            writer.write(frames)
        del frames
        convert_config: ConvertConfig = options.get("config", ConvertConfig())
        inpainter_options = dict(options.get("inpainter_options") or {})
        if not inpainter_options.get("prompt"):
            inpainter_options["prompt"] = prompt
        convert_config, shared = _share_model(generator, convert_config, inpainter_options)
        if not shared:
            del generator  # free the generator before the depth model and the inpainter load
        stereo_output: Path | str = output
        if sr_config is not None:
            stereo_output = work / f"{name}_LRF_Full_SBS.mp4"
            options["output_config"] = OutputConfig(layout="sbs", **_LOSSLESS)
        kwargs = {k: v for k, v in options.items() if k not in ("config", "inpainter_options")}
        stereo = convert(mono, stereo_output, config=convert_config, inpainter_options=inpainter_options,
                         progress=progress, **kwargs)
        stereo.pop("command", None)
        summary["convert"] = stereo
        summary["shared_model"] = shared
        if sr_config is not None:
            from s2vg.sr.api import upscale as sr_upscale

            target: Path | None = output
            if not output.suffix:
                output.mkdir(exist_ok=True)
                target = output
            upscaled = sr_upscale(stereo_output, target, config=sr_config, layout="sbs",
                                  output_layout=output_config.layout, output_config=output_config,
                                  metadata=metadata, progress=progress)
            upscaled.pop("command", None)
            summary["upscale"] = upscaled
            outputs = upscaled["outputs"]
        else:
            outputs = stereo["outputs"]
            for path in map(Path, outputs):
                if _is_video_file(path):
                    tag_video(path, metadata)
        last = summary.get("upscale", stereo)
        summary.update(outputs=outputs, output_frames=last["output_frames"], fps=last["fps"],
                       output_size=last["output_size"], layout=output_config.layout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary["seconds"] = {"total": round(time.perf_counter() - start, 3)}
    return summary
