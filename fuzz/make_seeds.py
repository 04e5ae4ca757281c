#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/ from the repository's own files.

Seeds are real inputs, small: the models' config.json files, the example configs, the
API's documented requests, tiny PNGs (every colour type, interlacing, text chunks and a
decompression bomb that claims 100000x100000 pixels in a few bytes) and the headers of the
fixture models' safetensors files, cut just after the header. Run from anywhere; it
rewrites only the seeds it names, so regression inputs added by hand stay.
"""
import base64
import json
import os
import struct
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(width, height, color_type, bit_depth=8, interlace=0, rows=None, extra=b""):
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    if rows is None:
        samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
        row_bytes = (width * samples * bit_depth + 7) // 8
        rows = b"".join(b"\0" + bytes((x * 37 + y * 11) & 0xFF for x in range(row_bytes))
                        for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def pngs():
    palette = chunk(b"PLTE", bytes(range(48))) + chunk(b"tRNS", b"\x00\x80")
    return {
        "rgb_8x8.png": png(8, 8, 2),
        "grey_8x8.png": png(8, 8, 0),
        "grey_2bit_8x8.png": png(8, 8, 0, bit_depth=2),
        "rgba_8x8.png": png(8, 8, 6),
        "grey_alpha_8x8.png": png(8, 8, 4),
        "rgb16_4x4.png": png(4, 4, 2, bit_depth=16),
        "palette_trns_8x8.png": png(8, 8, 3, bit_depth=4, extra=palette),
        "interlaced_8x8.png": png(8, 8, 2, interlace=1),
        "text_8x8.png": png(8, 8, 2, extra=chunk(b"tEXt", b"parameters\0a cat, Steps: 20")
                            + chunk(b"zTXt", b"comment\0\0" + zlib.compress(b"x" * 200))
                            + chunk(b"iTXt", "title\0\0\0\0\0caf\u00e9".encode())),
        # Decode bombs: headers far beyond any limit, with a few bytes of data.
        "bomb_100000x100000.png": png(100000, 100000, 2, rows=b"\0" * 64),
        "bomb_1x2000000000.png": png(1, 2000000000, 0, rows=b"\0" * 64),
    }


def safetensors_header(path):
    data = read(path)
    (length,) = struct.unpack("<Q", data[:8])
    return data[: 8 + length]


def main():
    # Model config.json readers: every component of the shipped model and the fixtures.
    for name, path in {
        "sd_shapes_unet.json": "models/sd-shapes/unet/config.json",
        "sd_shapes_vae.json": "models/sd-shapes/vae/config.json",
        "sd_shapes_text_encoder.json": "models/sd-shapes/text_encoder/config.json",
        "sd_shapes_scheduler.json": "models/sd-shapes/scheduler/scheduler_config.json",
        "tiny_sdxl_unet.json": "tests/fixtures/models/tiny-sdxl/unet/config.json",
        "tiny_sdxl_text_encoder_2.json": "tests/fixtures/models/tiny-sdxl/text_encoder_2/config.json",
        "tiny_sd_inpaint_unet.json": "tests/fixtures/models/tiny-sd-inpaint/unet/config.json",
    }.items():
        write("model_config", name, read(path))

    # Config files.
    for name in ["default.json", "cpu-blas.json", "test-arith.json", "torch.json", "vulkan.json"]:
        write("config_file", name, read(os.path.join("config", name)))

    # Safetensors: the fixture models' headers (tensor offsets then run past the end, which
    # the fuzzer shortens or fixes), and a whole small file.
    write("safetensors", "tiny_sd_vae_header.safetensors",
          safetensors_header("tests/fixtures/models/tiny-sd/vae/diffusion_pytorch_model.safetensors"))
    write("safetensors", "tiny_sd_text_encoder_header.safetensors",
          safetensors_header("tests/fixtures/models/tiny-sd/text_encoder/model.safetensors"))
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]},
                         "b": {"dtype": "BF16", "shape": [2], "data_offsets": [8, 12]},
                         "c": {"dtype": "F32", "shape": [], "data_offsets": [12, 16]},
                         "d": {"dtype": "I64", "shape": [1], "data_offsets": [16, 24]}}).encode()
    write("safetensors", "small.safetensors", struct.pack("<Q", len(header)) + header + bytes(range(24)))

    # Single-file checkpoints: the tiny LDM checkpoints' headers (fuzz_single_file supplies
    # the zero data their offsets need).
    for name in ["tiny-ldm-sd15", "tiny-ldm-sd2-v", "tiny-ldm-sdxl"]:
        write("single_file", name.replace("-", "_") + "_header.safetensors",
              safetensors_header(f"tests/fixtures/models/{name}.safetensors"))

    # PNG.
    images = pngs()
    for name, data in images.items():
        write("png", name, data)

    # base64: a PNG as the API receives it, with and without a data: URL, and padding cases.
    b64 = base64.b64encode(images["rgb_8x8.png"]).decode()
    write("base64", "png.txt", b64)
    write("base64", "data_url.txt", "data:image/png;base64," + b64)
    for i, text in enumerate(["", "QQ==", "QUI=", "QUJD", "QUJDRA==\n"]):
        write("base64", f"short_{i}.txt", text)

    # Tokenizer: prompts.
    for i, text in enumerate(["a large yellow square at the top on a blue background",
                              "A photo of an astronaut riding a horse, 4k, highly detailed!!",
                              "caf\u00e9 na\u00efve \u00dcber \u4e2d\u6587 \U0001f600 I'm don't we'll",
                              "<|startoftext|>hello<|endoftext|> 123 4567"]):
        write("tokenizer", f"prompt_{i}.txt", text)

    # Job JSON: first byte picks the format (fuzz_job_json.cpp).
    grey = base64.b64encode(images["grey_8x8.png"]).decode()
    rgb64 = base64.b64encode(png(64, 64, 2)).decode()
    mask64 = base64.b64encode(png(64, 64, 0)).decode()
    native = {
        "txt2img": {"prompt": "a large yellow square at the top on a blue background", "seed": 7,
                    "scheduler": "dpmpp_2m_karras"},
        "full": {"operation": "txt2img", "prompt": "p", "negative_prompt": "n", "width": 64, "height": 64,
                 "steps": 4, "guidance_scale": 7.5, "seed": -1, "scheduler": "euler_a", "num_images": 2,
                 "clip_skip": 2, "rng": "cuda", "preview": 2},
        "img2img": {"operation": "img2img", "prompt": "p", "init_image": "data:image/png;base64," + rgb64,
                    "strength": 0.5, "steps": 4},
        "inpaint": {"operation": "inpaint", "prompt": "p", "init_image": rgb64, "mask": mask64, "steps": 2},
    }
    for name, body in native.items():
        write("job_json", f"native_{name}.bin", b"\x00" + json.dumps(body).encode())
    write("job_json", "a1111_txt2img.bin", b"\x01" + json.dumps(
        {"prompt": "p", "negative_prompt": "n", "steps": 4, "cfg_scale": 7, "width": 64, "height": 64,
         "sampler_name": "Euler a", "seed": 1, "batch_size": 1, "n_iter": 2, "clip_skip": 1}).encode())
    write("job_json", "a1111_img2img.bin", b"\x02" + json.dumps(
        {"prompt": "p", "init_images": [rgb64], "mask": mask64, "denoising_strength": 0.6, "steps": 3,
         "width": 64, "height": 64, "resize_mode": 1, "inpainting_mask_invert": 1}).encode())
    write("job_json", "openai_generation.bin", b"\x03" + json.dumps(
        {"prompt": "p", "n": 1, "size": "256x256", "response_format": "b64_json", "model": "dall-e-2"}).encode())
    boundary = "fuzzb"
    parts = []
    for field, value, filename in [("prompt", "p", None), ("n", "1", None), ("size", "256x256", None),
                                   ("image", base64.b64decode(grey), "image.png")]:
        disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if filename:
            head += "Content-Type: image/png\r\n"
        parts.append(head.encode() + b"\r\n" + (value if isinstance(value, bytes) else value.encode()) + b"\r\n")
    multipart = b"".join(parts) + f"--{boundary}--\r\n".encode()
    write("job_json", "openai_edit.bin",
          b"\x04" + f"multipart/form-data; boundary={boundary}\n".encode() + multipart)

    # HTTP requests: the documented routes, as they arrive on the socket.
    def request(method, target, body=b"", headers=()):
        lines = [f"{method} {target} HTTP/1.1", "Host: localhost"] + list(headers)
        if body:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    json_type = "Content-Type: application/json"
    key = "Authorization: Bearer fuzz-key"
    http = {
        "post_job.http": request("POST", "/v1/jobs", json.dumps(native["txt2img"]).encode(), [json_type, key]),
        "post_img2img.http": request("POST", "/v1/jobs", json.dumps(native["img2img"]).encode(),
                                     [json_type, "X-API-Key: fuzz-key"]),
        "get_jobs.http": request("GET", "/v1/jobs?limit=5&after=abc", headers=[key]),
        "get_job.http": request("GET", "/v1/jobs/0123456789abcdef", headers=[key]),
        "delete_job.http": request("DELETE", "/v1/jobs/0123456789abcdef", headers=[key]),
        "stream.http": request("GET", "/v1/jobs/0123456789abcdef/stream?api_key=fuzz-key",
                               headers=["Last-Event-ID: 3"]),
        "image.http": request("GET", "/v1/jobs/0123456789abcdef/images/0.png", headers=[key]),
        "info.http": request("HEAD", "/v1/info", headers=[key]),
        "health.http": request("GET", "/health"),
        "ready.http": request("GET", "/ready"),
        "metrics.http": request("GET", "/metrics"),
        "ui.http": request("GET", "/ui/app.js"),
        "preflight.http": request("OPTIONS", "/v1/jobs", headers=["Origin: http://ui.example",
                                                                   "Access-Control-Request-Method: POST"]),
        "chunked.http": (b"POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"pro\r\n9\r\nmpt\": \"x\"}\r\n0\r\n\r\n"),
        "a1111_txt2img.http": request("POST", "/sdapi/v1/txt2img", json.dumps(
            {"prompt": "p", "steps": 2, "width": 64, "height": 64}).encode(), [json_type]),
        "a1111_img2img.http": request("POST", "/sdapi/v1/img2img", json.dumps(
            {"prompt": "p", "init_images": [grey], "steps": 2}).encode(), [json_type]),
        "a1111_progress.http": request("GET", "/sdapi/v1/progress?skip_current_image=false"),
        "a1111_samplers.http": request("GET", "/sdapi/v1/samplers"),
        "a1111_options.http": request("GET", "/sdapi/v1/options", headers=["Authorization: Basic dTpmdXp6LWtleQ=="]),
        "openai_generation.http": request("POST", "/v1/images/generations", json.dumps(
            {"prompt": "p", "size": "256x256"}).encode(), [json_type, key]),
        "openai_edit.http": request("POST", "/v1/images/edits", multipart,
                                    [f"Content-Type: multipart/form-data; boundary={boundary}", key]),
    }
    for name, data in http.items():
        write("http_request", name, data)


if __name__ == "__main__":
    main()
