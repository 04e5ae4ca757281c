#!/usr/bin/env python3
"""References for single-file (A1111 / LDM layout) checkpoints, issue 11 item 3.

A1111 and ComfyUI users keep checkpoints as one .safetensors file in the original (LDM / SGM)
naming: model.diffusion_model.* (the UNet), first_stage_model.* (the VAE), and the text
encoders as cond_stage_model.transformer.* (OpenAI CLIP, SD 1.x), cond_stage_model.model.*
(OpenCLIP, SD 2.x) or conditioner.embedders.{0,1}.* (SDXL). Such a file says nothing about
what its tensors' shapes cannot tell: head counts, group-norm groups, the scheduler. Loaders
(diffusers' from_single_file, A1111, ComfyUI) take those from the family's published configs.
So the tiny models here follow the real families' conventions wherever a shape cannot say:
32 group-norm groups; CLIP attention heads of 64 channels; SD 1.x UNets with 8 heads, SD 2.x
and SDXL UNets with 64-channel heads; SD 2.x reading its OpenCLIP encoder's penultimate layer
(the file holds one layer more than diffusers' text encoder); SDXL's 256-wide time-id
embedding. Everything else (widths, depths, block layout, encoder sizes) is what the shapes
say, as small as the conventions allow.

  tests/fixtures/models/tiny-ldm-sd15.safetensors    SD 1.x: CLIP ViT-L-like encoder, epsilon
  tests/fixtures/models/tiny-ldm-sd2-v.safetensors   SD 2.x: OpenCLIP-like encoder, v-prediction
                                                     (said by the ModelSpec metadata key
                                                     modelspec.prediction_type = "v")
  tests/fixtures/models/tiny-ldm-sdxl.safetensors    SDXL base: CLIP-L-like + OpenCLIP-bigG-like
  tests/fixtures/models/tiny-ldm-*.diffusers.json    what diffusers reads from each file: every
                                                     component's config, weight names and shapes
  tests/fixtures/golden/tiny-ldm-*/                  cases.json + pipelines.safetensors
                                                     (layout: tests/fixtures/README.md)

The weights are float16, as most published checkpoints are. Each file is written here from a
seeded random diffusers model in the LDM names, then read back by diffusers' own
from_single_file (with the model's diffusers config folder, made in a temporary directory, as
its `config`): the script checks that every weight diffusers loads equals the folder model's
bit for bit and that the pipeline from the file draws exactly the folder pipeline's pictures.
The references are the from_single_file pipeline's generations (two schedulers per model).

Run from the repository root with the venv of tools/references/requirements.txt:
  /tmp/refs/bin/python tools/references/single_file.py
It rewrites the files above bit for bit.
"""
import json
import pathlib
import re
import tempfile

import numpy as np
import torch
from diffusers import (AutoencoderKL, DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                       EulerDiscreteScheduler, PNDMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline,
                       UNet2DConditionModel)
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from golden_sets import FIXTURES, ROOT, StepRecorder, write_golden

SCHEDULERS = {
    "ddim": (DDIMScheduler, {}),
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
}
PROMPT = "a photo of a cat"
NEGATIVE = "blurry, low quality"
SIZE = 64


# ---------------------------------------------------------------- tiny models, real conventions

