"""Depth Anything V2 through ``transformers``: relative inverse depth from a learned model.

Weights come from the Hugging Face cache, a download (only when the network answers), or
a local folder saved with ``save_pretrained`` (CLI ``--depth-model PATH``). Nothing here
waits on the network: with ``HF_HUB_OFFLINE=1``, or when the weights are already cached,
only local files are read, and otherwise a 2-second reachability check decides whether a
download is tried at all. Missing weights raise :class:`~s2vg.errors.MissingWeightsError`
with a one-line message and the fixes.

Pre-processing follows the model's own ``preprocessor_config.json`` (the DPT rule: resize
keeping the aspect ratio to about ``size`` with sides that are multiples of
``ensure_multiple_of``, bicubic, ImageNet normalisation), done in torch on the model's
device so that whole batches move at once; the output is resized back to the frame size
with bicubic interpolation, as ``post_process_depth_estimation`` does.

Licences: the Small model is Apache-2.0; Base and Large are CC-BY-NC-4.0 (non-commercial).
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

#: Hugging Face model ids of the registry's variants.
HUB_IDS: dict[str, str] = {
    "small": "depth-anything/Depth-Anything-V2-Small-hf",
    "base": "depth-anything/Depth-Anything-V2-Base-hf",
    "large": "depth-anything/Depth-Anything-V2-Large-hf",
}
_WEIGHT_FILES = ("config.json", "preprocessor_config.json", "model.safetensors")
_HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_FIX = "run once with network access to cache them, pass --depth-model LOCAL_FOLDER, or use --depth heuristic"


def _variant_id(name_or_variant: str) -> str:
    variant = name_or_variant.removeprefix("depth-anything-v2-")
    if variant not in HUB_IDS:
        raise OptionError(f"unknown Depth Anything V2 variant {name_or_variant!r}; choose one of {', '.join(HUB_IDS)}")
    return HUB_IDS[variant]


def _offline_env() -> bool:
    """True when the user asked Hugging Face libraries to stay offline (read now, not at import)."""
    return any(os.environ.get(var, "").strip().upper() in {"1", "ON", "YES", "TRUE"} for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def models_installed() -> bool:
    """Whether the optional model libraries (``pip install "s2vg[models]"``) are importable."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("transformers", "huggingface_hub"))


