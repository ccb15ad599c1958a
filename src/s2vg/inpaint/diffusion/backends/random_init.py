"""Randomly initialised model folders of every backend, for tests and benchmarks without weights.

:func:`save_random_wan`, :func:`save_random_ltx` and :func:`save_random_cogvideox` write
folders in the ``WanPipeline``, ``LTXPipeline`` and ``CogVideoXPipeline`` layouts the same
way (their tokenizers are character-level with T5's special tokens, written on the spot);
:data:`RANDOM_MODELS` maps backend names to these functions.

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


# -- transformer video models (Wan, LTX-Video, CogVideoX) -----------------------------------------

#: Scheduler configs of the released models' folders (scheduler/scheduler_config.json).
WAN_SCHEDULER = dict(num_train_timesteps=1000, prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
LTX_SCHEDULER = dict(num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05,
                     base_image_seq_len=1024, max_image_seq_len=4096, shift_terminal=0.1)
COGVIDEOX_SCHEDULER = dict(num_train_timesteps=1000, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                           clip_sample=False, prediction_type="v_prediction", rescale_betas_zero_snr=True,
                           set_alpha_to_one=True, snr_shift_scale=3.0, timestep_spacing="trailing", steps_offset=0)


def _write_t5_tokenizer(folder: Path, max_length: int) -> int:
    """A character-level tokenizer with T5's special tokens (pad 0, eos 1, unk 2), written as
    ``tokenizer.json``; returns its vocabulary size. Loads with ``AutoTokenizer``."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for c in _CHARS:
        vocab[c] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(),
                                                 pre_tokenizers.Split(Regex("."), "isolated")])
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=max_length)
    fast.save_pretrained(folder)
    return len(vocab)


def _t5_encoder(kind: str, vocab: int, width: int, layers: int, heads: int, ff: int) -> torch.nn.Module:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_cls, model_cls = (UMT5Config, UMT5EncoderModel) if kind == "umt5" else (T5Config, T5EncoderModel)
    config = config_cls(vocab_size=vocab, d_model=width, d_kv=width // heads, d_ff=ff, num_layers=layers,
                        num_heads=heads, relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1,
                        decoder_start_token_id=0)
    return model_cls(config)


def _save_pipeline(folder: Path, class_name: str, modules: dict[str, tuple[str, str, object]]) -> Path:
    """Save ``name -> (library, class, object)`` into subfolders and write ``model_index.json``."""
    index: dict[str, object] = {"_class_name": class_name}
    for name, (library, cls, obj) in modules.items():
        if obj is not None:
            obj.save_pretrained(folder / name)
        index[name] = [library, cls]
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))
    return folder


def save_random_wan(folder: str | Path, size: Literal["tiny", "full"] = "tiny", seed: int = 0) -> Path:
    """Write a random model in the ``WanPipeline`` layout to ``folder`` and return its path.

    ``"tiny"``: VAE factors 8 (space) and 4 (time, causal first frame) with 4 latent
    channels and 8-wide blocks, a 2-layer transformer (patch 1x2x2), a 1-layer UMT5 encoder.
    ``"full"``: Wan 2.1 T2V 1.3B's transformer and Wan's VAE; the UMT5 encoder keeps the
    real width (4096) with 2 layers (it runs once per clip). Seeded by ``seed``.
    """
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    vocab = _write_t5_tokenizer(folder / "tokenizer", max_length=512)
    if size == "tiny":
        vae = AutoencoderKLWan(base_dim=8, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                               temperal_downsample=[False, True, True], latents_mean=[0.1, -0.2, 0.3, 0.0],
                               latents_std=[1.5, 0.8, 1.2, 1.0])
        transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                            in_channels=4, out_channels=4, text_dim=16, freq_dim=32, ffn_dim=32,
                                            num_layers=2, rope_max_seq_len=32)
        text = _t5_encoder("umt5", vocab, width=16, layers=1, heads=2, ff=32)
    elif size == "full":
        vae = AutoencoderKLWan()
        transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128,
                                            in_channels=16, out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960,
                                            num_layers=30, cross_attn_norm=True, qk_norm="rms_norm_across_heads")
        text = _t5_encoder("umt5", vocab, width=4096, layers=2, heads=64, ff=10240)
    else:
        raise ValueError(f"size must be 'tiny' or 'full'; got {size!r}")
    return _save_pipeline(folder, "WanPipeline", {
        "transformer": ("diffusers", "WanTransformer3DModel", transformer),
        "vae": ("diffusers", "AutoencoderKLWan", vae),
        "text_encoder": ("transformers", "UMT5EncoderModel", text),
        "tokenizer": ("transformers", "T5TokenizerFast", None),
        "scheduler": ("diffusers", "UniPCMultistepScheduler", UniPCMultistepScheduler(**WAN_SCHEDULER)),
    })


