#!/usr/bin/env python3
"""References for few-step models (SD-Turbo, SDXL-Turbo, SDXL-Lightning style), issue 11 item 2.

Few-step checkpoints are ordinary SD / SDXL networks whose scheduler config asks for
`timestep_spacing: trailing` (the grid starts at the last training timestep, so one step
denoises from pure noise) and which run at guidance 0 or 1: one UNet pass per step, no
unconditional batch. This makes two tiny models of that kind from the committed tiny ones
and diffusers' generations for them:

  tests/fixtures/models/tiny-sd-turbo/    tiny-sd's networks (symlinked), SDXL-Turbo's
  tests/fixtures/models/tiny-sdxl-turbo/  scheduler config: EulerAncestralDiscreteScheduler,
                                          trailing spacing (on top of the model's own)
  tests/fixtures/golden/tiny-sd-turbo/    cases.json + pipelines.safetensors, in the layout
  tests/fixtures/golden/tiny-sdxl-turbo/  of tests/fixtures (README there): per case
                                          <case>.image (float32 NHWC in [0, 1]),
                                          <case>.step_latents, <case>.timesteps

Cases: Euler-ancestral (Turbo) at 1, 2 and 4 steps and Euler (Lightning) at 4 steps, all at
guidance 0; on tiny-sd also guidance 1 (still unguided) and 1.5 with a negative prompt (the
guided end of what these models take), and an img2img at strength 0.5 over 2 steps. Every
scheduler is the named class built from the model's scheduler config, as a user picking it
would get; all noise comes from one torch CPU generator seeded with the case's seed.

Run from the repository root with the venv of tools/references/requirements.txt:
  /tmp/refs/bin/python tools/references/few_step.py
It rewrites the files above bit for bit (the model folders' weights are not copied).
"""
import json
import pathlib

import numpy as np
import PIL.Image
import torch
from diffusers import (EulerAncestralDiscreteScheduler, EulerDiscreteScheduler, StableDiffusionImg2ImgPipeline,
                       StableDiffusionPipeline, StableDiffusionXLPipeline)
from safetensors.numpy import load_file

from golden_sets import FIXTURES, StepRecorder, variant_folder, write_golden

SCHEDULERS = {"euler": EulerDiscreteScheduler, "euler_a": EulerAncestralDiscreteScheduler}
PROMPT = "a photo of a cat"


def make_model_folder(base: str, name: str) -> pathlib.Path:
    """A few-step variant of a committed tiny model: same networks, trailing Euler-a scheduler."""
    dst, _ = variant_folder(base, name, {"scheduler": ["diffusers", "EulerAncestralDiscreteScheduler"]},
                            own={"scheduler"})
    base_config = json.loads((FIXTURES / "models" / base / "scheduler/scheduler_config.json").read_text())
    scheduler = EulerAncestralDiscreteScheduler.from_config(base_config, timestep_spacing="trailing")
    scheduler.save_config(dst / "scheduler")
    return dst


def run_case(pipe, case: dict, tensors: dict, init_image=None):
    pipe.scheduler = SCHEDULERS[case["scheduler"]].from_config(pipe.scheduler.config)
    recorder = StepRecorder()
    args = dict(prompt=case["prompt"], negative_prompt=case["negative_prompt"],
                num_inference_steps=case["steps"], guidance_scale=case["guidance_scale"],
                generator=torch.Generator("cpu").manual_seed(case["seed"]), output_type="np",
                callback_on_step_end=recorder)
    if init_image is not None:
        args.update(image=PIL.Image.fromarray(np.ascontiguousarray(init_image.transpose(1, 2, 0))),
                    strength=case["strength"])
    else:
        args.update(height=case["height"], width=case["width"])
    image = pipe(**args).images
    name = case["name"]
    tensors[f"{name}.image"] = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    tensors[f"{name}.step_latents"] = torch.stack(recorder.latents).contiguous()
    tensors[f"{name}.timesteps"] = pipe.scheduler.timesteps.to(torch.float32).contiguous()
    if init_image is not None:
        tensors[f"{name}.init_image"] = torch.from_numpy(np.ascontiguousarray(init_image))


def txt2img_case(scheduler: str, steps: int, guidance: float = 0.0, negative=None, size=64, seed=42) -> dict:
    name = f"txt2img.{scheduler}_{steps}step" + ("s" if steps > 1 else "")
    if guidance != 0.0:
        name += f"_guidance{guidance:g}".replace(".", "_")
    case = {"name": name, "pipeline": "txt2img", "scheduler": scheduler, "prompt": PROMPT,
            "negative_prompt": negative, "height": size, "width": size, "steps": steps,
            "guidance_scale": guidance, "seed": seed}
    return case


def tiny_sd_turbo():
    folder = make_model_folder("tiny-sd", "tiny-sd-turbo")
    pipe = StableDiffusionPipeline.from_pretrained(folder, torch_dtype=torch.float32, safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    cases = [txt2img_case("euler_a", 1), txt2img_case("euler_a", 2), txt2img_case("euler_a", 4),
             txt2img_case("euler", 4), txt2img_case("euler_a", 2, guidance=1.0),
             txt2img_case("euler_a", 4, guidance=1.5, negative="blurry, low quality")]
    tensors = {}
    for case in cases:
        run_case(pipe, case, tensors)

    # img2img at strength 0.5 over 2 steps: one step from the trailing grid's middle. The init
    # image is the committed tiny-sd img2img reference's.
    init = load_file(str(FIXTURES / "golden/tiny-sd/pipelines.safetensors"))["img2img.ddim.init_image"]
    img2img = StableDiffusionImg2ImgPipeline(**pipe.components)
    img2img.set_progress_bar_config(disable=True)
    case = {"name": "img2img.euler_a_2steps", "pipeline": "img2img", "scheduler": "euler_a", "prompt": PROMPT,
            "negative_prompt": None, "steps": 2, "guidance_scale": 0.0, "seed": 7, "strength": 0.5,
            "init_image": "img2img.euler_a_2steps.init_image (uint8 CHW)"}
    run_case(img2img, case, tensors, init_image=init)
    cases.append(case)
    write_golden("tiny-sd-turbo", "tiny-sd-turbo", cases, tensors)


def tiny_sdxl_turbo():
    folder = make_model_folder("tiny-sdxl", "tiny-sdxl-turbo")
    pipe = StableDiffusionXLPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    cases = [txt2img_case("euler_a", 1, size=128), txt2img_case("euler_a", 2, size=128),
             txt2img_case("euler_a", 4, size=128), txt2img_case("euler", 4, size=128)]
    tensors = {}
    for case in cases:
        case["pipeline"] = "sdxl txt2img"
        run_case(pipe, case, tensors)
    write_golden("tiny-sdxl-turbo", "tiny-sdxl-turbo", cases, tensors)


def main():
    torch.manual_seed(0)
    tiny_sd_turbo()
    tiny_sdxl_turbo()


if __name__ == "__main__":
    main()