def weights_cached(name_or_id: str, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether a Depth Anything model's files are all in the Hugging Face cache (no network).

    Args:
        name_or_id: a registry name (``depth-anything-v2-small``), a variant (``small``) or a hub id.
        cache_dir: the hub cache to look in; defaults to the library's (``HF_HOME``/``HF_HUB_CACHE``).
    """
    if not models_installed():
        return False
    from huggingface_hub import try_to_load_from_cache

    model_id = name_or_id if "/" in name_or_id else _variant_id(name_or_id)
    return all(isinstance(try_to_load_from_cache(model_id, f, cache_dir=cache_dir), str) for f in _WEIGHT_FILES)


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


def dpt_resize_shape(height: int, width: int, size: tuple[int, int], keep_aspect_ratio: bool, multiple: int) -> tuple[int, int]:
    """The (height, width) the DPT image processor resizes a frame to (transformers' ``get_resize_output_image_size``)."""

    def constrain(value: float) -> int:
        out = round(value / multiple) * multiple
        return out if out >= multiple else math.ceil(value / multiple) * multiple

    scale_h, scale_w = size[0] / height, size[1] / width
    if keep_aspect_ratio:
        # scale as little as possible
        if abs(1 - scale_w) < abs(1 - scale_h):
            scale_h = scale_w
        else:
            scale_w = scale_h
    return constrain(scale_h * height), constrain(scale_w * width)


class DepthAnythingEstimator:
    """Depth Anything V2 (``AutoModelForDepthEstimation``), batched, on CUDA when available.

    The model is loaded when the estimator is built, so missing weights fail before any
    video is decoded.

    Args:
        variant: ``"small"``, ``"base"`` or ``"large"``; defaults to ``"small"``.
        model_path: a local folder holding ``config.json``, ``preprocessor_config.json``
            and the weights (from ``save_pretrained``), or a hub model id; overrides
            ``variant``; defaults to None.
        device: torch device; defaults to ``"cuda"`` when available, else ``"cpu"``.
        dtype: ``"float16"``, ``"bfloat16"`` or ``"float32"``; defaults to float16 on CUDA
            and float32 elsewhere.
        batch_size: frames per model call; defaults to 8 on CUDA and 2 on the CPU.
        cache_dir: Hugging Face hub cache; defaults to the library's.

    Raises:
        MissingWeightsError: the weights are neither cached, nor in the folder, nor downloadable.
    """

    temporally_consistent = False

    def __init__(
        self,
        variant: str = "small",
        model_path: str | os.PathLike | None = None,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        if not models_installed():
            raise MissingWeightsError('Depth Anything needs the transformers package, which is not installed; run pip install "s2vg[models]", or use --depth heuristic')
        import torch

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.dtype = getattr(torch, default_dtype(self.device.type, dtype))
        self.batch_size = int(batch_size or (8 if self.device.type == "cuda" else 2))
        if self.batch_size < 1:
            raise OptionError(f"depth batch size must be >= 1; got {self.batch_size}")
        source, local_only = self._locate(variant, model_path, cache_dir)
        self.name = f"depth-anything-v2-{variant}" if model_path is None else f"depth-anything ({model_path})"
        self._model, self._prep = self._load(source, local_only, cache_dir)

    @staticmethod
    def _locate(variant: str, model_path: str | os.PathLike | None, cache_dir: str | os.PathLike | None) -> tuple[str, bool]:
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
            model_id = _variant_id(variant)
        if weights_cached(model_id, cache_dir):
            return model_id, True
        if _offline_env():
            raise MissingWeightsError(f"depth model {model_id!r}: weights are not cached and cannot be downloaded (HF_HUB_OFFLINE is set); fetch them with `hf download {model_id}`, or {_FIX}")
        if not hub_reachable():
            raise MissingWeightsError(f"depth model {model_id!r}: weights are not cached and cannot be downloaded (the Hugging Face hub is unreachable); fetch them elsewhere with `hf download {model_id}`, or {_FIX}")
        return model_id, False

    def _load(self, source: str, local_only: bool, cache_dir: str | os.PathLike | None) -> tuple[Any, dict[str, Any]]:
        from transformers import AutoModelForDepthEstimation
        from transformers.image_processing_utils import ImageProcessingMixin

        try:
            prep, _ = ImageProcessingMixin.get_image_processor_dict(source, local_files_only=local_only, cache_dir=cache_dir)
            model = AutoModelForDepthEstimation.from_pretrained(source, local_files_only=local_only, cache_dir=cache_dir, dtype=self.dtype)
        except (OSError, ValueError) as error:
            where = "found in the folder" if Path(source).is_dir() else "cached and could not be downloaded"
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise MissingWeightsError(f"depth model {source!r}: weights are not {where} ({reason}); {_FIX}") from error
        # Metric checkpoints (Depth-Anything-V2-Metric-*) predict metres, not inverse depth: invert them below.
        self.metric = getattr(model.config, "depth_estimation_type", "relative") == "metric"
        return model.to(self.device).eval(), prep

    def _resize_shape(self, height: int, width: int) -> tuple[int, int]:
        size = self._prep.get("size", {"height": 518, "width": 518})
        target = (size["height"], size["width"]) if "height" in size else (size["shortest_edge"],) * 2
        if not self._prep.get("do_resize", True):
            target = (height, width)
        return dpt_resize_shape(height, width, target, bool(self._prep.get("keep_aspect_ratio", False)), int(self._prep.get("ensure_multiple_of", 1) or 1))

    def preprocess(self, frames: np.ndarray) -> "torch.Tensor":
        """Frames ``(B, H, W, 3)`` float32 in [0, 1] -> ``pixel_values`` ``(B, 3, h, w)`` on the model's device and dtype."""
        import torch
        import torch.nn.functional as F

        batch = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device).permute(0, 3, 1, 2).float()
        h, w = self._resize_shape(*frames.shape[1:3])
        # PIL resizes with antialiasing; torch's bicubic with antialias=True is its counterpart.
        batch = F.interpolate(batch, size=(h, w), mode="bicubic", align_corners=False, antialias=True)
        if self._prep.get("do_normalize", True):
            mean = torch.tensor(self._prep.get("image_mean", (0.485, 0.456, 0.406)), device=self.device).view(1, 3, 1, 1)
            std = torch.tensor(self._prep.get("image_std", (0.229, 0.224, 0.225)), device=self.device).view(1, 3, 1, 1)
            batch = (batch - mean) / std
        return batch.to(self.dtype)

    def __call__(self, frames: np.ndarray, progress: Progress = SILENT) -> np.ndarray:
        """Relative inverse depth of every frame.

        Args:
            frames: ``(T, H, W, 3)`` float32 RGB in [0, 1].
            progress: progress sink; stage ``"depth"``, one update per frame.

        Returns:
            ``inv_depth`` ``(T, H, W)`` float32, larger = nearer, >= 0, arbitrary scale.
        """
        import torch
        import torch.nn.functional as F

        frames = check_frames(frames)
        num, height, width = frames.shape[:3]
        out = np.empty((num, height, width), np.float32)
        with progress.stage("depth", total=num, unit="frame") as bar, torch.inference_mode():
            for start in range(0, num, self.batch_size):
                chunk = frames[start : start + self.batch_size]
                predicted = self._model(pixel_values=self.preprocess(chunk)).predicted_depth
                resized = F.interpolate(predicted.float().unsqueeze(1), size=(height, width), mode="bicubic", align_corners=False)
                resized = resized.squeeze(1)
                if self.metric:
                    resized = 1.0 / resized.clamp_min_(1e-3)  # metres -> inverse depth (1/m), larger = nearer
                # Bicubic overshoots a little at edges; inverse depth is never negative.
                out[start : start + len(chunk)] = resized.clamp_min_(0).cpu().numpy()
                bar.update(len(chunk))
        return out
