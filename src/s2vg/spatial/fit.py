"""Fit dynamic 3D Gaussians to every view and timestamp of a frame matrix.

The loop (3DGS with a deformation field, 4DGaussians-style):

1. Initialise Gaussians from the matrix's depth (:func:`~s2vg.spatial.gaussians.init_gaussians`)
   and a deformation field that starts as the identity.
2. Each iteration takes one (view, frame) image, in a seeded random order that visits
   every image once per epoch; renders the Gaussians deformed to that frame's time
   (without deformation during the warm-up); and takes an Adam step on
   ``(1 - w) * L1 + w * (1 - SSIM)`` (w = 0.2), where formerly unknown (filled) pixels
   count ``filled_weight`` times as much as real ones.
3. Between ``densify_start`` and ``densify_stop``, every ``densify_every`` iterations,
   Gaussians whose mean screen-space gradient exceeds ``grad_threshold`` are cloned
   (small) or split in two (large), and nearly transparent ones are pruned. The gradient
   is that of the loss summed over pixels, so the threshold does not depend on the
   image size.

Everything random comes from one seeded generator, and the CPU kernels used are
deterministic, so one seed gives one result (on the same machine and thread count).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from s2vg.config import SpatialFitConfig
from s2vg.errors import InputError
from s2vg.geometry.frame_matrix import FrameMatrix
from s2vg.progress import SILENT, Progress
from s2vg.spatial.deformation import Deformation, frustum_bounds
from s2vg.spatial.gaussians import PARAM_NAMES, Gaussians, init_gaussians
from s2vg.spatial.rasterize import quat_to_rotmat, rasterization
from s2vg.spatial.scene import SpatialScene, gaussians_at


@dataclass
class FitResult:
    """What :func:`fit_scene` returns: the scene and a record of the fit.

    Attributes:
        scene: the fitted :class:`SpatialScene`.
        stats: iterations, seconds, iterations per second, initial and final Gaussian
            counts, the mean loss and PSNR (dB) over the last epoch of training images,
            densification counts.
    """

    scene: SpatialScene
    stats: dict


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from s2vg.errors import OptionError

        raise OptionError("device cuda was asked for but no CUDA device is available; use --device cpu or auto")
    return torch.device(name)


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run with ``count`` torch CPU threads (None: unchanged), restoring the previous number."""
    previous = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _gaussian_window(size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    x = torch.arange(size, dtype=dtype) - size // 2
    w = torch.exp(-(x * x) / (2 * sigma * sigma))
    return w / w.sum()


def ssim_map(image: torch.Tensor, target: torch.Tensor, window: torch.Tensor | None = None) -> torch.Tensor:
    """Per-pixel SSIM of ``(H, W, 3)`` images in [0, 1] (11-tap Gaussian, sigma 1.5, zero padding).

    The Gaussian filter is applied separably (two 1-D passes), which gives the same
    numbers as the 11x11 window of 3DGS at a fraction of the cost.

    Returns:
        ``(H, W)`` SSIM averaged over the channels.
    """
    window = _gaussian_window(dtype=image.dtype).to(image.device) if window is None else window
    k = window.numel()
    c = image.shape[-1]
    x = image.permute(2, 0, 1)[None]
    y = target.permute(2, 0, 1)[None]
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # (1, 5C, H, W)
    horizontal = window.view(1, 1, 1, k).repeat(5 * c, 1, 1, 1)
    vertical = window.view(1, 1, k, 1).repeat(5 * c, 1, 1, 1)
    blurred = F.conv2d(F.conv2d(stack, horizontal, padding=(0, k // 2), groups=5 * c), vertical, padding=(k // 2, 0), groups=5 * c)
    mu_x, mu_y, xx, yy, xy = blurred.split(c, dim=1)
    var_x, var_y, cov = xx - mu_x * mu_x, yy - mu_y * mu_y, xy - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))
    return ssim[0].mean(0)


def photometric_loss(image: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, ssim_weight: float) -> torch.Tensor:
    """``(1 - w) * L1 + w * (1 - SSIM)`` over ``(H, W, 3)`` images, each pixel weighted by ``(H, W)`` ``weight``."""
    total = weight.sum().clamp_min(1e-8)
    l1 = ((image - target).abs().mean(-1) * weight).sum() / total
    if ssim_weight == 0:
        return l1
    d_ssim = ((1 - ssim_map(image, target)) * weight).sum() / total
    return (1 - ssim_weight) * l1 + ssim_weight * d_ssim


def psnr(image: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of images in [0, 1] (inf when equal)."""
    mse = float(((image.detach().clamp(0, 1) - target) ** 2).mean())
    return math.inf if mse == 0 else -10 * math.log10(mse)


class _Optimiser:
    """Adam over the per-Gaussian tensors with state surgery for densification and pruning."""

    def __init__(self, params: dict[str, torch.Tensor], lrs: dict[str, float]) -> None:
        self.params = params
        self.adam = torch.optim.Adam(
            [{"params": [params[name]], "lr": lrs[name], "name": name} for name in PARAM_NAMES], eps=1e-15
        )

    def step(self) -> None:
        self.adam.step()
        self.adam.zero_grad(set_to_none=True)

    def set_lr(self, name: str, lr: float) -> None:
        for group in self.adam.param_groups:
            if group["name"] == name:
                group["lr"] = lr

    def replace(self, keep: torch.Tensor, extra: dict[str, torch.Tensor] | None) -> None:
        """Keep the Gaussians where ``keep`` is True and append ``extra`` (fresh Adam moments)."""
        for group in self.adam.param_groups:
            name = group["name"]
            old = group["params"][0]
            new_value = old.detach()[keep]
            if extra is not None:
                new_value = torch.cat([new_value, extra[name].to(old)], dim=0)
            new = new_value.clone().requires_grad_(True)
            state = self.adam.state.pop(old, None)
            if state:
                for key in ("exp_avg", "exp_avg_sq"):
                    moment = state[key][keep]
                    if extra is not None:
                        moment = torch.cat([moment, torch.zeros_like(extra[name]).to(moment)], dim=0)
                    state[key] = moment
                self.adam.state[new] = state
            group["params"][0] = new
            self.params[name] = new


def _densify(
    params: dict[str, torch.Tensor],
    opt: _Optimiser,
    grad_sum: torch.Tensor,
    seen: torch.Tensor,
    focal: float,
    config: SpatialFitConfig,
    generator: torch.Generator,
) -> dict:
    """Clone small and split large Gaussians with a high mean screen gradient; prune transparent ones."""
    n = params["means"].shape[0]
    with torch.no_grad():
        mean_grad = grad_sum / seen.clamp_min(1)
        candidates = (mean_grad >= config.grad_threshold) & (seen > 0)
        room = max(0, config.max_gaussians - n)
        if int(candidates.sum()) > room:
            # Keep the strongest candidates that fit under the cap (ties by index: deterministic).
            order = torch.argsort(torch.where(candidates, mean_grad, torch.full_like(mean_grad, -1.0)), descending=True, stable=True)
            candidates = torch.zeros_like(candidates)
            candidates[order[:room]] = True
        scales = torch.exp(params["log_scales"].detach())
        size_px = scales.max(dim=1).values * focal / params["means"].detach()[:, 2].clamp_min(1e-3)
        split = candidates & (size_px > config.split_px)
        clone = candidates & ~split
        # A clone and its parent share the parent's opacity a as 1 - sqrt(1 - a) each, so
        # the two together render what the parent did (plain 3DGS doubles it instead).
        opacity = torch.sigmoid(params["opacity_logits"].detach())
        shared = torch.logit(1 - torch.sqrt(1 - opacity.clamp(max=1 - 1e-6)), eps=1e-6)
        params["opacity_logits"].data[clone] = shared[clone]
        extra = {name: params[name].detach()[clone] for name in PARAM_NAMES}
        if bool(split.any()):
            # Two children sampled inside the parent, each 1.6x smaller (3DGS).
            idx = torch.nonzero(split).squeeze(1)
            s = scales[idx].repeat(2, 1)
            rot = quat_to_rotmat(params["quats"].detach()[idx]).repeat(2, 1, 1)
            offsets = torch.randn(s.shape, generator=generator).to(s) * s
            children = {name: params[name].detach()[idx].repeat(2, *([1] * (params[name].dim() - 1))) for name in PARAM_NAMES}
            children["means"] = children["means"] + (rot @ offsets[:, :, None]).squeeze(-1)
            children["log_scales"] = torch.log(s / 1.6)
            extra = {name: torch.cat([extra[name], children[name]], dim=0) for name in PARAM_NAMES}
        opacity = torch.sigmoid(params["opacity_logits"].detach())
        keep = ~split & (opacity >= config.prune_opacity)
        pruned = int((~keep).sum()) - int(split.sum())
    opt.replace(keep, extra)
    return {"cloned": int(clone.sum()), "split": int(split.sum()), "pruned": pruned}


def fit_scene(
    matrix: FrameMatrix,
    config: SpatialFitConfig = SpatialFitConfig(),
    *,
    times: torch.Tensor | None = None,
    progress: Progress = SILENT,
) -> FitResult:
    """Fit a dynamic Gaussian scene to every view and frame of ``matrix``.

    Args:
        matrix: an inpainted frame matrix (``colors (V, T, H, W, 3)`` filled everywhere,
            ``known`` marking real pixels, ``depth (V, T, H, W)`` > 0 where usable).
        config: the fit's options.
        times: ``(T,)`` frame time of each matrix frame (for fitting a subset of a clip's
            frames); defaults to ``0..T-1``.
        progress: receives one update per iteration with the loss and PSNR.

    Returns:
        :class:`FitResult`.

    Raises:
        InputError: fewer than 2 views, or ``times`` of the wrong length.
    """
    with torch_threads(config.threads):
        return _fit(matrix, config, times, progress)


def _fit(matrix: FrameMatrix, config: SpatialFitConfig, times: torch.Tensor | None, progress: Progress) -> FitResult:
    if matrix.views < 2:
        raise InputError(f"spatial fitting needs a frame matrix of at least 2 views; got {matrix.views}")
    t_count = matrix.frames
    times = torch.arange(t_count, dtype=torch.float32) if times is None else torch.as_tensor(times, dtype=torch.float32)
    if times.shape != (t_count,):
        raise InputError(f"times must give one time per matrix frame ({t_count}); got shape {tuple(times.shape)}")
    start = time.perf_counter()
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    rig = matrix.rig
    height, width = matrix.height, matrix.width

    canonical = init_gaussians(
        matrix, times=times, stride=config.init_stride, voxel_px=config.voxel_px,
        max_gaussians=config.init_gaussians, sh_degree=config.sh_degree, opacity=config.init_opacity,
    )
    n_init = canonical.count
    median_depth = float(canonical.means[:, 2].median())
    deformation = None
    if config.deformation != "none" and t_count > 1:
        deformation = Deformation(
            frustum_bounds(canonical.means), (float(times.min()), float(times.max())),
            encoding=config.deformation, time_resolution=max(2, min(64, t_count)), generator=generator,
        ).to(device)
    params = {name: value.to(device).clone().requires_grad_(True) for name, value in canonical.tensors().items()}
    lrs = {
        "means": config.lr_means * median_depth, "quats": config.lr_quats, "log_scales": config.lr_scales,
        "opacity_logits": config.lr_opacity, "sh": config.lr_sh, "time_center": config.lr_time,
        "time_log_half": config.lr_time, "time_log_scale": config.lr_time, "velocity": config.lr_means * median_depth,
    }
    opt = _Optimiser(params, lrs)
    def_opt = None
    if deformation is not None:
        groups = [{"params": list(deformation.head.parameters()), "lr": config.lr_head}]
        if len(deformation.planes):
            groups.append({"params": list(deformation.planes.parameters()), "lr": config.lr_planes})
        def_opt = torch.optim.Adam(groups, eps=1e-15)

    targets = matrix.colors.to(device, torch.float32)
    weights = torch.where(matrix.known, 1.0, config.filled_weight).to(device, torch.float32)
    viewmats = rig.tgt_from_src(torch.float32).to(device)
    Ks = torch.stack([rig.intrinsics(torch.float32, view=v) for v in range(rig.views)]).to(device)
    images = [(v, t) for v in range(rig.views) for t in range(t_count)]
    warmup_end = int(round(config.warmup * config.iterations))
    densify_from = int(round(config.densify_start * config.iterations))
    densify_until = int(round(config.densify_stop * config.iterations))
    grad_sum = torch.zeros(n_init, device=device)
    seen = torch.zeros(n_init, device=device)
    counts = {"cloned": 0, "split": 0, "pruned": 0}
    history: list[tuple[float, float]] = []
    order: list[int] = []
    with progress.stage("fit", total=config.iterations, unit="it") as bar:
        for it in range(config.iterations):
            if not order:
                order = torch.randperm(len(images), generator=generator).tolist()
            view, frame = images[order.pop()]
            frame_time = float(times[frame])
            gaussians = Gaussians.from_tensors(params)
            state = gaussians_at(gaussians, deformation if it >= warmup_end else None, frame_time)
            rendered = rasterization(
                state.means, state.quats, state.scales, state.opacities, state.sh,
                viewmats[view : view + 1], Ks[view : view + 1], width, height,
                sh_degree=state.sh_degree, tile_size=config.tile_size, backend=config.backend,  # type: ignore[arg-type]
            )
            means2d = rendered.meta["means2d"]
            means2d.retain_grad()
            image = rendered.image[0]
            loss = photometric_loss(image, targets[view, frame], weights[view, frame], config.ssim_weight)
            if deformation is not None and it >= warmup_end and config.time_smoothness > 0:
                loss = loss + config.time_smoothness * deformation.time_smoothness()
            loss.backward()
            with torch.no_grad():
                if densify_from <= it < densify_until and means2d.grad is not None:
                    # Screen gradient of the *summed* per-pixel loss (pixels x mean gradient):
                    # unlike 3DGS's NDC gradient of the mean loss it does not depend on the
                    # image size (0.0002 in NDC at one megapixel is about 0.4 here).
                    g = means2d.grad[0].norm(dim=-1) * (width * height)
                    visible = rendered.meta["radii"][0].amax(-1) > 0
                    grad_sum += torch.where(visible, g, torch.zeros_like(g))
                    seen += visible.float()
            # Positions: exponential decay to 1/100 of the initial step over the fit.
            decay = 0.01 ** (it / max(1, config.iterations - 1))
            opt.set_lr("means", lrs["means"] * decay)
            opt.set_lr("velocity", lrs["velocity"] * decay)
            opt.step()
            if def_opt is not None and it >= warmup_end:
                def_opt.step()
            if def_opt is not None:
                def_opt.zero_grad(set_to_none=True)
            score = psnr(image, targets[view, frame])
            loss_value = float(loss.detach())
            history.append((loss_value, score))
            bar.update(1, loss=f"{loss_value:.4f}", psnr=f"{score:.2f}")
            if densify_from <= it < densify_until and (it + 1 - densify_from) % config.densify_every == 0:
                done = _densify(params, opt, grad_sum, seen, rig.focal, config, generator)
                for key in counts:
                    counts[key] += done[key]
                n = params["means"].shape[0]
                grad_sum = torch.zeros(n, device=device)
                seen = torch.zeros(n, device=device)

    seconds = time.perf_counter() - start
    last = history[-len(images):]
    final = Gaussians.from_tensors({k: v.detach() for k, v in params.items()})
    z = final.means[:, 2]
    depth_range = (float(torch.quantile(z[:: max(1, z.numel() // 100_000)], 0.02)), float(torch.quantile(z[:: max(1, z.numel() // 100_000)], 0.98)))
    stats = {
        "iterations": config.iterations,
        "seconds": round(seconds, 3),
        "iterations_per_second": round(config.iterations / max(seconds, 1e-9), 3),
        "gaussians_initial": n_init,
        "gaussians_final": final.count,
        **counts,
        "loss": round(sum(h[0] for h in last) / len(last), 6),
        "psnr_db": round(sum(h[1] for h in last) / len(last), 3),
        "device": str(device),
    }
    if deformation is not None:
        deformation.eval()
        for p in deformation.parameters():
            p.requires_grad_(False)
    scene = SpatialScene(
        gaussians=final, deformation=deformation, rig=rig, frames=int(math.floor(float(times.max()))) + 1,
        depth_range=depth_range, info={"fit": stats},
    )
    return FitResult(scene=scene, stats=stats)
