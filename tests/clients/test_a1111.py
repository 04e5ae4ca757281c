"""AUTOMATIC1111's API (/sdapi/v1/...) driven by the real `webuiapi` client against the
real sd-worker with the embedded tiny model.

txt2img answers images of the size asked for and reports the seed it used (a random
one included: asking for it again gives the same picture); the same parameters through
the native API (POST /v1/jobs) give the identical picture, pixel for pixel, for txt2img,
for img2img (whose init image A1111 resizes with Pillow's Lanczos: the native request
gets Pillow's resize of it) and for inpainting with a mask. While a long job runs,
/progress reports it (progress, sampling steps, ETA, the live preview as current_image);
interrupt() ends it and the synchronous txt2img returns at once, without an image, after
which /progress is idle again. The samplers, schedulers, models and options lists are
what the model offers; an unknown sampler is a 400 naming sampler_name. With an API key,
webuiapi's HTTP Basic auth (set_auth, the key as the password) is accepted and a wrong
or missing password is a 401.
"""

import base64
import io
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdw_server import SKIP, SdwServer, require_modules  # noqa: E402

require_modules("webuiapi", "PIL", "requests")

import requests  # noqa: E402
import webuiapi  # noqa: E402
from PIL import Image  # noqa: E402

KEY = "a1111-test-key"
PROMPT = "a red circle in the center"
TERMINAL = ("completed", "failed", "cancelled")


def gradient(width, height):
    """An RGB test image with structure at every scale (so a resize shows)."""
    data = bytes(((x * 7 + y * 3) % 256 if c == 0 else (x * y) % 256 if c == 1 else (255 - 2 * x) % 256)
                 for y in range(height) for x in range(width) for c in range(3))
    return Image.frombytes("RGB", (width, height), data)


