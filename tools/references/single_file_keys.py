#!/usr/bin/env python3
"""Full-size single-file layouts, for the loader's tests (issue 11 item 3).

The tiny checkpoints of single_file.py prove the pictures; these prove the loader on the real
families' sizes without a download: for SD 1.5, SD 1.5 inpainting, SD 2.1 base (512 px) and 768 px
(v-prediction), SDXL base and the SDXL refiner, the published diffusers configs (as below) are built on PyTorch's meta device (shapes,
no memory), written in the LDM names by single_file.py's writer, and mapped back by diffusers'
own converters (convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint,
convert_ldm_clip_checkpoint, convert_open_clip_checkpoint), which must give every weight of the
diffusers models with its shape. For SD 1.5 the LDM names must also be the real checkpoint's
(tests/fixtures/keys/sd15-*-original-names.json, the key lists of v1-5-pruned).

  tests/fixtures/keys/ldm-<family>.json   {"checkpoint": {LDM name: shape},
                                           "diffusers": {component: {name: shape}},
                                           "configs": {component: diffusers config}}

Run from the repository root with the venv of tools/references/requirements.txt:
  /tmp/refs/bin/python tools/references/single_file_keys.py
It rewrites the files above bit for bit.
"""
import json

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders.single_file_utils import (convert_ldm_clip_checkpoint, convert_ldm_unet_checkpoint,
                                                 convert_ldm_vae_checkpoint, convert_open_clip_checkpoint)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from golden_sets import FIXTURES
from single_file import ldm_clip, ldm_open_clip, ldm_unet, ldm_vae

KEYS = FIXTURES / "keys"


def unet(**config):
    base = dict(in_channels=4, out_channels=4, layers_per_block=2, norm_num_groups=32)
    with torch.device("meta"):
        return UNet2DConditionModel(**{**base, **config})


def vae(scaling_factor: float, sample_size: int):
    with torch.device("meta"):
        return AutoencoderKL(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
                             up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[128, 256, 512, 512],
                             layers_per_block=2, latent_channels=4, norm_num_groups=32, sample_size=sample_size,
                             scaling_factor=scaling_factor)


def clip(hidden, layers, intermediate, act, open_clip, projection=False):
    config = CLIPTextConfig(vocab_size=49408, hidden_size=hidden, intermediate_size=intermediate,
                            num_hidden_layers=layers, num_attention_heads=hidden // 64, max_position_embeddings=77,
                            hidden_act=act, layer_norm_eps=1e-5, bos_token_id=0 if open_clip else 49406,
                            eos_token_id=2 if open_clip else 49407, pad_token_id=1, projection_dim=hidden)
    with torch.device("meta"):
        return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


CLIP_L = dict(hidden=768, layers=12, intermediate=3072, act="quick_gelu", open_clip=False)
SD_DOWN = ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"]
SD_UP = ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3
XL_DOWN = ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"]
XL_UP = ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"]


def shapes(state: dict, strip_text_model=False) -> dict:
    return {(k.removeprefix("text_model.") if strip_text_model else k): list(v.shape) for k, v in state.items()}


def config_of(model) -> dict:
    """The model's config as JSON, less diffusers' bookkeeping (_use_default_values is a set,
    listed in hash order)."""
    config = model.config.to_dict() if hasattr(model.config, "to_dict") else dict(model.config)
    return {k: v for k, v in json.loads(json.dumps(config, default=str)).items() if k != "_use_default_values"}


def check(name: str, converted: dict, model):
    expected, got = shapes(model.state_dict(), True), shapes(converted, True)
    assert got == expected, f"{name}: {sorted(set(got) ^ set(expected))[:8]}"