def half_exact(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Seeded random weights, each a float16 value held in float32, so that the float16 file and
    the float32 folder model are the same numbers."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias") or "norm" in name:
                base = 1.0 if (name.endswith("weight") and "norm" in name) else 0.0
                p.copy_(base + 0.05 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = max(1, p[0].numel()) if p.dim() > 1 else p.shape[0]
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
            p.copy_(p.half().float())
    return module.eval()


def clip_l(hidden: int, layers: int, seed: int) -> CLIPTextModel:
    """OpenAI CLIP ViT-L/14's text tower shape: quick_gelu, 64-channel heads, 77 positions."""
    config = CLIPTextConfig(vocab_size=49408, hidden_size=hidden, intermediate_size=4 * hidden,
                            num_hidden_layers=layers, num_attention_heads=hidden // 64, max_position_embeddings=77,
                            hidden_act="quick_gelu", layer_norm_eps=1e-5, bos_token_id=49406, eos_token_id=49407,
                            pad_token_id=1, projection_dim=hidden)
    return half_exact(CLIPTextModel(config), seed)


def open_clip(hidden: int, layers: int, seed: int, with_projection: bool):
    """OpenCLIP ViT-H / bigG's text tower shape, as diffusers' SD 2.x and SDXL configs have it:
    gelu, 64-channel heads, bos 0 / eos 2 (the legacy ids: the pooled token is the argmax id)."""
    config = CLIPTextConfig(vocab_size=49408, hidden_size=hidden, intermediate_size=4 * hidden,
                            num_hidden_layers=layers, num_attention_heads=hidden // 64, max_position_embeddings=77,
                            hidden_act="gelu", layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1,
                            projection_dim=hidden)
    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    return half_exact(cls(config), seed)


def unet(family: str, channels: list, down: list, cross: int, seed: int, **extra) -> UNet2DConditionModel:
    up = [("CrossAttnUpBlock2D" if d.startswith("CrossAttn") else "UpBlock2D") for d in reversed(down)]
    heads = 8 if family == "sd1" else [c // 64 for c in channels]
    model = UNet2DConditionModel(sample_size={"sd1": 64, "sd2": 96, "sdxl": 128}[family], in_channels=4,
                                 out_channels=4, down_block_types=down, up_block_types=up,
                                 block_out_channels=channels, layers_per_block=2, norm_num_groups=32,
                                 cross_attention_dim=cross, attention_head_dim=heads,
                                 use_linear_projection=family != "sd1", **extra)
    return half_exact(model, seed)


def vae(scaling_factor: float, sample_size: int, seed: int) -> AutoencoderKL:
    model = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
                          up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[32, 32, 64, 64],
                          layers_per_block=1, latent_channels=4, norm_num_groups=32, sample_size=sample_size,
                          scaling_factor=scaling_factor)
    return half_exact(model, seed)


def scheduler(cls, prediction_type: str):
    """The published SD 1.x / 2.x / SDXL scheduler configs (all the same training schedule), which
    the worker also assumes for a single file: sd-worker's model/single_file_checkpoint.cpp."""
    return cls.from_config({"beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
                            "num_train_timesteps": 1000, "steps_offset": 1, "timestep_spacing": "leading",
                            "clip_sample": False, "set_alpha_to_one": False, "skip_prk_steps": True,
                            "prediction_type": prediction_type})


def tokenizer(pad: str) -> CLIPTokenizer:
    """The CLIP tokenizer; SD 2.x and SDXL's second one pad with "!" (id 0), CLIP-L's with its eos."""
    t = CLIPTokenizer.from_pretrained(ROOT / "models/sd-shapes/tokenizer")
    t.pad_token = pad
    return t


# ---------------------------------------------------------------- diffusers names -> LDM names

RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0", "conv2": "out_layers.3",
          "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection"}
UNET_TOP = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
            "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
            "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2"}


def resnet_rest(rest: str) -> str:
    head, _, tail = rest.partition(".")
    return RESNET[head] + "." + tail


def ldm_unet(model: UNet2DConditionModel) -> dict:
    per = model.config.layers_per_block + 1
    up_has_attention = {b: hasattr(block, "attentions") for b, block in enumerate(model.up_blocks)}
    out = {}
    for key, value in model.state_dict().items():
        m = re.match(r"(\w+)\.(\d+)\.(resnets|attentions|downsamplers|upsamplers)\.(\d+)\.(.*)", key)
        if key.rsplit(".", 1)[0] in UNET_TOP:
            name = UNET_TOP[key.rsplit(".", 1)[0]] + "." + key.rsplit(".", 1)[1]
        elif m and m.group(1) == "down_blocks":
            b, kind, j, rest = int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
            if kind == "resnets":
                name = f"input_blocks.{1 + b * per + j}.0.{resnet_rest(rest)}"
            elif kind == "attentions":
                name = f"input_blocks.{1 + b * per + j}.1.{rest}"
            else:
                name = f"input_blocks.{1 + b * per + per - 1}.0.op.{rest.removeprefix('conv.')}"
        elif m and m.group(1) == "up_blocks":
            b, kind, j, rest = int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
            if kind == "resnets":
                name = f"output_blocks.{b * per + j}.0.{resnet_rest(rest)}"
            elif kind == "attentions":
                name = f"output_blocks.{b * per + j}.1.{rest}"
            else:
                name = f"output_blocks.{b * per + per - 1}.{2 if up_has_attention[b] else 1}.{rest}"
        elif key.startswith("mid_block.resnets."):
            k, rest = key.split(".", 3)[2:]
            name = f"middle_block.{2 * int(k)}.{resnet_rest(rest)}"
        elif key.startswith("mid_block.attentions.0."):
            name = "middle_block.1." + key.removeprefix("mid_block.attentions.0.")
        else:
            raise KeyError(key)
        out["model.diffusion_model." + name] = value
    return out


