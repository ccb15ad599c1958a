"""Learned depth models through ``transformers``: Depth Anything V2, DPT and ZoeDepth.

Every family loads with ``AutoModelForDepthEstimation``; the registry names below only pick a
hub id, and ``--depth-model`` takes a local folder (``save_pretrained``) or hub id of any of
them. What the output means is read from the loaded config, not from the name: relative
inverse depth (Depth Anything V2, DPT/MiDaS; larger = nearer) goes through unchanged, and
metric depth in metres (ZoeDepth, the Depth-Anything-V2-Metric checkpoints) is inverted, so
every estimator returns inverse depth.

Weights come from the Hugging Face cache, a download (only when the network answers), or
a local folder. Nothing here waits on the network: with ``HF_HUB_OFFLINE=1``, when the
weights are already cached, or for a local folder, only local files are read, and otherwise
a 2-second reachability check decides whether a download is tried at all. Missing weights
raise :class:`~s2vg.errors.MissingWeightsError` with a one-line message and the fixes.

Pre-processing follows the model's own image processor settings (the DPT rule: resize
keeping the aspect ratio to about ``size`` with sides that are multiples of
``ensure_multiple_of``, its resampling filter and normalisation; ZoeDepth first pads by
reflection), done in torch on the model's device so that whole batches move at once
(transformers' own processors run per image on the CPU without torchvision); the output
is resized back to the frame size and ZoeDepth's padding cropped, as each family's
``post_process_depth_estimation`` does.

Licences (:data:`LICENCES`): Depth Anything V2 Small, DPT and ZoeDepth are free for any
use (Apache-2.0, Apache-2.0, MIT); Depth Anything V2 Base and Large are CC-BY-NC-4.0
(non-commercial).
"""

from __future__ import annotations

import math
import os
import re
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from s2vg.depth._checks import check_frames
from s2vg.errors import MissingWeightsError, OptionError
from s2vg.progress import SILENT, Progress

if TYPE_CHECKING:
    import torch

#: Hugging Face model ids of the Depth Anything V2 registry variants.
HUB_IDS: dict[str, str] = {
    "small": "depth-anything/Depth-Anything-V2-Small-hf",
    "base": "depth-anything/Depth-Anything-V2-Base-hf",
    "large": "depth-anything/Depth-Anything-V2-Large-hf",
}
#: Registry name -> Hugging Face model id of every learned estimator.
MODEL_IDS: dict[str, str] = {
    **{f"depth-anything-v2-{variant}": model_id for variant, model_id in HUB_IDS.items()},
    "dpt-large": "Intel/dpt-large",
    "dpt-hybrid": "Intel/dpt-hybrid-midas",
    "zoedepth-nyu-kitti": "Intel/zoedepth-nyu-kitti",
    "zoedepth-nyu": "Intel/zoedepth-nyu",
    "zoedepth-kitti": "Intel/zoedepth-kitti",
}
#: Registry name -> licence of the weights (from each model card), shown in ``--depth`` help.
LICENCES: dict[str, str] = {
    "depth-anything-v2-small": "Apache-2.0",
    "depth-anything-v2-base": "CC-BY-NC-4.0",
    "depth-anything-v2-large": "CC-BY-NC-4.0",
    "dpt-large": "Apache-2.0",
    "dpt-hybrid": "Apache-2.0",
    "zoedepth-nyu-kitti": "MIT",
    "zoedepth-nyu": "MIT",
    "zoedepth-kitti": "MIT",
}
_CONFIG_FILES = ("config.json", "preprocessor_config.json")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")  # either one
_HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_FIX = "run once with network access to cache them, pass --depth-model LOCAL_FOLDER, or use --depth heuristic"
# PIL resampling codes of the image processors -> torch interpolation modes.
_RESAMPLE = {0: "nearest", 2: "bilinear", 3: "bicubic"}


def _variant_id(name_or_variant: str) -> str:
    """Hub id of a registry name (``dpt-large``) or of a Depth Anything V2 variant (``small``)."""
    if name_or_variant in MODEL_IDS:
        return MODEL_IDS[name_or_variant]
    variant = name_or_variant.removeprefix("depth-anything-v2-")
    if variant not in HUB_IDS:
        raise OptionError(f"unknown depth model {name_or_variant!r}; choose one of {', '.join(MODEL_IDS)}")
    return HUB_IDS[variant]