def family(name: str, unet_model, vae_model, encoders: list):
    """encoders: (component, model, LDM prefix, 'clip' | 'open_clip', extra resblock stored)"""
    checkpoint = {**ldm_unet(unet_model), **ldm_vae(vae_model)}
    check(f"{name} unet", convert_ldm_unet_checkpoint(checkpoint, unet_model.config), unet_model)
    check(f"{name} vae", convert_ldm_vae_checkpoint(checkpoint, vae_model.config), vae_model)
    view = {"unet": unet_model, "vae": vae_model}
    for component, model, prefix, kind, extra_layer in encoders:
        if kind == "clip":
            part = ldm_clip(model, prefix)
            converted = convert_ldm_clip_checkpoint(part, remove_prefix=prefix)
            converted.pop("text_model.embeddings.position_ids", None)
        else:
            part = ldm_open_clip(model, prefix, extra_layer_seed=0 if extra_layer else None)
            converted = convert_open_clip_checkpoint(model, part, prefix=prefix)
        check(f"{name} {component}", converted, model)
        checkpoint.update(part)
        view[component] = model
    out = {"checkpoint": shapes(checkpoint),
           "diffusers": {c: shapes(m.state_dict()) for c, m in view.items()},
           "configs": {c: config_of(m) for c, m in view.items()}}
    path = KEYS / f"ldm-{name}.json"
    path.write_text(json.dumps(out, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"{path.relative_to(FIXTURES.parent.parent)}: {len(checkpoint)} tensors")
    return checkpoint


def main():
    sd15 = family("sd15", unet(block_out_channels=[320, 640, 1280, 1280], down_block_types=SD_DOWN,
                               up_block_types=SD_UP, cross_attention_dim=768, attention_head_dim=8, sample_size=64),
                  vae(0.18215, 512),
                  [("text_encoder", clip(**CLIP_L), "cond_stage_model.transformer.", "clip", False)])
    for part, file in (("model.diffusion_model.", "sd15-unet-original-names.json"),
                       ("first_stage_model.", "sd-vae-original-names.json")):
        real = set(json.loads((KEYS / file).read_text()))
        ours = {k for k in sd15 if k.startswith(part)}
        assert ours == real, f"{file}: {sorted(ours ^ real)[:8]}"

    family("sd15-inpaint", unet(in_channels=9, block_out_channels=[320, 640, 1280, 1280], down_block_types=SD_DOWN,
                                up_block_types=SD_UP, cross_attention_dim=768, attention_head_dim=8, sample_size=64),
           vae(0.18215, 512),
           [("text_encoder", clip(**CLIP_L), "cond_stage_model.transformer.", "clip", False)])

    family("sd21-base", unet(block_out_channels=[320, 640, 1280, 1280], down_block_types=SD_DOWN, up_block_types=SD_UP,
                             cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20], use_linear_projection=True,
                             sample_size=64),
           vae(0.18215, 512),
           [("text_encoder", clip(1024, 23, 4096, "gelu", True), "cond_stage_model.model.", "open_clip", True)])

    family("sd21-v", unet(block_out_channels=[320, 640, 1280, 1280], down_block_types=SD_DOWN, up_block_types=SD_UP,
                          cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20], use_linear_projection=True,
                          sample_size=96),
           vae(0.18215, 768),
           [("text_encoder", clip(1024, 23, 4096, "gelu", True), "cond_stage_model.model.", "open_clip", True)])

    family("sdxl", unet(block_out_channels=[320, 640, 1280], down_block_types=XL_DOWN, up_block_types=XL_UP,
                        cross_attention_dim=2048, attention_head_dim=[5, 10, 20], transformer_layers_per_block=[1, 2, 10],
                        use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
                        projection_class_embeddings_input_dim=2816, sample_size=128),
           vae(0.13025, 1024),
           [("text_encoder", clip(**CLIP_L), "conditioner.embedders.0.transformer.", "clip", False),
            ("text_encoder_2", clip(1280, 32, 5120, "gelu", True, projection=True), "conditioner.embedders.1.model.",
             "open_clip", False)])

    family("sdxl-refiner",
           unet(block_out_channels=[384, 768, 1536, 1536], down_block_types=["DownBlock2D"] + SD_DOWN[1:3] + ["DownBlock2D"],
                up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
                cross_attention_dim=1280, attention_head_dim=[6, 12, 24, 24], transformer_layers_per_block=4,
                use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
                projection_class_embeddings_input_dim=2560, sample_size=128),
           vae(0.13025, 1024),
           [("text_encoder_2", clip(1280, 32, 5120, "gelu", True, projection=True), "conditioner.embedders.0.model.",
             "open_clip", False)])


if __name__ == "__main__":
    main()
