"""Randomly initialised video generators in the diffusers layout, for tests without weights.

:func:`save_random_generator` writes a tiny pipeline folder (``model_index.json`` plus one
subfolder per component) of a generator family, built from configs the way diffusers'
own tests build dummy components (``get_dummy_components``), with seeded random weights:

* ``"zeroscope"``: :func:`s2vg.inpaint.diffusion.backends.random_init.save_random_zeroscope`
  (``TextToVideoSDPipeline``; text-to-video only).
* ``"wan"``: ``WanPipeline`` / ``WanImageToVideoPipeline`` (UMT5 text encoder, 3D causal
  VAE with 8x spatial and 4x temporal compression, flow matching). The image-to-video
  variant has the Wan 2.1 layout: a transformer taking 36 channels (noise, mask and the
  image latents) and a CLIP vision encoder.
* ``"ltx"``: ``LTXPipeline`` / ``LTXImageToVideoPipeline`` (T5, the LTX VAE, flow
  matching); both classes share one set of weights, as the real LTX-Video does.
* ``"cogvideox"``: ``CogVideoXPipeline`` / ``CogVideoXImageToVideoPipeline`` (T5, the
  CogVideoX VAE, DDIM v-prediction); the image-to-video transformer takes 2x the latent
  channels (noise and image latents).

The T5 tokenizer is a Unigram tokenizer over a small character vocabulary written on the
spot (no download); it tokenises any lower-case prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch

GeneratorFamily = Literal["zeroscope", "wan", "ltx", "cogvideox"]
_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789,.-'!?"
#: Width of the tiny text encoders' hidden states.
_TEXT_DIM = 32


def _t5_tokenizer():
    from transformers import T5Tokenizer

    # Unigram scores: a word-initial piece is likelier than a bare character.
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    vocab += [(c, -3.0) for c in _CHARS] + [("\u2581" + c, -2.5) for c in _CHARS]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def _t5_encoder(vocab_size: int, umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    options = dict(vocab_size=vocab_size, d_model=_TEXT_DIM, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                   relative_attention_num_buckets=8, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
                   decoder_start_token_id=0)
    if umt5:
        return UMT5EncoderModel(UMT5Config(**options))
    return T5EncoderModel(T5Config(**options))


def _wan(image_to_video: bool):
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline
    from diffusers import WanTransformer3DModel

    tokenizer = _t5_tokenizer()
    text_encoder = _t5_encoder(len(tokenizer), umt5=True)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    scheduler = FlowMatchEulerDiscreteScheduler(shift=7.0)
    common = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, out_channels=16,
                  text_dim=_TEXT_DIM, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                  qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    if not image_to_video:
        transformer = WanTransformer3DModel(in_channels=16, **common)
        return WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                           transformer=transformer)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    transformer = WanTransformer3DModel(in_channels=36, image_dim=4, **common)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=1))
    image_processor = CLIPImageProcessor(crop_size=32, size=32)
    return WanImageToVideoPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                                   image_encoder=image_encoder, image_processor=image_processor,
                                   transformer=transformer)


def _ltx(image_to_video: bool):
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXImageToVideoPipeline
    from diffusers import LTXPipeline, LTXVideoTransformer3DModel

    tokenizer = _t5_tokenizer()
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=4, attention_head_dim=8,
                                             cross_attention_dim=32, num_layers=1, caption_channels=_TEXT_DIM)
    # Encoder and decoder both scale by 8 in space and time (the real LTX VAE: 32 and 8).
    scaling = (True, True, True, False)
    vae = AutoencoderKLLTXVideo(latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                                spatio_temporal_scaling=scaling, decoder_spatio_temporal_scaling=scaling,
                                layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
                                decoder_inject_noise=(False,) * 5, patch_size=1, patch_size_t=1,
                                encoder_causal=True, decoder_causal=False)
    cls = LTXImageToVideoPipeline if image_to_video else LTXPipeline
    return cls(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_t5_encoder(len(tokenizer)),
               tokenizer=tokenizer, transformer=transformer)


def _cogvideox(image_to_video: bool):
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline
    from diffusers import CogVideoXPipeline, CogVideoXTransformer3DModel

    tokenizer = _t5_tokenizer()
    # The I2V layout (CogVideoX-5b-I2V) has learned positional embeddings, which fix the
    # latent size to sample_height x sample_width: 4 x 4 latents = 32 x 32 pixels here.
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8 if image_to_video else 4, out_channels=4,
        time_embed_dim=2, text_embed_dim=_TEXT_DIM, num_layers=1, sample_width=4, sample_height=4, sample_frames=9,
        patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226,
        use_rotary_positional_embeddings=image_to_video, use_learned_positional_embeddings=image_to_video,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )
    scheduler = CogVideoXDDIMScheduler(prediction_type="v_prediction", timestep_spacing="trailing",
                                       rescale_betas_zero_snr=True, set_alpha_to_one=True, clip_sample=False,
                                       snr_shift_scale=1.0)
    cls = CogVideoXImageToVideoPipeline if image_to_video else CogVideoXPipeline
    return cls(tokenizer=tokenizer, text_encoder=_t5_encoder(len(tokenizer)), vae=vae, transformer=transformer,
               scheduler=scheduler)


def save_random_generator(folder: str | Path, family: GeneratorFamily, image_to_video: bool = False,
                          seed: int = 0) -> Path:
    """Write a tiny random generator of ``family`` to ``folder`` and return its path.

    Args:
        folder: where to write (created).
        family: ``"zeroscope"``, ``"wan"``, ``"ltx"`` or ``"cogvideox"``.
        image_to_video: write the family's image-to-video pipeline; defaults to False.
        seed: seed of the random weights; defaults to 0.

    Raises:
        ValueError: an unknown family, or image-to-video for ``"zeroscope"``.
    """
    folder = Path(folder)
    if family == "zeroscope":
        if image_to_video:
            raise ValueError("the Zeroscope format has no image-to-video pipeline")
        from s2vg.inpaint.diffusion.backends.random_init import save_random_zeroscope

        return save_random_zeroscope(folder, size="tiny", seed=seed)
    builders = {"wan": _wan, "ltx": _ltx, "cogvideox": _cogvideox}
    if family not in builders:
        raise ValueError(f"family must be one of zeroscope, {', '.join(builders)}; got {family!r}")
    torch.manual_seed(seed)
    pipe = builders[family](image_to_video)
    folder.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(folder)
    return folder
