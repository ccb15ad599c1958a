"""Learned metrics: CLIP similarity and Fréchet video distance, for machines that have the weights.

Nothing here is imported by ``import s2vg`` or ``import s2vg.metrics``; ``transformers``
loads on first use. Every model loads by hub id (from the local cache, or the hub when it
is reachable) or from a local folder in the ``save_pretrained`` layout; when neither has
it, :class:`~s2vg.errors.MissingWeightsError` says what was looked for and what to do.

- :class:`ClipSimilarity`: cosine similarity of CLIP embeddings, image-image (a result
  against its truth, or the two eyes of a pair) and image-text (a result against its prompt).
- :func:`frechet_distance` of two Gaussians, :func:`gaussian_fit` of feature sets, and
  :func:`frechet_video_distance` with a pluggable :class:`VideoFeatureExtractor`
  (:class:`TransformersVideoFeatures` wraps any ``transformers`` video encoder such as
  VideoMAE; the I3D network of the original FVD is not in ``transformers``, so scores are
  comparable only between runs that use the same extractor).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np
import torch

from s2vg.errors import InputError, MissingWeightsError
from s2vg.metrics.metrics import as_numpy

#: CLIP checkpoint used when none is named.
DEFAULT_CLIP_MODEL = "openai/clip-vit-base-patch32"
#: Video encoder used for the Fréchet video distance when none is named.
DEFAULT_VIDEO_MODEL = "MCG-NJU/videomae-base"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _load_pretrained(loader: Any, name: str, what: str, flag: str, **kwargs: Any) -> Any:
    """``loader.from_pretrained(name)`` from a folder or the cache, else the hub when reachable."""
    if Path(name).exists():
        try:
            return loader.from_pretrained(name, **kwargs)
        except (OSError, ValueError) as exc:
            raise MissingWeightsError(f"{what} folder {name!r} cannot be loaded ({exc}); give a folder written by save_pretrained") from None
    try:
        return loader.from_pretrained(name, local_files_only=True, **kwargs)
    except (OSError, ValueError):
        pass
    from s2vg.depth.depth_anything import hub_reachable

    if hub_reachable():
        try:
            return loader.from_pretrained(name, **kwargs)
        except (OSError, ValueError) as exc:
            raise MissingWeightsError(f"{what} {name!r} could not be downloaded ({exc}); pass a local folder with {flag} PATH") from None
    raise MissingWeightsError(
        f"{what} {name!r} is neither a local folder nor in the Hugging Face cache, and the hub is unreachable; "
        f"download it where the network is available and pass the folder with {flag} PATH"
    )


def _to_uint8_frames(frames: Any) -> np.ndarray:
    """``(N, H, W, 3)`` float in [0, 1] (or uint8) -> uint8."""
    x = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise InputError(f"images must be (N, H, W, 3); got shape {x.shape}")
    if x.dtype == np.uint8:
        return x
    return np.clip(x.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _features(output: Any) -> torch.Tensor:
    """Projected features from ``get_*_features`` (a tensor, or an output whose pooler holds them)."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class ClipSimilarity:
    """Cosine similarity of CLIP embeddings (``transformers`` ``CLIPModel`` + ``CLIPProcessor``).

    Args:
        model: hub id or local folder; defaults to ``openai/clip-vit-base-patch32``.
        device: torch device; defaults to CUDA when available, else the CPU.
        batch_size: images per model call; defaults to 16.
        clip_model, processor: already built components (then ``model`` is not loaded).

    Raises:
        MissingWeightsError: the model is neither a folder, cached, nor downloadable.
    """

    def __init__(
        self,
        model: str = DEFAULT_CLIP_MODEL,
        *,
        device: str | None = None,
        batch_size: int = 16,
        clip_model: Any | None = None,
        processor: Any | None = None,
    ) -> None:
        from transformers import CLIPModel, CLIPProcessor

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = int(batch_size)
        self.name = model if clip_model is None else type(clip_model).__name__
        self.processor = processor if processor is not None else _load_pretrained(CLIPProcessor, model, "CLIP model", "--clip-model")
        loaded = clip_model if clip_model is not None else _load_pretrained(CLIPModel, model, "CLIP model", "--clip-model")
        self.model = loaded.to(self.device).eval()

    @torch.no_grad()
    def image_features(self, images: Any) -> torch.Tensor:
        """L2-normalised embeddings ``(N, D)`` float32 of images ``(N, H, W, 3)`` in [0, 1]."""
        frames = _to_uint8_frames(images)
        out = []
        for start in range(0, len(frames), self.batch_size):
            batch = self.processor(images=list(frames[start : start + self.batch_size]), return_tensors="pt")
            pixels = batch["pixel_values"].to(self.device, self.model.dtype)
            out.append(_features(self.model.get_image_features(pixel_values=pixels)).float())
        feats = torch.cat(out)
        return feats / feats.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    @torch.no_grad()
    def text_features(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised embeddings ``(M, D)`` float32 of texts."""
        batch = self.processor(text=list(texts), return_tensors="pt", padding=True, truncation=True)
        feats = _features(
            self.model.get_text_features(input_ids=batch["input_ids"].to(self.device), attention_mask=batch["attention_mask"].to(self.device))
        ).float()
        return feats / feats.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def image_image(self, images_a: Any, images_b: Any) -> float:
        """Mean cosine similarity of corresponding images (``(N, H, W, 3)`` each), in [-1, 1]."""
        a, b = _to_uint8_frames(images_a), _to_uint8_frames(images_b)
        if len(a) != len(b):
            raise InputError(f"image-image similarity needs the same number of images; got {len(a)} and {len(b)}")
        return float((self.image_features(a) * self.image_features(b)).sum(dim=-1).mean())

    def image_text(self, images: Any, text: str) -> float:
        """Mean cosine similarity of the images with one text, in [-1, 1] (CLIPScore = 100 * max(this, 0))."""
        return float((self.image_features(images) @ self.text_features([text])[0]).mean())


# ---------------------------------------------------------------- Fréchet distance


def gaussian_fit(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` (float64) of features ``(N, D)``, N >= 2."""
    x = as_numpy(features, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise InputError(f"features must be (N, D) with N >= 2 samples; got shape {x.shape}")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (negative rounding clipped)."""
    sym = 0.5 * (matrix + matrix.T)
    values, vectors = np.linalg.eigh(sym)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet (2-Wasserstein squared) distance of two Gaussians.

    ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``; the inner root is taken of
    a symmetric matrix by eigendecomposition, which is exact for PSD covariances and
    avoids the complex parts that a general ``sqrtm`` of ``S1 S2`` produces.

    Args:
        mu1, mu2: ``(D,)`` means; sigma1, sigma2: ``(D, D)`` covariances.

    Returns:
        distance >= 0 (0 for identical Gaussians).
    """
    m1, m2 = np.atleast_1d(as_numpy(mu1, np.float64)), np.atleast_1d(as_numpy(mu2, np.float64))
    s1, s2 = np.atleast_2d(as_numpy(sigma1, np.float64)), np.atleast_2d(as_numpy(sigma2, np.float64))
    d = m1.shape[0]
    if m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise InputError(f"Gaussians must have means (D,) and covariances (D, D); got {m1.shape}, {s1.shape}, {m2.shape}, {s2.shape}")
    root1 = _sqrt_psd(s1)
    cross = np.linalg.eigvalsh(0.5 * ((root1 @ s2 @ root1) + (root1 @ s2 @ root1).T))
    trace_cross = float(np.sum(np.sqrt(np.clip(cross, 0.0, None))))
    value = float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * trace_cross)
    return max(value, 0.0)


class VideoFeatureExtractor(Protocol):
    """Maps videos ``(N, T, H, W, 3)`` float32 in [0, 1] to features ``(N, D)``."""

    def __call__(self, videos: np.ndarray) -> np.ndarray: ...


class TransformersVideoFeatures:
    """Features of a ``transformers`` video encoder (VideoMAE and others taking ``(B, T, 3, H, W)``).

    Each video is sampled to the model's ``num_frames`` (evenly spaced indices), resized
    to its ``image_size`` square, normalised with the folder's image mean/std (ImageNet's
    when absent), and its last hidden state is averaged over tokens.

    Args:
        model: hub id or local folder; defaults to ``MCG-NJU/videomae-base``.
        device: torch device; defaults to CUDA when available.
        batch_size: videos per call; defaults to 4.
        video_model: an already built model (then ``model`` is not loaded).
    """

    def __init__(self, model: str = DEFAULT_VIDEO_MODEL, *, device: str | None = None, batch_size: int = 4, video_model: Any | None = None) -> None:
        from transformers import AutoModel

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = int(batch_size)
        loaded = video_model if video_model is not None else _load_pretrained(AutoModel, model, "video model", "--video-model")
        self.model = loaded.to(self.device).eval()
        cfg = self.model.config
        self.num_frames = int(getattr(cfg, "num_frames", 16))
        size = getattr(cfg, "image_size", 224)
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        mean, std = _IMAGENET_MEAN, _IMAGENET_STD
        prep = Path(model) / "preprocessor_config.json" if video_model is None else None
        if prep is not None and prep.is_file():
            data = json.loads(prep.read_text())
            mean, std = tuple(data.get("image_mean", mean)), tuple(data.get("image_std", std))
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 1, 3, 1, 1)

    def preprocess(self, videos: np.ndarray) -> torch.Tensor:
        """``(N, T, H, W, 3)`` in [0, 1] -> ``(N, num_frames, 3, h, w)`` normalised float32."""
        x = torch.from_numpy(as_numpy(videos))
        if x.ndim != 5 or x.shape[-1] != 3:
            raise InputError(f"videos must be (N, T, H, W, 3); got shape {tuple(x.shape)}")
        idx = torch.from_numpy(np.linspace(0, x.shape[1] - 1, self.num_frames).round().astype(np.int64))
        x = x[:, idx].permute(0, 1, 4, 2, 3)  # (N, F, 3, H, W)
        n, f = x.shape[:2]
        x = torch.nn.functional.interpolate(x.reshape(n * f, 3, *x.shape[-2:]), size=self.size, mode="bilinear", antialias=True, align_corners=False)
        return (x.reshape(n, f, 3, *self.size) - self.mean) / self.std

    @torch.no_grad()
    def __call__(self, videos: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(videos), self.batch_size):
            pixels = self.preprocess(videos[start : start + self.batch_size]).to(self.device, self.model.dtype)
            hidden = self.model(pixel_values=pixels).last_hidden_state
            out.append(hidden.float().mean(dim=1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)


def frechet_video_distance(real: np.ndarray, generated: np.ndarray, extractor: VideoFeatureExtractor) -> float:
    """Fréchet distance between Gaussian fits of ``extractor`` features of two video sets.

    Args:
        real, generated: ``(N, T, H, W, 3)`` float32 in [0, 1], N >= 2 each (more videos
            than feature dimensions give a full-rank covariance).
        extractor: maps a batch of videos to ``(N, D)`` features.
    """
    mu1, s1 = gaussian_fit(extractor(real))
    mu2, s2 = gaussian_fit(extractor(generated))
    value = frechet_distance(mu1, s1, mu2, s2)
    return value if math.isfinite(value) else math.nan