def ldm_vae(model: AutoencoderKL) -> dict:
    n = len(model.config.block_out_channels)
    attention = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}
    out = {}
    for key, value in model.state_dict().items():
        name = key.replace("conv_norm_out", "norm_out")
        m = re.match(r"(encoder|decoder)\.(down_blocks|up_blocks)\.(\d+)\.(resnets|downsamplers|upsamplers)\.(\d+)\.(.*)",
                     key)
        if m:
            coder, blocks, i, kind, j, rest = m.groups()
            i = int(i) if blocks == "down_blocks" else n - 1 - int(i)
            where = "down" if blocks == "down_blocks" else "up"
            if kind == "resnets":
                name = f"{coder}.{where}.{i}.block.{j}.{rest.replace('conv_shortcut', 'nin_shortcut')}"
            else:
                name = f"{coder}.{where}.{i}.{'downsample' if kind == 'downsamplers' else 'upsample'}.{rest}"
        elif ".mid_block.resnets." in key:
            coder, _, _, k, rest = key.split(".", 4)
            name = f"{coder}.mid.block_{int(k) + 1}.{rest.replace('conv_shortcut', 'nin_shortcut')}"
        elif ".mid_block.attentions.0." in key:
            coder, rest = key.split(".mid_block.attentions.0.")
            layer, param = rest.rsplit(".", 1)
            name = f"{coder}.mid.attn_1.{attention[layer]}.{param}"
            if value.dim() == 2:  # LDM's attention projections are 1x1 convolutions
                value = value[:, :, None, None]
        out["first_stage_model." + name] = value
    return out


def ldm_clip(model: CLIPTextModel, prefix: str) -> dict:
    """OpenAI CLIP keeps transformers' names (in transformers 4's text_model. layout), and the
    position_ids buffer real files carry."""
    out = {prefix + "text_model." + k.removeprefix("text_model."): v for k, v in model.state_dict().items()}
    out[prefix + "text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.int64)[None]
    return out


def ldm_open_clip(model, prefix: str, extra_layer_seed=None) -> dict:
    """OpenCLIP's names: fused q/k/v in_proj, ln_1/ln_2, mlp.c_fc/c_proj, positional_embedding,
    text_projection as the matrix text features are multiplied by (the Linear weight transposed).
    extra_layer_seed: append one more resblock (SD 2.x files hold 24 where diffusers reads 23)."""
    sd = {k.removeprefix("text_model."): v for k, v in model.state_dict().items()}
    hidden = model.config.hidden_size
    out = {prefix + "token_embedding.weight": sd.pop("embeddings.token_embedding.weight"),
           prefix + "positional_embedding": sd.pop("embeddings.position_embedding.weight"),
           prefix + "ln_final.weight": sd.pop("final_layer_norm.weight"),
           prefix + "ln_final.bias": sd.pop("final_layer_norm.bias")}
    projection = sd.pop("text_projection.weight", None)
    gen = torch.Generator().manual_seed(extra_layer_seed or 0)
    out[prefix + "text_projection"] = (projection.T.contiguous() if projection is not None else
                                       (torch.randn(hidden, hidden, generator=gen) / hidden ** 0.5).half().float())
    layers = model.config.num_hidden_layers
    for k in range(layers):
        p, r = f"encoder.layers.{k}.", f"{prefix}transformer.resblocks.{k}."
        for param in ("weight", "bias"):
            out[r + f"attn.in_proj_{param}"] = torch.cat([sd.pop(p + f"self_attn.{x}_proj.{param}") for x in "qkv"])
            out[r + f"attn.out_proj.{param}"] = sd.pop(p + f"self_attn.out_proj.{param}")
            out[r + f"ln_1.{param}"] = sd.pop(p + f"layer_norm1.{param}")
            out[r + f"ln_2.{param}"] = sd.pop(p + f"layer_norm2.{param}")
            out[r + f"mlp.c_fc.{param}"] = sd.pop(p + f"mlp.fc1.{param}")
            out[r + f"mlp.c_proj.{param}"] = sd.pop(p + f"mlp.fc2.{param}")
    if extra_layer_seed is not None:
        template = {k.replace(f"resblocks.{layers - 1}.", f"resblocks.{layers}."): v
                    for k, v in out.items() if f"resblocks.{layers - 1}." in k}
        for k, v in template.items():
            out[k] = (torch.randn(v.shape, generator=gen) * 0.05).half().float()
    assert not sd, f"unmapped: {sorted(sd)}"
    return out


def write_single_file(name: str, tensors: dict, metadata: dict) -> pathlib.Path:
    path = FIXTURES / "models" / f"{name}.safetensors"
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in sorted(tensors.items())},
              str(path), metadata=metadata)
    path.chmod(0o644)
    print(f"{path.relative_to(ROOT)}: {len(tensors)} tensors, {path.stat().st_size} bytes")
    return path