def _offline_env() -> bool:
    """True when the user asked Hugging Face libraries to stay offline (read now, not at import)."""
    return any(os.environ.get(var, "").strip().upper() in {"1", "ON", "YES", "TRUE"} for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def models_installed() -> bool:
    """Whether the optional model libraries (``pip install "s2vg[models]"``) are importable."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("transformers", "huggingface_hub"))


def weights_cached(name_or_id: str, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether a depth model's config, processor config and weights are in the Hugging Face cache (no network).

    Args:
        name_or_id: a registry name (``dpt-large``), a Depth Anything V2 variant (``small``) or a hub id.
        cache_dir: the hub cache to look in; defaults to the library's (``HF_HOME``/``HF_HUB_CACHE``).
    """
    if not models_installed():
        return False
    from huggingface_hub import try_to_load_from_cache

    model_id = name_or_id if "/" in name_or_id else _variant_id(name_or_id)
    def cached(file: str) -> bool:
        return isinstance(try_to_load_from_cache(model_id, file, cache_dir=cache_dir), str)

    return all(cached(f) for f in _CONFIG_FILES) and any(cached(f) for f in _WEIGHT_FILES)


def hub_reachable(timeout_s: float = 2.0) -> bool:
    """Whether the Hugging Face endpoint accepts a TCP connection within ``timeout_s`` seconds.

    Name resolution has no timeout of its own, so the check runs in a daemon thread that
    is abandoned when the time is up.
    """
    from huggingface_hub import constants

    url = urlparse(os.environ.get("HF_ENDPOINT") or constants.ENDPOINT)
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme != "http" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout_s + 0.5)
    return bool(result and result[0])


def default_dtype(device_type: str, dtype: str | None = None) -> str:
    """The model dtype name: ``dtype`` when given, else float16 on CUDA and float32 elsewhere (CPU half is slow and inexact)."""
    name = dtype or ("float16" if device_type == "cuda" else "float32")
    if name not in ("float16", "bfloat16", "float32"):
        raise OptionError(f"depth model dtype must be float16, bfloat16 or float32; got {name!r}")
    return name


def dpt_resize_shape(height: int, width: int, size: tuple[int, int], keep_aspect_ratio: bool, multiple: float) -> tuple[int, int]:
    """The (height, width) the DPT image processor resizes a frame to (transformers' ``get_resize_output_image_size``)."""

    def constrain(value: float) -> int:
        out = round(value / multiple) * multiple
        return int(out if out >= multiple else math.ceil(value / multiple) * multiple)

    scale_h, scale_w = size[0] / height, size[1] / width
    if keep_aspect_ratio:
        # scale as little as possible
        if abs(1 - scale_w) < abs(1 - scale_h):
            scale_h = scale_w
        else:
            scale_w = scale_h
    return constrain(scale_h * height), constrain(scale_w * width)


def zoedepth_padding(height: int, width: int) -> tuple[int, int]:
    """The reflection padding (rows, columns) ZoeDepth's processor adds on each side (``int(sqrt(side / 2) * 3)``)."""
    return int(math.sqrt(height / 2) * 3), int(math.sqrt(width / 2) * 3)


