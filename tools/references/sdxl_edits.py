#!/usr/bin/env python3
"""References for SDXL image-to-image and inpainting (issue 11 item 1).

diffusers' StableDiffusionXLImg2ImgPipeline and StableDiffusionXLInpaintPipeline on the
committed tiny-sdxl, and the inpaint pipeline on a 9-channel variant of it:

  tests/fixtures/models/tiny-sdxl-inpaint/  tiny-sdxl's encoders, tokenizers, VAE and
                                            scheduler (symlinks) with a UNet of the same
                                            config but 9 input channels (latents, mask,
                                            masked-image latents), random from seed 0, as
                                            SDXL inpainting checkpoints are built
  tests/fixtures/golden/tiny-sdxl-edits/    img2img (euler, dpmpp_2m_karras) and 4-channel
                                            inpaint (euler, euler_a) on tiny-sdxl
  tests/fixtures/golden/tiny-sdxl-inpaint/  9-channel inpaint (euler at strength 1,
                                            dpmpp_2m_karras at 0.7)
  tests/fixtures/models/tiny-sdxl-refiner/  a refiner as SDXL's ships: text_encoder_2,
                                            tokenizer_2, VAE and scheduler of tiny-sdxl
                                            (symlinks), no first encoder, a UNet conditioned
                                            on that encoder alone and on 5 time ids (sizes,
                                            crop and an aesthetic score), random from seed 0;
                                            requires_aesthetics_score, no zeroed negatives
  tests/fixtures/golden/tiny-sdxl-refiner/  img2img on it (euler at strength 0.3 without a
                                            negative prompt, dpmpp_2m_karras at 0.5 with one)

in the layout of tests/fixtures (README there): per case <case>.image (float32 NHWC
in [0, 1]), <case>.step_latents, <case>.timesteps, <case>.init_image (uint8 CHW) and, for
inpainting, <case>.mask (uint8 HW, 255 = repaint). The init image and mask are drawn
here (a gradient with a disc; a rectangle), 128x128 like tiny-sdxl's other cases. Every
scheduler is the named class built from the model's scheduler config; all noise comes
from one torch CPU generator seeded with the case's seed.

Run from the repository root with the venv of tools/references/requirements.txt:
  /tmp/refs/bin/python tools/references/sdxl_edits.py
It rewrites the files above bit for bit.
"""
import json
import os
import pathlib

import numpy as np
import PIL.Image
import torch
from diffusers import (DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler,
                       StableDiffusionXLImg2ImgPipeline, StableDiffusionXLInpaintPipeline, UNet2DConditionModel)
from golden_sets import FIXTURES, StepRecorder, variant_folder, write_golden

SIZE = 128

SCHEDULERS = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
}


def init_image() -> np.ndarray:
    """HWC uint8: a diagonal colour gradient with a light disc left of centre."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
    rgb = np.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.8 - 0.5 * x * y], axis=-1)
    disc = (x - 0.4) ** 2 + (y - 0.5) ** 2 < 0.2 ** 2
    rgb[disc] = [0.95, 0.9, 0.7]
    return np.round(rgb * 255).astype(np.uint8)


def mask_image() -> np.ndarray:
    """HW uint8: 255 (repaint) over a rectangle that cuts through the disc."""
    mask = np.zeros((SIZE, SIZE), dtype=np.uint8)
    mask[32:96, 48:112] = 255
    return mask


def make_variant(name: str, index_changes: dict, unet_changes: dict) -> pathlib.Path:
    """tiny-sdxl with model_index.json entries replaced and a new random UNet (torch seed 0);
    the components it still lists are symlinks to tiny-sdxl's."""
    dst, _ = variant_folder("tiny-sdxl", name, index_changes, own={"unet"})
    config = UNet2DConditionModel.load_config(FIXTURES / "models/tiny-sdxl/unet")
    config.update(unet_changes)
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(config).eval()
    unet.save_pretrained(dst / "unet", safe_serialization=True)
    os.chmod(dst / "unet/diffusion_pytorch_model.safetensors", 0o644)
    return dst


def make_inpaint_model() -> pathlib.Path:
    return make_variant("tiny-sdxl-inpaint", {"_class_name": "StableDiffusionXLInpaintPipeline"}, {"in_channels": 9})


def make_refiner_model() -> pathlib.Path:
    """As stabilityai/stable-diffusion-xl-refiner-1.0 is laid out: the second encoder only, and
    projection_class_embeddings_input_dim = 5 time ids * addition_time_embed_dim + its projection."""
    base = FIXTURES / "models/tiny-sdxl"
    encoder_2 = json.loads((base / "text_encoder_2/config.json").read_text())
    unet = UNet2DConditionModel.load_config(base / "unet")
    return make_variant(
        "tiny-sdxl-refiner",
        {"_class_name": "StableDiffusionXLImg2ImgPipeline", "text_encoder": [None, None], "tokenizer": [None, None],
         "requires_aesthetics_score": True, "force_zeros_for_empty_prompt": False},
        {"cross_attention_dim": encoder_2["hidden_size"],
         "projection_class_embeddings_input_dim": 5 * unet["addition_time_embed_dim"] + encoder_2["projection_dim"]})