def save_random_ltx(folder: str | Path, size: Literal["tiny", "full"] = "tiny", seed: int = 0) -> Path:
    """Write a random model in the ``LTXPipeline`` layout to ``folder`` and return its path.

    ``"tiny"``: VAE factors 32 (space: patch 4 and three scaling blocks) and 8 (time) with 8
    latent channels, a 1-layer transformer, a 1-layer T5 encoder. ``"full"``: LTX-Video
    0.9's transformer and VAE, a 2-layer T5 encoder of the real width. Seeded by ``seed``.
    """
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXVideoTransformer3DModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    vocab = _write_t5_tokenizer(folder / "tokenizer", max_length=128)
    if size == "tiny":
        vae = AutoencoderKLLTXVideo(
            latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=(True, True, True, False), decoder_spatio_temporal_scaling=(True, True, True, False),
            decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
            timestep_conditioning=False, patch_size=4, patch_size_t=1, encoder_causal=True, decoder_causal=False,
        )
        # Non-trivial normalisation, so that a backend that ignores it would be caught.
        vae.latents_mean.copy_(torch.linspace(-0.3, 0.3, 8))
        vae.latents_std.copy_(torch.linspace(0.5, 1.5, 8))
        transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                                 num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
                                                 num_layers=1, caption_channels=16)
        text = _t5_encoder("t5", vocab, width=16, layers=1, heads=2, ff=32)
    elif size == "full":
        vae = AutoencoderKLLTXVideo()
        transformer = LTXVideoTransformer3DModel()
        text = _t5_encoder("t5", vocab, width=4096, layers=2, heads=64, ff=10240)
    else:
        raise ValueError(f"size must be 'tiny' or 'full'; got {size!r}")
    return _save_pipeline(folder, "LTXPipeline", {
        "transformer": ("diffusers", "LTXVideoTransformer3DModel", transformer),
        "vae": ("diffusers", "AutoencoderKLLTXVideo", vae),
        "text_encoder": ("transformers", "T5EncoderModel", text),
        "tokenizer": ("transformers", "T5TokenizerFast", None),
        "scheduler": ("diffusers", "FlowMatchEulerDiscreteScheduler", FlowMatchEulerDiscreteScheduler(**LTX_SCHEDULER)),
    })


def save_random_cogvideox(folder: str | Path, size: Literal["tiny", "full"] = "tiny", seed: int = 0) -> Path:
    """Write a random model in the ``CogVideoXPipeline`` layout to ``folder`` and return its path.

    ``"tiny"``: VAE factors 8 (space) and 4 (time) with 4 latent channels, a 1-layer
    transformer (patch 2, rotary embeddings, 16 text tokens), a 1-layer T5 encoder.
    ``"full"``: CogVideoX-2b's transformer and VAE, a 2-layer T5 encoder of the real
    width. Seeded by ``seed``.
    """
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXTransformer3DModel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if size == "tiny":
        text_tokens = 16
        vocab = _write_t5_tokenizer(folder / "tokenizer", max_length=text_tokens)
        vae = AutoencoderKLCogVideoX(block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1,
                                     norm_num_groups=2, temporal_compression_ratio=4, sample_height=32,
                                     sample_width=48, scaling_factor=0.7)
        transformer = CogVideoXTransformer3DModel(
            num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, time_embed_dim=8,
            text_embed_dim=16, num_layers=1, sample_width=6, sample_height=4, sample_frames=9, patch_size=2,
            temporal_compression_ratio=4, max_text_seq_length=text_tokens, use_rotary_positional_embeddings=True,
        )
        text = _t5_encoder("t5", vocab, width=16, layers=1, heads=2, ff=32)
    elif size == "full":
        vocab = _write_t5_tokenizer(folder / "tokenizer", max_length=226)
        vae = AutoencoderKLCogVideoX()
        transformer = CogVideoXTransformer3DModel()
        text = _t5_encoder("t5", vocab, width=4096, layers=2, heads=64, ff=10240)
    else:
        raise ValueError(f"size must be 'tiny' or 'full'; got {size!r}")
    return _save_pipeline(folder, "CogVideoXPipeline", {
        "transformer": ("diffusers", "CogVideoXTransformer3DModel", transformer),
        "vae": ("diffusers", "AutoencoderKLCogVideoX", vae),
        "text_encoder": ("transformers", "T5EncoderModel", text),
        "tokenizer": ("transformers", "T5TokenizerFast", None),
        "scheduler": ("diffusers", "CogVideoXDDIMScheduler", CogVideoXDDIMScheduler(**COGVIDEOX_SCHEDULER)),
    })


#: ``save_random_<backend>`` by backend name.
RANDOM_MODELS = {"zeroscope": save_random_zeroscope, "wan": save_random_wan, "ltx": save_random_ltx,
                 "cogvideox": save_random_cogvideox}