def png_b64(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def rgb_bytes(image):
    return image.convert("RGB").tobytes()


class A1111Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = SdwServer().__enter__()
        try:
            probe = requests.get(cls.server.url + "/sdapi/v1/samplers", timeout=30)
            if probe.status_code == 404:
                cls.server.__exit__(None, None, None)
                print("skipped: this sd-worker has no /sdapi/v1 routes")
                sys.exit(SKIP)
        except BaseException:
            cls.server.__exit__(*sys.exc_info())
            raise
        cls.api = webuiapi.WebUIApi(host="127.0.0.1", port=cls.server.port)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.started = time.monotonic()

    def tearDown(self):
        print("%s: %.1f s" % (self.id().split(".")[-1], time.monotonic() - self.started), flush=True)

    # --- the native API, for comparison ---------------------------------------------

    def native(self, body):
        response = requests.post(self.server.url + "/v1/jobs", json=body, timeout=30)
        self.assertEqual(response.status_code, 202, response.text)
        job_id = response.json()["job_id"]
        deadline = time.monotonic() + 300
        while True:
            status = requests.get(self.server.url + "/v1/jobs/" + job_id, timeout=30).json()
            if status["state"] in TERMINAL:
                break
            if time.monotonic() > deadline:
                self.fail("native job %s did not finish: %r" % (job_id, status))
            time.sleep(0.05)
        self.assertEqual(status["state"], "completed", status)
        images = []
        for entry in status["images"]:
            png = requests.get(self.server.url + entry["url"], timeout=30)
            self.assertEqual(png.status_code, 200)
            images.append(Image.open(io.BytesIO(png.content)))
        return status, images

    def assert_same_pixels(self, a, b, what):
        self.assertEqual(a.size, b.size, what)
        self.assertTrue(rgb_bytes(a) == rgb_bytes(b), what + ": the pictures differ")

    # --- generation ----------------------------------------------------------------

    def test_txt2img_size_and_seed(self):
        result = self.api.txt2img(prompt=PROMPT, seed=1234, steps=6, width=64, height=96,
                                  sampler_name="Euler a")
        self.assertEqual(len(result.images), 1)
        self.assertEqual(result.image.size, (64, 96))
        self.assertEqual(result.image.format, "PNG")
        self.assertEqual(result.info["seed"], 1234)
        self.assertEqual(result.info["all_seeds"], [1234])
        self.assertEqual(result.info["width"], 64)
        self.assertEqual(result.info["height"], 96)
        self.assertEqual(result.info["sampler_name"], "Euler a")
        self.assertEqual(result.info["steps"], 6)
        self.assertIn("Seed: 1234", result.info["infotexts"][0])
        self.assertEqual(result.parameters["prompt"], PROMPT)
        self.assertEqual(result.parameters["seed"], 1234)

        # seed -1: the server draws one and reports it; asking for that seed again
        # gives the same picture.
        drawn = self.api.txt2img(prompt=PROMPT, seed=-1, steps=4, width=64, height=64)
        seed = drawn.info["seed"]
        self.assertIsInstance(seed, int)
        self.assertGreaterEqual(seed, 0)
        self.assertEqual(drawn.info["all_seeds"], [seed])
        again = self.api.txt2img(prompt=PROMPT, seed=seed, steps=4, width=64, height=64)
        self.assert_same_pixels(drawn.image, again.image, "seed %d asked for again" % seed)

        batch = self.api.txt2img(prompt=PROMPT, seed=5, steps=3, width=64, height=64, batch_size=2)
        self.assertEqual(len(batch.images), 2)
        self.assertEqual(len(batch.info["all_seeds"]), 2)
        self.assertEqual(len(batch.info["all_prompts"]), 2)

    def test_txt2img_gives_the_native_picture(self):
        for sampler, scheduler, native_scheduler in (("Euler a", "Automatic", "euler_a"),
                                                     ("DPM++ 2M", "Karras", "dpmpp_2m_karras"),
                                                     ("DDIM", None, "ddim")):
            with self.subTest(sampler=sampler):
                result = self.api.txt2img(prompt=PROMPT, negative_prompt="blue", seed=7, steps=8,
                                          cfg_scale=6.5, width=64, height=64, sampler_name=sampler,
                                          scheduler=scheduler)
                self.assertEqual(result.info["seed"], 7)
                _, images = self.native({"prompt": PROMPT, "negative_prompt": "blue", "seed": 7, "steps": 8,
                                         "guidance_scale": 6.5, "scheduler": native_scheduler,
                                         "width": 64, "height": 64})
                self.assert_same_pixels(result.image, images[0], sampler)

    def test_img2img_resizes_like_pillow_and_gives_the_native_picture(self):
        init = gradient(96, 80)
        result = self.api.img2img(images=[init], prompt=PROMPT, seed=3, steps=10, denoising_strength=0.6,
                                  width=64, height=64, sampler_name="Euler")
        self.assertEqual(len(result.images), 1)
        self.assertEqual(result.image.size, (64, 64))
        self.assertEqual(result.info["denoising_strength"], 0.6)
        self.assertEqual(result.info["seed"], 3)
        self.assertIsNone(result.parameters["init_images"])  # A1111 echoes no images by default
        # A1111's resize_mode 0: init.resize((64, 64), LANCZOS); the native request gets it.
        resized = init.resize((64, 64), Image.LANCZOS)
        _, images = self.native({"operation": "img2img", "prompt": PROMPT, "seed": 3, "steps": 10,
                                 "guidance_scale": 7.0, "scheduler": "euler", "strength": 0.6,
                                 "init_image": png_b64(resized)})
        self.assert_same_pixels(result.image, images[0], "img2img")

    def test_inpaint_with_a_mask_gives_the_native_picture(self):
        init = gradient(64, 64)
        mask = Image.new("L", (64, 64), 0)
        mask.paste(255, (16, 16, 48, 48))  # white: repaint
        result = self.api.img2img(images=[init], mask_image=mask, prompt=PROMPT, seed=11, steps=10,
                                  denoising_strength=0.9, width=64, height=64, sampler_name="DDIM",
                                  inpainting_fill=1, mask_blur=0)
        self.assertEqual(result.image.size, (64, 64))
        _, images = self.native({"operation": "inpaint", "prompt": PROMPT, "seed": 11, "steps": 10,
                                 "guidance_scale": 7.0, "scheduler": "ddim", "strength": 0.9,
                                 "init_image": png_b64(init), "mask": png_b64(mask)})
        self.assert_same_pixels(result.image, images[0], "inpaint")

        # inpainting_mask_invert: the native mask inverted.
        inverted = self.api.img2img(images=[init], mask_image=mask, prompt=PROMPT, seed=11, steps=10,
                                    denoising_strength=0.9, width=64, height=64, sampler_name="DDIM",
                                    inpainting_fill=1, inpainting_mask_invert=1)
        _, images = self.native({"operation": "inpaint", "prompt": PROMPT, "seed": 11, "steps": 10,
                                 "guidance_scale": 7.0, "scheduler": "ddim", "strength": 0.9,
                                 "init_image": png_b64(init),
                                 "mask": png_b64(mask.point(lambda v: 255 - v))})
        self.assert_same_pixels(inverted.image, images[0], "inverted mask")

    def test_progress_and_interrupt(self):
        outcome = {}

        def run():
            started = time.monotonic()
            try:
                outcome["result"] = self.api.txt2img(prompt=PROMPT, seed=2, steps=150, width=256, height=256)
            except Exception as error:  # noqa: BLE001 - reported below
                outcome["error"] = error
            outcome["returned"] = time.monotonic()
            outcome["took"] = outcome["returned"] - started

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        # Progress while it runs, until a preview has been published.
        deadline = time.monotonic() + 120
        seen = None
        while time.monotonic() < deadline and "returned" not in outcome:
            progress = self.api.get_progress()
            state = progress["state"]
            if state["sampling_step"] >= 2 and progress["current_image"]:
                seen = progress
                break
            time.sleep(0.05)
        self.assertIsNotNone(seen, "no progress with a current image; outcome %r" % outcome)
        self.assertGreater(seen["progress"], 0)
        self.assertLess(seen["progress"], 1)
        self.assertEqual(seen["state"]["sampling_steps"], 150)
        self.assertGreaterEqual(seen["state"]["job_count"], 1)
        self.assertGreater(seen["eta_relative"], 0)
        preview = Image.open(io.BytesIO(base64.b64decode(seen["current_image"])))
        self.assertEqual(preview.format, "PNG")
        self.assertGreater(preview.size[0], 0)

        interrupted_at = time.monotonic()
        self.assertEqual(self.api.interrupt(), {})
        thread.join(60)
        self.assertFalse(thread.is_alive(), "txt2img did not return after interrupt()")
        self.assertLess(outcome["returned"] - interrupted_at, 20,
                        "txt2img returned %.1f s after interrupt()" % (outcome["returned"] - interrupted_at))
        self.assertNotIn("error", outcome, "txt2img raised after interrupt(): %r" % outcome.get("error"))
        self.assertEqual(outcome["result"].images, [])  # A1111 returns what it has: here nothing

        # Idle again: what webuiapi's util_wait_for_ready waits for.
        deadline = time.monotonic() + 30
        while True:
            progress = self.api.get_progress()
            if progress["progress"] == 0 and progress["state"]["job_count"] == 0:
                break
            if time.monotonic() > deadline:
                self.fail("progress not idle after the interrupt: %r" % progress)
            time.sleep(0.05)
        self.assertIsNone(progress["current_image"])

    # --- lists and errors ------------------------------------------------------------

    def test_samplers_schedulers_models_options(self):
        samplers = self.api.get_samplers()
        names = [s["name"] for s in samplers]
        for name in ("Euler a", "Euler", "DDIM", "DPM++ 2M"):
            self.assertIn(name, names)
        for s in samplers:
            self.assertIsInstance(s["aliases"], list)
            self.assertIsInstance(s["options"], dict)
        self.assertEqual(sorted(names), self.api.util_get_sampler_names())

        labels = [s["label"] for s in self.api.get_schedulers()]
        self.assertEqual(labels[0], "Automatic")
        self.assertIn("Karras", labels)

        models = self.api.get_sd_models()
        self.assertEqual(len(models), 1)
        for key in ("title", "model_name", "hash", "sha256", "filename", "config"):
            self.assertIn(key, models[0])
        options = self.api.get_options()
        self.assertEqual(options["sd_model_checkpoint"], models[0]["title"])
        self.assertEqual(self.api.util_get_current_model(), models[0]["title"])

        # Every listed sampler is accepted back.
        for name in names:
            result = self.api.txt2img(prompt=PROMPT, seed=1, steps=2, width=64, height=64, sampler_name=name)
            self.assertEqual(len(result.images), 1, name)

    def test_unknown_sampler_is_a_400_naming_sampler_name(self):
        response = requests.post(self.server.url + "/sdapi/v1/txt2img",
                                 json={"prompt": PROMPT, "sampler_name": "No Such Sampler", "steps": 2},
                                 timeout=30)
        self.assertEqual(response.status_code, 400, response.text)
        body = response.json()
        self.assertEqual(body["error"]["field"], "sampler_name", body)
        self.assertIn("No Such Sampler", body["detail"])
        self.assertIn("Euler a", body["detail"])  # the list of the ones offered
        with self.assertRaises(RuntimeError) as caught:
            self.api.txt2img(prompt=PROMPT, steps=2, sampler_name="No Such Sampler")
        self.assertEqual(caught.exception.args[0], 400)

        response = requests.post(self.server.url + "/sdapi/v1/txt2img",
                                 json={"prompt": PROMPT, "cfg_scale": 99, "steps": 2}, timeout=30)
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()["error"]["field"], "cfg_scale")


