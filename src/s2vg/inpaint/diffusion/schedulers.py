"""The only place with scheduler algebra: one adapter per scheduler family.

The sampler asks an adapter to noise a clean latent to a timestep, to re-noise a sample
by one step (from ``t_prev`` back up to ``t``), to turn a model output into a clean
estimate, and to step. Everything diffusers already offers is taken from the scheduler
(``add_noise`` / ``scale_noise``, ``step``, ``scale_model_input``); what it lacks is
written here once per family from the scheduler's own tables:

* DDPM family (DDPM, DDIM; epsilon, v or sample prediction), variance preserving:
  ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` with ``abar = scheduler.alphas_cumprod``.
  Re-noising from ``t_prev`` to ``t`` multiplies by ``sqrt(abar_t / abar_prev)`` and adds
  noise of variance ``1 - abar_t / abar_prev``.
* Flow matching (``FlowMatchEulerDiscreteScheduler``), the rectified-flow line:
  ``x_t = (1 - sigma_t) x0 + sigma_t eps`` with ``sigma = scheduler.sigmas``; the model
  predicts the velocity ``eps - x0``. Re-noising multiplies by
  ``k = (1 - sigma_t) / (1 - sigma_prev)`` and adds noise of variance
  ``sigma_t^2 - k^2 sigma_prev^2``.

Multistep solvers (UniPC, DPM-Solver) keep a history of model outputs, which resampling
the same ``t`` R times would corrupt; a model whose folder names one is sampled with the
single-step scheduler of its family built from the same configuration
(:func:`make_scheduler`): flow-matching Euler with the solver's ``flow_shift`` for Wan's
flow-configured UniPC, CogVideoX's DDIM for its DPM scheduler. Models trained with
resolution-dependent shifting (LTX-Video: ``use_dynamic_shifting``) get ``mu`` from the
latent sequence length, with diffusers' linear rule (:func:`dynamic_shift_mu`).

Timesteps are always values of ``scheduler.timesteps`` (0-d tensors), never loop indices.
Schedulers that keep a step counter (flow matching's ``_step_index``) are pinned to the
timestep on every :meth:`SchedulerAdapter.step`, so that the sampler may step the same
``t`` many times (resampling) and get the same arithmetic each time.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch

from s2vg.errors import OptionError

_DDPM_FAMILY = ("DDPMScheduler", "DDIMScheduler", "DDPMParallelScheduler", "DDIMParallelScheduler", "CogVideoXDDIMScheduler")
_FLOW_FAMILY = ("FlowMatchEulerDiscreteScheduler",)
#: Multistep solvers a model folder may name; sampled with a single-step scheduler of their family.
_MULTISTEP = ("UniPCMultistepScheduler", "DPMSolverMultistepScheduler", "CogVideoXDPMScheduler")


def dynamic_shift_mu(config: Any, seq_len: int) -> float:
    """``mu`` of a resolution-dependent flow shift: linear in the latent sequence length
    between ``(base_image_seq_len, base_shift)`` and ``(max_image_seq_len, max_shift)``
    (diffusers' ``calculate_shift``, which the LTX-Video and Flux pipelines use)."""
    base_len, max_len = config.get("base_image_seq_len", 256), config.get("max_image_seq_len", 4096)
    base_shift, max_shift = config.get("base_shift", 0.5), config.get("max_shift", 1.15)
    slope = (max_shift - base_shift) / (max_len - base_len)
    return float(seq_len * slope + base_shift - slope * base_len)


@dataclass(frozen=True)
class StepOutput:
    """One denoising step.

    Attributes:
        prev_sample: the sample at the next (less noisy) timestep, shaped like the input.
        x0: the clean estimate implied by the model output, shaped like the input.
    """

    prev_sample: torch.Tensor
    x0: torch.Tensor


class SchedulerAdapter:
    """Family-independent face of a diffusers scheduler; subclasses hold the algebra.

    Args:
        scheduler: a diffusers scheduler of the adapter's family; the adapter owns it
            (the sampler gives each run a fresh instance).
    """

    family = "base"

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    # -- schedule ----------------------------------------------------------------------
    def set_timesteps(self, steps: int, seq_len: int | None = None) -> torch.Tensor:
        """Set ``steps`` inference steps; returns ``scheduler.timesteps`` on the CPU, high to low.

        ``seq_len`` (latent tokens of one video) is needed by schedulers configured with
        ``use_dynamic_shifting`` and ignored by the others.
        """
        config = self.scheduler.config
        if config.get("use_dynamic_shifting", False):
            if seq_len is None:
                raise ValueError("this scheduler shifts its timesteps by the video's size; pass seq_len")
            self.scheduler.set_timesteps(steps, mu=dynamic_shift_mu(config, seq_len))
        else:
            self.scheduler.set_timesteps(steps)
        return self.scheduler.timesteps.detach().cpu()

    @property
    def timesteps(self) -> torch.Tensor:
        return self.scheduler.timesteps.detach().cpu()

    @property
    def init_noise_sigma(self) -> float:
        return float(getattr(self.scheduler, "init_noise_sigma", 1.0))

    def model_input(self, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The model's input for ``sample`` at ``t`` (``scheduler.scale_model_input`` where it exists)."""
        scale = getattr(self.scheduler, "scale_model_input", None)
        return sample if scale is None else scale(sample, t)

    # -- algebra (subclasses) ----------------------------------------------------------
    def noise_to(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The forward process: clean ``x0`` noised to timestep ``t`` with ``noise`` (same shape)."""
        raise NotImplementedError

    def renoise(self, sample: torch.Tensor, noise: torch.Tensor, t_prev: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Take a sample at ``t_prev`` back up to the noisier ``t`` (one forward transition)."""
        raise NotImplementedError

    def x0_from_output(self, output: torch.Tensor, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The clean estimate implied by the model ``output`` for ``sample`` at ``t``."""
        raise NotImplementedError

    def output_from_x0(self, x0: torch.Tensor, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The model output that implies clean estimate ``x0`` for ``sample`` at ``t`` (oracles)."""
        raise NotImplementedError

    def step(self, output: torch.Tensor, t: torch.Tensor, sample: torch.Tensor,
             generator: torch.Generator | None = None) -> StepOutput:
        """One scheduler step from ``t``; safe to call many times at the same ``t``."""
        raise NotImplementedError

    # -- the clean estimate and the noise of a sample (pixel-exchange sampler) ------------
    def noise_of(self, sample: torch.Tensor, x0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The noise ``eps`` with ``sample == noise_to(x0, eps, t)``: what a sample at ``t`` holds
        besides its clean estimate. Undefined where ``t`` has no noise (the end of the schedule)."""
        a, s = self.signal_and_noise(t)
        if s <= 0:
            raise ValueError(f"timestep {float(t)} carries no noise; there is no noise to recover")
        return (sample - a * x0) / s

    def refresh_noise(self, noise: torch.Tensor, fresh: torch.Tensor, t_prev: torch.Tensor,
                      t: torch.Tensor) -> torch.Tensor:
        """The unit noise of :meth:`renoise`: a sample ``noise_to(x0, noise, t_prev)`` taken up to
        ``t`` with ``fresh`` noise equals ``noise_to(x0, refresh_noise(noise, fresh, t_prev, t), t)``."""
        _, s_prev = self.signal_and_noise(t_prev)
        _, s_t = self.signal_and_noise(t)
        keep = float(self.renoise(torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64), t_prev, t))
        add = float(self.renoise(torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64), t_prev, t))
        return (keep * s_prev * noise + add * fresh) / s_t

    # -- helpers -----------------------------------------------------------------------
    def _step_kwargs(self, generator: torch.Generator | None, **extra: Any) -> dict[str, Any]:
        # Pass generator/eta only to schedulers whose step accepts them (the T2V pipeline's habit).
        accepted = inspect.signature(self.scheduler.step).parameters
        kwargs = {"generator": generator, **extra}
        return {k: v for k, v in kwargs.items() if k in accepted}

    def signal_and_noise(self, t: torch.Tensor) -> tuple[float, float]:
        """``(a, s)`` of the forward process ``x_t = a x0 + s eps``, read through :meth:`noise_to`."""
        one = torch.ones(1, dtype=torch.float64)
        zero = torch.zeros(1, dtype=torch.float64)
        return float(self.noise_to(one, zero, t)), float(self.noise_to(zero, one, t))


class DDPMFamilyAdapter(SchedulerAdapter):
    """DDPM / DDIM: variance-preserving, tables from ``scheduler.alphas_cumprod``."""

    family = "ddpm"

    def _abar(self, t: torch.Tensor) -> torch.Tensor:
        return self.scheduler.alphas_cumprod[int(t)].double()

    def noise_to(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        timesteps = torch.as_tensor(t).reshape(1).long()
        return self.scheduler.add_noise(x0, noise, timesteps)

    def renoise(self, sample: torch.Tensor, noise: torch.Tensor, t_prev: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ratio = self._abar(t) / self._abar(t_prev)
        if ratio > 1:
            raise ValueError(f"renoise goes from a less noisy t_prev to t; got t_prev={float(t_prev)}, t={float(t)}")
        keep, add = ratio.sqrt().item(), (1.0 - ratio).sqrt().item()
        return keep * sample + add * noise

    def x0_from_output(self, output: torch.Tensor, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = self._abar(t)
        a, s = abar.sqrt().item(), (1.0 - abar).sqrt().item()
        kind = self.scheduler.config.prediction_type
        if kind == "epsilon":
            return (sample - s * output) / a
        if kind == "v_prediction":
            return a * sample - s * output
        if kind == "sample":
            return output
        raise OptionError(f"scheduler prediction type {kind!r} is not supported; use epsilon, v_prediction or sample")

    def output_from_x0(self, x0: torch.Tensor, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        abar = self._abar(t)
        a, s = abar.sqrt().item(), (1.0 - abar).sqrt().item()
        kind = self.scheduler.config.prediction_type
        eps = (sample - a * x0) / s
        if kind == "epsilon":
            return eps
        if kind == "v_prediction":
            return a * eps - s * x0
        if kind == "sample":
            return x0
        raise OptionError(f"scheduler prediction type {kind!r} is not supported; use epsilon, v_prediction or sample")

    def step(self, output: torch.Tensor, t: torch.Tensor, sample: torch.Tensor,
             generator: torch.Generator | None = None, eta: float = 0.0) -> StepOutput:
        result = self.scheduler.step(output, t, sample, **self._step_kwargs(generator, eta=eta))
        return StepOutput(prev_sample=result.prev_sample, x0=result.pred_original_sample)


class FlowMatchAdapter(SchedulerAdapter):
    """Flow-matching Euler: ``x_t = (1 - sigma) x0 + sigma eps``, tables from ``scheduler.sigmas``."""

    family = "flow"

    def _index(self, t: torch.Tensor) -> int:
        matches = (self.scheduler.timesteps.detach().cpu() == torch.as_tensor(t).cpu()).nonzero()
        if len(matches) == 0:
            raise ValueError(f"timestep {float(t)} is not one of scheduler.timesteps; pass a value from the schedule")
        return int(matches[0])

    def _sigma(self, t: torch.Tensor) -> float:
        return float(self.scheduler.sigmas[self._index(t)])

    def noise_to(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        timestep = torch.as_tensor(t, dtype=self.scheduler.timesteps.dtype).reshape(1)
        return self.scheduler.scale_noise(x0, timestep, noise)

    def renoise(self, sample: torch.Tensor, noise: torch.Tensor, t_prev: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        s_prev, s = self._sigma(t_prev), self._sigma(t)
        if s < s_prev:
            raise ValueError(f"renoise goes from a less noisy t_prev to t; got t_prev={float(t_prev)}, t={float(t)}")
        keep = (1.0 - s) / (1.0 - s_prev)
        add = max(s * s - keep * keep * s_prev * s_prev, 0.0) ** 0.5
        return keep * sample + add * noise

    def x0_from_output(self, output: torch.Tensor, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return sample - self._sigma(t) * output

    def output_from_x0(self, x0: torch.Tensor, sample: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (sample - x0) / self._sigma(t)

    def step(self, output: torch.Tensor, t: torch.Tensor, sample: torch.Tensor,
             generator: torch.Generator | None = None, eta: float = 0.0) -> StepOutput:
        # step() advances a private _step_index on every call; pin it to t so that
        # resampling the same t R times does the same arithmetic each time.
        self.scheduler._step_index = self._index(t)
        result = self.scheduler.step(output, t, sample, **self._step_kwargs(generator))
        return StepOutput(prev_sample=result.prev_sample.to(sample.dtype), x0=self.x0_from_output(output, sample, t))


def adapter_for(scheduler: Any) -> SchedulerAdapter:
    """The adapter of ``scheduler``'s family; OptionError for schedulers without one
    (multistep solvers included: pass them through :func:`make_scheduler` first)."""
    name = type(scheduler).__name__
    if name in _DDPM_FAMILY:
        return DDPMFamilyAdapter(scheduler)
    if name in _FLOW_FAMILY:
        return FlowMatchAdapter(scheduler)
    hint = "; build the sampling scheduler with make_scheduler" if name in _MULTISTEP else ""
    raise OptionError(
        f"scheduler {name} is not supported by the frame-matrix sampler; supported: "
        f"{', '.join(_DDPM_FAMILY + _FLOW_FAMILY)}{hint}"
    )


def scheduler_family(scheduler: Any) -> str:
    """``"ddpm"`` or ``"flow"``: the algebra of the model's scheduler, multistep solvers included
    (a UniPC or DPM-Solver configured with flow sigmas or flow prediction is a flow model)."""
    name = type(scheduler).__name__
    if name in _DDPM_FAMILY:
        return "ddpm"
    if name in _FLOW_FAMILY:
        return "flow"
    if name in _MULTISTEP:
        config = scheduler.config
        flow = config.get("use_flow_sigmas", False) or config.get("prediction_type") == "flow_prediction"
        return "flow" if flow else "ddpm"
    return adapter_for(scheduler).family  # raises the OptionError naming what is supported


def _single_step(native: Any) -> Any:
    """The model's own schedule as a single-step scheduler (a fresh instance)."""
    import diffusers

    name = type(native).__name__
    config = native.config
    if name in _DDPM_FAMILY or name in _FLOW_FAMILY:
        return type(native).from_config(config)
    if name == "CogVideoXDPMScheduler":
        return diffusers.CogVideoXDDIMScheduler.from_config(_config_for(diffusers.CogVideoXDDIMScheduler, config))
    if scheduler_family(native) == "flow":
        shift = config.get("flow_shift", None) or config.get("shift", 1.0)
        return diffusers.FlowMatchEulerDiscreteScheduler(num_train_timesteps=config["num_train_timesteps"],
                                                         shift=float(shift))
    return diffusers.DDIMScheduler.from_config(_config_for(diffusers.DDIMScheduler, config))


def _ddpm_tables(native: Any) -> dict[str, Any]:
    """Betas that reproduce ``native.alphas_cumprod`` exactly, for a DDPM or DDIM built from a
    scheduler whose table is not the plain beta schedule (CogVideoX's SNR-shifted one)."""
    if type(native).__name__ in ("DDPMScheduler", "DDIMScheduler"):
        return {}
    abar = native.alphas_cumprod.double()
    previous = torch.cat([torch.ones(1, dtype=abar.dtype), abar[:-1]])
    return {"trained_betas": (1.0 - abar / previous).tolist()}


def make_scheduler(native: Any, choice: str) -> Any:
    """A fresh scheduler for one sampling run.

    Args:
        native: the model's own scheduler (its config carries the training schedule).
        choice: ``"ddpm"`` or ``"ddim"`` (built from ``native.config`` with the native
            ``alphas_cumprod``; DDPM family only), ``"native"`` (a fresh copy of the model's
            scheduler, or for a multistep solver the single-step scheduler of its family:
            flow-matching Euler with its ``flow_shift``, CogVideoX's DDIM), or ``"auto"``
            (DDPM for the DDPM family, native otherwise).
    """
    import diffusers

    family = scheduler_family(native)
    if choice == "auto":
        choice = "ddpm" if family == "ddpm" else "native"
    if choice == "native":
        return _single_step(native)
    if family != "ddpm":
        raise OptionError(
            f"scheduler {choice!r} needs a DDPM-family model, but this model's scheduler is "
            f"{type(native).__name__}; use scheduler 'native' or 'auto'"
        )
    cls = {"ddpm": diffusers.DDPMScheduler, "ddim": diffusers.DDIMScheduler}[choice]
    return cls.from_config(_config_for(cls, native.config), **_ddpm_tables(native))


def _config_for(cls: Any, config: Any) -> dict[str, Any]:
    """The entries of ``config`` that ``cls`` takes (others, such as CogVideoX's
    ``snr_shift_scale``, are already folded into the tables passed alongside)."""
    accepted = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in config.items() if k in accepted}