def run_case(pipe, case: dict, tensors: dict, image: np.ndarray, mask=None):
    cls, kwargs = SCHEDULERS[case["scheduler"]]
    pipe.scheduler = cls.from_config(pipe.scheduler.config, **kwargs)
    recorder = StepRecorder()
    args = dict(prompt=case["prompt"], negative_prompt=case["negative_prompt"], image=PIL.Image.fromarray(image),
                num_inference_steps=case["steps"], guidance_scale=case["guidance_scale"], strength=case["strength"],
                generator=torch.Generator("cpu").manual_seed(case["seed"]), output_type="np",
                callback_on_step_end=recorder)
    if mask is not None:
        args.update(mask_image=PIL.Image.fromarray(mask), height=SIZE, width=SIZE)
    out = pipe(**args).images
    name = case["name"]
    tensors[f"{name}.image"] = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
    tensors[f"{name}.step_latents"] = torch.stack(recorder.latents).contiguous()
    tensors[f"{name}.timesteps"] = pipe.scheduler.timesteps.to(torch.float32).contiguous()
    tensors[f"{name}.init_image"] = torch.from_numpy(image.transpose(2, 0, 1).copy())
    if mask is not None:
        tensors[f"{name}.mask"] = torch.from_numpy(mask.copy())


def case(operation: str, scheduler: str, strength: float, seed: int, pipeline: str, steps: int = 5,
         negative_prompt="blurry") -> dict:
    c = {"name": f"{operation}.{scheduler}", "pipeline": f"sdxl {operation}", "diffusers_pipeline": pipeline,
         "scheduler": scheduler, "scheduler_kwargs": SCHEDULERS[scheduler][1], "prompt": "a photo of a cat",
         "negative_prompt": negative_prompt, "steps": steps, "guidance_scale": 5.0, "strength": strength, "seed": seed,
         "init_image": f"{operation}.{scheduler}.init_image (uint8 CHW)"}
    if operation == "inpaint":
        c["mask"] = f"{operation}.{scheduler}.mask (uint8 HW, 255 = repaint)"
    return c


def golden_set(name: str, model: str, runs: list, image: np.ndarray):
    """Runs each (pipeline, case, mask or None) on `image` and writes them as golden set `name`."""
    cases, tensors = [], {}
    for pipe, c, mask in runs:
        run_case(pipe, c, tensors, image, mask)
        cases.append(c)
    write_golden(name, model, cases, tensors)


def main():
    image, mask = init_image(), mask_image()

    base = FIXTURES / "models/tiny-sdxl"
    img2img = StableDiffusionXLImg2ImgPipeline.from_pretrained(base, torch_dtype=torch.float32)
    img2img.set_progress_bar_config(disable=True)
    inpaint = StableDiffusionXLInpaintPipeline(**img2img.components)
    inpaint.set_progress_bar_config(disable=True)
    golden_set("tiny-sdxl-edits", "tiny-sdxl", [
        (img2img, case("img2img", "euler", 0.6, 7, "StableDiffusionXLImg2ImgPipeline"), None),
        (img2img, case("img2img", "dpmpp_2m_karras", 0.8, 8, "StableDiffusionXLImg2ImgPipeline"), None),
        (inpaint, case("inpaint", "euler", 1.0, 11, "StableDiffusionXLInpaintPipeline"), mask),
        (inpaint, case("inpaint", "euler_a", 0.7, 12, "StableDiffusionXLInpaintPipeline"), mask)], image)

    inpaint9 = StableDiffusionXLInpaintPipeline.from_pretrained(make_inpaint_model(), torch_dtype=torch.float32)
    inpaint9.set_progress_bar_config(disable=True)
    golden_set("tiny-sdxl-inpaint", "tiny-sdxl-inpaint", [
        (inpaint9, case("inpaint", "euler", 1.0, 21, "StableDiffusionXLInpaintPipeline"), mask),
        (inpaint9, case("inpaint", "dpmpp_2m_karras", 0.7, 22, "StableDiffusionXLInpaintPipeline"), mask)], image)

    # The refiner's aesthetic score conditioning takes diffusers' defaults: 6.0, and 2.5 for
    # the negative rows.
    refiner = StableDiffusionXLImg2ImgPipeline.from_pretrained(make_refiner_model(), torch_dtype=torch.float32)
    refiner.set_progress_bar_config(disable=True)
    refined = [case("img2img", "euler", 0.3, 31, "StableDiffusionXLImg2ImgPipeline", steps=10, negative_prompt=None),
               case("img2img", "dpmpp_2m_karras", 0.5, 32, "StableDiffusionXLImg2ImgPipeline", steps=6)]
    for c in refined:
        c["aesthetic_score"], c["negative_aesthetic_score"] = 6.0, 2.5
    golden_set("tiny-sdxl-refiner", "tiny-sdxl-refiner", [(refiner, c, None) for c in refined], image)


if __name__ == "__main__":
    main()