class A1111AuthTest(unittest.TestCase):
    def test_basic_auth_with_the_api_key_as_password(self):
        with SdwServer(["--api-key", KEY]) as server:
            response = requests.get(server.url + "/sdapi/v1/options", timeout=30)
            if response.status_code == 404:
                self.skipTest("this sd-worker has no /sdapi/v1 routes")
            self.assertEqual(response.status_code, 401, response.text)
            self.assertTrue(response.headers.get("WWW-Authenticate", "").startswith("Basic"),
                            response.headers)

            api = webuiapi.WebUIApi(host="127.0.0.1", port=server.port, username="anyone", password=KEY)
            self.assertIn("sd_model_checkpoint", api.get_options())
            result = api.txt2img(prompt=PROMPT, seed=1, steps=2, width=64, height=64)
            self.assertEqual(len(result.images), 1)
            self.assertEqual(result.info["seed"], 1)

            wrong = webuiapi.WebUIApi(host="127.0.0.1", port=server.port)
            wrong.set_auth("anyone", "not-the-key")
            with self.assertRaises(RuntimeError) as caught:
                wrong.txt2img(prompt=PROMPT, steps=2, width=64, height=64)
            self.assertEqual(caught.exception.args[0], 401)
            anonymous = webuiapi.WebUIApi(host="127.0.0.1", port=server.port)
            with self.assertRaises(RuntimeError) as caught:
                anonymous.txt2img(prompt=PROMPT, steps=2, width=64, height=64)
            self.assertEqual(caught.exception.args[0], 401)


if __name__ == "__main__":
    unittest.main()
