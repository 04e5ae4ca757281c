#!/usr/bin/env python3
"""Reference for the tiled VAE decode (host/pipeline/tiled_vae_decode.h).

diffusers' AutoencoderKL with enable_tiling() decodes latents larger than its tile
(vae sample_size / 2^(len(block_out_channels) - 1) latent pixels) in overlapping tiles
blended together. This decodes seeded random latents of tiny-sd's VAE both ways and
writes tests/fixtures/golden/tiled-vae/tiny-sd.safetensors:
  latents  [1, 4, 20, 28]  float32, seed 0
  tiled    [1, 3, 160, 224] diffusers' tiled decode (the reference the host reproduces)
  whole    [1, 3, 160, 224] the same latents decoded whole (for comparison: tiling differs)

Run from the repository root with the venv of tools/references/requirements.txt:
  /tmp/refs/bin/python tools/references/tiled_vae_decode.py
"""
import pathlib

import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests/fixtures/models/tiny-sd/vae"
OUT = ROOT / "tests/fixtures/golden/tiled-vae/tiny-sd.safetensors"


def main():
    torch.manual_seed(0)
    vae = AutoencoderKL.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    latents = torch.randn(1, vae.config.latent_channels, 20, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole = vae.decode(latents).sample
        vae.enable_tiling()
        tiled = vae.decode(latents).sample
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file({"latents": latents.contiguous(), "tiled": tiled.contiguous(), "whole": whole.contiguous()}, str(OUT),
              metadata={"tile_latent_min_size": str(vae.tile_latent_min_size),
                        "tile_sample_min_size": str(vae.tile_sample_min_size),
                        "tile_overlap_factor": str(vae.tile_overlap_factor)})
    print(f"{OUT.relative_to(ROOT)}: tile {vae.tile_latent_min_size} latent / {vae.tile_sample_min_size} px, "
          f"max |tiled - whole| = {(tiled - whole).abs().max().item():.4f}")


if __name__ == "__main__":
    main()