class TransformersDepthEstimator:
    """A transformers depth model (``AutoModelForDepthEstimation``), batched, on CUDA when available.

    The model is loaded when the estimator is built, so missing weights fail before any
    video is decoded.

    Args:
        model: a registry name (:data:`MODEL_IDS`, e.g. ``"dpt-large"``) or a Depth Anything V2
            variant (``"small"``, ``"base"``, ``"large"``); defaults to ``"depth-anything-v2-small"``.
        model_path: a local folder holding ``config.json``, ``preprocessor_config.json``
            and the weights (from ``save_pretrained``), or a hub model id, of any family
            above; overrides ``model``; defaults to None.
        device: torch device; defaults to ``"cuda"`` when available, else ``"cpu"``.
        dtype: ``"float16"``, ``"bfloat16"`` or ``"float32"``; defaults to float16 on CUDA
            and float32 elsewhere.
        batch_size: frames per model call; defaults to 8 on CUDA and 2 on the CPU.
        cache_dir: Hugging Face hub cache; defaults to the library's.

    Attributes:
        metric: True when the model predicts metres (ZoeDepth, metric Depth Anything), which are inverted.
        pad: reflection padding ``(rows, columns)`` rule on (ZoeDepth) or off.

    Raises:
        MissingWeightsError: the weights are neither cached, nor in the folder, nor downloadable.
    """

    temporally_consistent = False

    def __init__(
        self,
        model: str = "depth-anything-v2-small",
        model_path: str | os.PathLike | None = None,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
        cache_dir: str | os.PathLike | None = None,
        variant: str | None = None,
    ) -> None:
        model = variant or model  # ``variant`` is the older keyword of the Depth Anything estimator
        if not models_installed():
            raise MissingWeightsError('learned depth models need the transformers package, which is not installed; run pip install "s2vg[models]", or use --depth heuristic')
        import torch

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.dtype = getattr(torch, default_dtype(self.device.type, dtype))
        self.batch_size = int(batch_size or (8 if self.device.type == "cuda" else 2))
        if self.batch_size < 1:
            raise OptionError(f"depth batch size must be >= 1; got {self.batch_size}")
        source, local_only = self._locate(model, model_path, cache_dir)
        self._model, self._prep = self._load(source, local_only, cache_dir)
        if model_path is not None:
            self.name = f"{self.model_type.replace('_', '-')} ({model_path})"
        else:
            self.name = model if model in MODEL_IDS else f"depth-anything-v2-{model}"

    @staticmethod
    def _locate(model: str, model_path: str | os.PathLike | None, cache_dir: str | os.PathLike | None) -> tuple[str, bool]:
        """Where to load from and whether only local files may be read; raises when nothing can work."""
        if model_path is not None:
            path = Path(model_path).expanduser()
            if path.is_dir():
                if not (path / "config.json").is_file():
                    raise MissingWeightsError(f"depth model folder {str(path)!r} has no config.json; give a folder written by save_pretrained, or use --depth heuristic")
                return str(path), True
            if not _HUB_ID_PATTERN.match(str(model_path)) or str(model_path).startswith("."):
                raise MissingWeightsError(f"depth model folder {str(model_path)!r} does not exist; give a folder written by save_pretrained, or use --depth heuristic")
            model_id = str(model_path)
        else:
            model_id = _variant_id(model)
        if weights_cached(model_id, cache_dir):
            return model_id, True
        if _offline_env():
            raise MissingWeightsError(f"depth model {model_id!r}: weights are not cached and cannot be downloaded (HF_HUB_OFFLINE is set); fetch them with `hf download {model_id}`, or {_FIX}")
        if not hub_reachable():
            raise MissingWeightsError(f"depth model {model_id!r}: weights are not cached and cannot be downloaded (the Hugging Face hub is unreachable); fetch them elsewhere with `hf download {model_id}`, or {_FIX}")
        return model_id, False

    def _load(self, source: str, local_only: bool, cache_dir: str | os.PathLike | None) -> tuple[Any, Any]:
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        try:
            # The PIL processor carries the same settings and needs no torchvision; only its settings are used.
            prep = AutoImageProcessor.from_pretrained(source, local_files_only=local_only, cache_dir=cache_dir, backend="pil")
            model = AutoModelForDepthEstimation.from_pretrained(source, local_files_only=local_only, cache_dir=cache_dir, dtype=self.dtype)
        except (OSError, ValueError) as error:
            where = f"found in the folder {source!r}" if Path(source).is_dir() else f"cached for {source!r} and could not be downloaded"
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise MissingWeightsError(f"depth model weights are not {where} ({reason}); {_FIX}") from error
        self.model_type = str(model.config.model_type)
        # ZoeDepth and the Depth-Anything-V2-Metric-* checkpoints predict metres, not inverse depth: invert them below.
        self.metric = self.model_type == "zoedepth" or getattr(model.config, "depth_estimation_type", "relative") == "metric"
        # ZoeDepth's do_pad is its reflection padding against border artefacts (DPT's do_pad is unrelated and off in its checkpoints).
        self.pad = self.model_type == "zoedepth" and bool(getattr(prep, "do_pad", False))
        return model.to(self.device).eval(), prep

    def _setting(self, name: str, default: Any) -> Any:
        value = getattr(self._prep, name, None)
        return default if value is None else value

    def _resize_shape(self, height: int, width: int) -> tuple[int, int]:
        if not self._setting("do_resize", True):
            return height, width
        size = self._setting("size", None)
        get = (lambda key: size.get(key)) if isinstance(size, dict) else (lambda key: getattr(size, key, None))
        if get("height") and get("width"):
            target = (int(get("height")), int(get("width")))
        elif get("shortest_edge"):
            target = (int(get("shortest_edge")),) * 2
        else:
            target = (518, 518)
        multiple = float(self._setting("ensure_multiple_of", 1) or 1)
        shape = dpt_resize_shape(height, width, target, bool(self._setting("keep_aspect_ratio", False)), multiple)
        return int(shape[0]), int(shape[1])

    def _padding(self, height: int, width: int) -> tuple[int, int]:
        if not self.pad:
            return 0, 0
        pad_h, pad_w = zoedepth_padding(height, width)
        return min(pad_h, height - 1), min(pad_w, width - 1)  # reflection needs a pad smaller than the side

    def preprocess(self, frames: np.ndarray) -> "torch.Tensor":
        """Frames ``(B, H, W, 3)`` float32 in [0, 1] -> ``pixel_values`` ``(B, 3, h, w)`` on the model's device and dtype."""
        import torch
        import torch.nn.functional as F

        batch = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float()
        pad_h, pad_w = self._padding(*frames.shape[1:3])
        if pad_h or pad_w:
            batch = F.pad(batch, (pad_w, pad_w, pad_h, pad_h), mode="reflect")
        h, w = self._resize_shape(*batch.shape[2:4])
        if (h, w) != tuple(batch.shape[2:4]):
            mode = _RESAMPLE.get(int(self._setting("resample", 3)), "bicubic")
            # PIL resizes with antialiasing; torch's interpolation with antialias=True is its counterpart.
            batch = F.interpolate(batch, size=(h, w), mode=mode, **({} if mode == "nearest" else {"align_corners": False, "antialias": True}))
        if self._setting("do_normalize", True):
            mean = torch.tensor(self._setting("image_mean", (0.5, 0.5, 0.5)), device=self.device).view(1, 3, 1, 1)
            std = torch.tensor(self._setting("image_std", (0.5, 0.5, 0.5)), device=self.device).view(1, 3, 1, 1)
            batch = (batch - mean) / std
        return batch.to(self.dtype)

    def __call__(self, frames: np.ndarray, progress: Progress = SILENT) -> np.ndarray:
        """Relative inverse depth of every frame.

        Args:
            frames: ``(T, H, W, 3)`` float32 RGB in [0, 1].
            progress: progress sink; stage ``"depth"``, one update per frame.

        Returns:
            ``inv_depth`` ``(T, H, W)`` float32, larger = nearer, >= 0, arbitrary scale
            (1/m for metric models).
        """
        import torch
        import torch.nn.functional as F

        frames = check_frames(frames)
        num, height, width = frames.shape[:3]
        pad_h, pad_w = self._padding(height, width)
        out = np.empty((num, height, width), np.float32)
        with progress.stage("depth", total=num, unit="frame") as bar, torch.inference_mode():
            for start in range(0, num, self.batch_size):
                chunk = frames[start : start + self.batch_size]
                predicted = self._model(pixel_values=self.preprocess(chunk)).predicted_depth
                # Back to the padded frame size, then the padding cut off (ZoeDepth's post-processing).
                resized = F.interpolate(predicted.float().unsqueeze(1), size=(height + 2 * pad_h, width + 2 * pad_w), mode="bicubic", align_corners=False)
                resized = resized[:, 0, pad_h : pad_h + height, pad_w : pad_w + width]
                if self.metric:
                    resized = 1.0 / resized.clamp_min(1e-3)  # metres -> inverse depth (1/m), larger = nearer
                # Bicubic overshoots a little at edges; inverse depth is never negative.
                out[start : start + len(chunk)] = resized.clamp_min(0).cpu().numpy()
                bar.update(len(chunk))
        return out


#: The name this estimator had when it served Depth Anything only.
DepthAnythingEstimator = TransformersDepthEstimator