def write_diffusers_view(path: pathlib.Path, pipe):
    """<file>.diffusers.json: what diffusers makes of the file, for the loader's tests: each
    component's config and its weights' names and shapes."""
    view = {}
    for name, component in pipe.components.items():
        if isinstance(component, torch.nn.Module):
            config = component.config.to_dict() if hasattr(component.config, "to_dict") else dict(component.config)
            view[name] = {"config": json.loads(json.dumps(config, default=str)),
                          "weights": {k: list(v.shape) for k, v in component.state_dict().items()}}
    view["scheduler"] = {"config": json.loads(json.dumps(dict(pipe.scheduler.config), default=str))}
    out = path.with_suffix(".diffusers.json")
    out.write_text(json.dumps(view, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------- checks and references

def check_same_weights(folder_pipe, file_pipe):
    for name, component in folder_pipe.components.items():
        if not isinstance(component, torch.nn.Module):
            continue
        expected = component.state_dict()
        loaded = file_pipe.components[name].state_dict()
        assert expected.keys() == loaded.keys(), f"{name}: {set(expected) ^ set(loaded)}"
        for key, value in expected.items():
            assert torch.equal(value, loaded[key].to(value.dtype)), f"{name}.{key} differs"


def run_case(pipe, case: dict, tensors: dict):
    cls, extra = SCHEDULERS[case["scheduler"]]
    pipe.scheduler = cls.from_config(pipe.scheduler.config, **extra)
    recorder = StepRecorder()
    image = pipe(prompt=case["prompt"], negative_prompt=case["negative_prompt"], height=case["height"],
                 width=case["width"], num_inference_steps=case["steps"], guidance_scale=case["guidance_scale"],
                 generator=torch.Generator("cpu").manual_seed(case["seed"]), output_type="np",
                 callback_on_step_end=recorder).images
    name = case["name"]
    tensors[f"{name}.image"] = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    tensors[f"{name}.step_latents"] = torch.stack(recorder.latents).contiguous()
    tensors[f"{name}.timesteps"] = pipe.scheduler.timesteps.to(torch.float32).contiguous()


def cases_for(pipeline: str, schedulers: list) -> list:
    return [{"name": f"txt2img.{s}", "pipeline": pipeline, "scheduler": s, "prompt": PROMPT,
             "negative_prompt": NEGATIVE, "height": SIZE, "width": SIZE, "steps": 4, "guidance_scale": 7.0,
             "seed": 42 + i} for i, s in enumerate(schedulers)]


def reference(name: str, pipe_cls, folder_pipe, file_path: pathlib.Path, pipeline: str, schedulers: list):
    with tempfile.TemporaryDirectory() as tmp:
        folder_pipe.save_pretrained(tmp)  # the diffusers config folder from_single_file reads
        file_pipe = pipe_cls.from_single_file(str(file_path), config=tmp, torch_dtype=torch.float32,
                                              local_files_only=True)
    check_same_weights(folder_pipe, file_pipe)
    write_diffusers_view(file_path, file_pipe)
    for pipe in (folder_pipe, file_pipe):
        pipe.set_progress_bar_config(disable=True)
    cases, tensors = cases_for(pipeline, schedulers), {}
    for case in cases:
        run_case(file_pipe, case, tensors)
        folder = {}
        run_case(folder_pipe, case, folder)
        assert torch.equal(folder[f"{case['name']}.image"], tensors[f"{case['name']}.image"]), case["name"]
    write_golden(name, file_path.name, cases, tensors)


def sd15():
    te = clip_l(64, 2, seed=1)
    net = unet("sd1", [32, 64, 64], ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"], 64, seed=2)
    ae = vae(0.18215, 512, seed=3)
    pipe = StableDiffusionPipeline(vae=ae, text_encoder=te, tokenizer=tokenizer("<|endoftext|>"), unet=net,
                                   scheduler=scheduler(PNDMScheduler, "epsilon"), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    tensors = {**ldm_unet(net), **ldm_vae(ae), **ldm_clip(te, "cond_stage_model.transformer.")}
    path = write_single_file("tiny-ldm-sd15", tensors, {"format": "pt"})
    reference("tiny-ldm-sd15", StableDiffusionPipeline, pipe, path, "txt2img", ["ddim", "euler_a"])


def sd2_v():
    net = unet("sd2", [64, 64], ["CrossAttnDownBlock2D", "DownBlock2D"], 64, seed=12)
    ae = vae(0.18215, 768, seed=13)
    # SD 2.x reads its encoder's penultimate layer: the file holds 24 resblocks, diffusers' text
    # encoder 23 (its conversion drops resblock 23 and the projection by name).
    te = open_clip(64, 23, seed=11, with_projection=False)
    pipe = StableDiffusionPipeline(vae=ae, text_encoder=te, tokenizer=tokenizer("!"), unet=net,
                                   scheduler=scheduler(DDIMScheduler, "v_prediction"), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    tensors = {**ldm_unet(net), **ldm_vae(ae), **ldm_open_clip(te, "cond_stage_model.model.", extra_layer_seed=14)}
    # One metadata key: safetensors writes several in hash order, which would change the bytes.
    path = write_single_file("tiny-ldm-sd2-v", tensors, {"modelspec.prediction_type": "v"})
    reference("tiny-ldm-sd2-v", StableDiffusionPipeline, pipe, path, "txt2img", ["euler", "dpmpp_2m_karras"])


def sdxl():
    te = clip_l(64, 2, seed=21)
    # Two widths, as ViT-L's 768 and bigG's 1280: diffusers tells the encoders apart by width.
    te2 = open_clip(128, 3, seed=22, with_projection=True)
    net = unet("sdxl", [64, 64], ["DownBlock2D", "CrossAttnDownBlock2D"], 64 + 128, seed=23,
               transformer_layers_per_block=2, addition_embed_type="text_time", addition_time_embed_dim=256,
               projection_class_embeddings_input_dim=128 + 6 * 256)
    ae = vae(0.13025, 1024, seed=24)
    pipe = StableDiffusionXLPipeline(vae=ae, text_encoder=te, text_encoder_2=te2, tokenizer=tokenizer("<|endoftext|>"),
                                     tokenizer_2=tokenizer("!"), unet=net,
                                     scheduler=scheduler(EulerDiscreteScheduler, "epsilon"))
    tensors = {**ldm_unet(net), **ldm_vae(ae), **ldm_clip(te, "conditioner.embedders.0.transformer."),
               **ldm_open_clip(te2, "conditioner.embedders.1.model.")}
    path = write_single_file("tiny-ldm-sdxl", tensors, {"format": "pt"})
    reference("tiny-ldm-sdxl", StableDiffusionXLPipeline, pipe, path, "sdxl txt2img", ["euler", "ddim"])


def main():
    torch.manual_seed(0)
    sd15()
    sd2_v()
    sdxl()


if __name__ == "__main__":
    main()
