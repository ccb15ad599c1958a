"""Loading a video generator: a hub id or a local diffusers folder -> a ready pipeline.

The folder's ``model_index.json`` names the pipeline class, which picks the family
(:mod:`s2vg.generate.families`); only the index is fetched before that choice, so a
text-to-video model given an image (or the reverse) fails before any weight is read.
Weights come from a local folder or the Hugging Face cache, or the hub when it answers;
offline, a cache miss is a one-line :class:`~s2vg.errors.MissingWeightsError` (the same
rules as the diffusion inpainter's backends, :mod:`s2vg.inpaint.diffusion.backends.weights`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from s2vg.config import GenerateConfig
from s2vg.errors import MissingWeightsError, OptionError
from s2vg.generate.families import FAMILIES, Family, family_of_class

_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
_FIX = "pass a local diffusers folder with --model PATH"


def default_model(image: bool) -> str:
    """The generator used when none is named: Zeroscope for text, LTX-Video with an image."""
    return FAMILIES["ltx"].default_i2v_model if image else FAMILIES["zeroscope"].default_model  # type: ignore[return-value]


def snapshot(repo_id: str, allow_patterns: list[str], what: str = "video generator", fix: str = _FIX) -> Path:
    """A cached (or, online, downloaded) snapshot of hub repo ``repo_id`` restricted to
    ``allow_patterns``; never hangs offline.

    Raises:
        MissingWeightsError: one line naming the model, where it was looked for, and ``fix``.
    """
    from huggingface_hub import constants, snapshot_download

    from s2vg.inpaint.diffusion.backends.weights import _hub_reachable, _offline

    what = f"{what} {repo_id}"
    try:
        path = Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=allow_patterns))
        if all(any(path.glob(pattern)) for pattern in allow_patterns):
            return path
    except Exception:  # not in the cache (or a broken cache entry): try the hub below
        pass
    where = f"the Hugging Face cache ({constants.HF_HUB_CACHE})"
    if _offline():
        raise MissingWeightsError(f"{what} is not in {where} and HF_HUB_OFFLINE is set; download it where the network "
                                  f"is available (hf download {repo_id}) and {fix}")
    if not _hub_reachable():
        raise MissingWeightsError(f"{what} is not in {where} and the hub ({constants.ENDPOINT}) is unreachable; "
                                  f"download it where the network is available (hf download {repo_id}) and {fix}")
    try:
        return Path(snapshot_download(repo_id, allow_patterns=allow_patterns))
    except Exception as error:
        raise MissingWeightsError(f"{what} could not be downloaded ({type(error).__name__}); {fix}") from error


def is_folder(model: str) -> bool:
    from s2vg.inpaint.diffusion.backends.weights import _looks_like_path

    return Path(model).expanduser().exists() or _looks_like_path(model)


def _components(index: dict[str, Any]) -> list[str]:
    """Subfolders a pipeline index lists (entries ``[library, class]`` that are not null)."""
    return [k for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and v[0] is not None]


def read_index(model: str) -> tuple[Path, dict[str, Any]]:
    """(folder, ``model_index.json`` contents) of a local folder or a hub id; only the index
    is fetched from the hub.

    Raises:
        MissingWeightsError: no folder, no index, or the index is neither cached nor reachable.
    """
    if is_folder(model):
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise MissingWeightsError(f"video generator folder {folder} does not exist; {_FIX}")
    else:
        folder = snapshot(model, ["model_index.json"])
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        raise MissingWeightsError(f"video generator folder {folder} has no model_index.json (the diffusers pipeline "
                                  f"layout); {_FIX}")
    return folder, json.loads(index_path.read_text())


def _device_and_dtype(family: Family, device: str | None, dtype: str | None) -> tuple[torch.device, torch.dtype]:
    dev = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        # Zeroscope was trained and released in float16; the transformer families in bfloat16.
        if dev.type != "cuda":
            return dev, torch.float32
        return dev, torch.float16 if family.name == "zeroscope" else torch.bfloat16
    if dtype not in _DTYPES:
        raise OptionError(f"dtype must be one of {', '.join(_DTYPES)}; got {dtype!r}")
    if dev.type == "cpu" and dtype == "float16":
        raise OptionError("float16 is not supported on the CPU; use float32 (the default there) or bfloat16")
    return dev, _DTYPES[dtype]


def resolve_generator(model: str | None, image: bool) -> tuple[str, Path, Family, str, list[str]]:
    """Check a model against the task before loading weights.

    Returns:
        (model, folder, family, pipeline class to load, component subfolders).

    Raises:
        OptionError: an image-to-video model without an image, or a text-to-video model
            with one (unless its weights also run the family's image-to-video pipeline).
        MissingWeightsError: as :func:`read_index`.
    """
    model = str(model) if model else default_model(image)
    folder, index = read_index(model)
    class_name = index.get("_class_name", "?")
    family, is_i2v = family_of_class(class_name, where=f"model {model}")
    if is_i2v and not image:
        raise OptionError(f"model {model} is an image-to-video model ({class_name}); give --image IMG, or choose a "
                          f"text-to-video model such as {family.default_model}")
    load_class = class_name
    if image and not is_i2v:
        if family.shared_i2v_weights:
            load_class = family.image_to_video  # type: ignore[assignment]
        elif family.image_to_video is None:
            raise OptionError(f"model {model} ({class_name}) generates from text only; drop --image, or choose an "
                              f"image-to-video model such as {default_model(True)}")
        else:
            raise OptionError(f"model {model} is a text-to-video model ({class_name}); for --image choose an "
                              f"image-to-video model such as {family.default_i2v_model}")
    if load_class == "WanImageToVideoPipeline":
        from diffusers.utils import is_ftfy_available

        if not is_ftfy_available():  # diffusers' Wan I2V pipeline cleans prompts with ftfy unconditionally
            raise OptionError("Wan image-to-video needs the ftfy package; install it (pip install ftfy) or choose "
                              f"another image-to-video model such as {default_model(True)}")
    return model, folder, family, load_class, _components(index)


def load_pipeline(model: str | None, image: bool, config: GenerateConfig = GenerateConfig()) -> tuple[Any, dict[str, Any]]:
    """Load the diffusers pipeline of ``model`` for text- (``image`` False) or image-to-video.

    Returns:
        (pipeline on its device with progress bars off, description: model, family,
        pipeline, folder, device, dtype).

    Raises:
        OptionError: see :func:`resolve_generator`; a bad dtype.
        MissingWeightsError: a component folder or weight file is missing, or the weights
            are neither cached nor reachable.
    """
    import diffusers

    model, folder, family, load_class, components = resolve_generator(model, image)
    if not is_folder(model):
        folder = snapshot(model, ["model_index.json", *(f"{name}/*" for name in components)])
    missing = [name for name in components if not (folder / name).is_dir()]
    if missing:
        raise MissingWeightsError(f"video generator folder {folder} lacks {', '.join(missing)} (its model_index.json "
                                  f"lists {', '.join(components)}); {_FIX}")
    device, dtype = _device_and_dtype(family, config.device, config.dtype)
    try:
        with warnings.catch_warnings():  # diffusers 0.42 renames torch_dtype; older releases take only that name
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            warnings.filterwarnings("ignore", message=".*has been deprecated.*")
            pipe = getattr(diffusers, load_class).from_pretrained(folder, torch_dtype=dtype, local_files_only=True)
    except (OSError, EnvironmentError) as error:
        raise MissingWeightsError(f"video generator {model} could not be loaded from {folder} "
                                  f"({str(error).splitlines()[0][:160]}); {_FIX}") from error
    if config.cpu_offload and device.type == "cuda":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    if config.vae_tiling and hasattr(pipe.vae, "enable_tiling"):
        pipe.vae.enable_tiling()
    pipe.set_progress_bar_config(disable=True)
    about = {"model": model, "family": family.name, "pipeline": load_class, "folder": str(folder),
             "device": str(device), "dtype": str(dtype).removeprefix("torch.")}
    return pipe, about
