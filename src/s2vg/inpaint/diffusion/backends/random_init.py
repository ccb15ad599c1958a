"""Randomly initialised Zeroscope-format folders, for tests and benchmarks without weights.

:func:`save_random_zeroscope` writes a folder in the ``TextToVideoSDPipeline`` layout
(``unet/``, ``vae/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/``,
``model_index.json``) with seeded random weights, built from configs the way diffusers'
own tests build dummy components. ``size="tiny"`` runs in milliseconds on a CPU;
``size="full"`` has the real Zeroscope architecture (UNet3D 320-640-1280-1280, the
Stable Diffusion VAE, a 1024-wide CLIP text encoder) for memory and speed measurements.
The tokenizer is a CLIP BPE tokenizer over a small character vocabulary written on the
spot (no download); it tokenises any lower-case prompt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import torch

#: Zeroscope's training schedule (its scheduler_config.json).
ZEROSCOPE_SCHEDULE = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085,
                          beta_end=0.012, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789,.-'!?"


def _write_tokenizer(folder: Path, max_length: int) -> None:
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in _CHARS:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    raw = folder / "_raw"
    raw.mkdir(exist_ok=True)
    (raw / "vocab.json").write_text(json.dumps(vocab))
    (raw / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(raw / "vocab.json"), str(raw / "merges.txt"), model_max_length=max_length)
    tokenizer.save_pretrained(folder)
    for path in raw.iterdir():
        path.unlink()
    raw.rmdir()


def save_random_zeroscope(folder: str | Path, size: Literal["tiny", "full"] = "tiny", seed: int = 0) -> Path:
    """Write a random Zeroscope-format model to ``folder`` and return its path.

    Args:
        folder: where to write (created).
        size: ``"tiny"`` (CPU tests; VAE factor 8 with 8-channel blocks) or ``"full"``
            (Zeroscope's architecture); defaults to ``"tiny"``.
        seed: seed of the random weights; defaults to 0.
    """
    from diffusers import AutoencoderKL, DDIMScheduler, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if size == "tiny":
        text_width = 32
        unet = UNet3DConditionModel(
            sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
            down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
            cross_attention_dim=text_width, attention_head_dim=8, norm_num_groups=8,
        )
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 8, 8), layers_per_block=1,
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
            norm_num_groups=4, sample_size=64,
        )
        text = CLIPTextConfig(vocab_size=2 + 2 * len(_CHARS), hidden_size=text_width, intermediate_size=64,
                              num_attention_heads=4, num_hidden_layers=2, max_position_embeddings=77,
                              bos_token_id=0, eos_token_id=1, pad_token_id=1)
    elif size == "full":
        unet = UNet3DConditionModel(sample_size=32, cross_attention_dim=1024, attention_head_dim=64)
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512,
        )
        text = CLIPTextConfig(vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_attention_heads=16,
                              num_hidden_layers=23, max_position_embeddings=77, hidden_act="gelu", projection_dim=1024)
    else:
        raise ValueError(f"size must be 'tiny' or 'full'; got {size!r}")
    unet.save_pretrained(folder / "unet")
    vae.save_pretrained(folder / "vae")
    CLIPTextModel(text).save_pretrained(folder / "text_encoder")
    _write_tokenizer(folder / "tokenizer", max_length=77)
    DDIMScheduler(**ZEROSCOPE_SCHEDULE).save_pretrained(folder / "scheduler")
    index = {
        "_class_name": "TextToVideoSDPipeline",
        "unet": ["diffusers", "UNet3DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "DDIMScheduler"],
    }
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))
    return folder
