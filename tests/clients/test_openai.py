"""OpenAI's images API (POST /v1/images/generations and /v1/images/edits) driven by the
real `openai` Python client against the real sd-worker with the embedded tiny model.

images.generate answers b64_json PNGs of the model's default size or the size asked
for, and "url" results that the native image route serves (behind the same API key);
images.edit works on an opaque image (img2img) and with a mask whose transparent
region is repainted (inpaint); a wrong key raises AuthenticationError; bad values raise
BadRequestError whose error names OpenAI's parameter (size, n, mask, response_format).

Not compared with the native API pixel for pixel: OpenAI's requests carry no seed, so
the server draws one (the A1111 tests cover "same parameters, same picture").
"""

import base64
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdw_server import SKIP, SdwServer, require_modules  # noqa: E402

require_modules("openai", "PIL", "requests")

import openai  # noqa: E402
import requests  # noqa: E402
from PIL import Image  # noqa: E402

KEY = "sk-sdw-test"
PROMPT = "a red circle in the center"


def png_bytes(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def decode_png(data):
    image = Image.open(io.BytesIO(data))
    image.load()
    if image.format != "PNG":
        raise AssertionError("not a PNG: %s" % image.format)
    return image


class OpenAiImagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = SdwServer(["--api-key", KEY]).__enter__()
        try:
            probe = requests.post(cls.server.url + "/v1/images/generations", json={},
                                  headers={"Authorization": "Bearer " + KEY}, timeout=30)
            if probe.status_code == 404:
                cls.server.__exit__(None, None, None)
                print("skipped: this sd-worker has no /v1/images routes")
                sys.exit(SKIP)
            info = requests.get(cls.server.url + "/v1/info", headers={"Authorization": "Bearer " + KEY},
                                timeout=30).json()
            cls.default_size = cls.model_default_size(info)
        except BaseException:
            cls.server.__exit__(*sys.exc_info())
            raise
        cls.client = openai.OpenAI(base_url=cls.server.url + "/v1", api_key=KEY, max_retries=0, timeout=600)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    @staticmethod
    def model_default_size(info):
        model = info.get("model") or {}
        width = model.get("default_width") or model.get("width")
        height = model.get("default_height") or model.get("height")
        if not width or not height:
            raise AssertionError("/v1/info names no default size: %r" % info)
        return int(width), int(height)

    def bad_request(self, call, param):
        with self.assertRaises(openai.BadRequestError) as caught:
            call()
        error = caught.exception
        self.assertEqual(error.status_code, 400)
        self.assertIsInstance(error.body, dict, error.body)
        self.assertEqual(error.body.get("param"), param, error.body)
        self.assertEqual(error.param, param)
        self.assertEqual(error.body.get("type"), "invalid_request_error", error.body)
        self.assertTrue(error.body.get("message"), error.body)
        return error

    # ---- generations -----------------------------------------------------------

    def test_generate_b64_json(self):
        result = self.client.images.generate(prompt=PROMPT, n=2, response_format="b64_json")
        self.assertIsInstance(result.created, int)
        self.assertGreater(result.created, 1600000000)
        self.assertEqual(len(result.data), 2)
        for item in result.data:
            self.assertIsNone(item.url)
            image = decode_png(base64.b64decode(item.b64_json))
            self.assertEqual(image.size, self.default_size)
            self.assertEqual(image.mode, "RGB")
        self.assertEqual(result.output_format, "png")
        self.assertEqual(result.size, "%dx%d" % self.default_size)

    def test_generate_defaults_to_b64_json_and_honours_size(self):
        width, height = self.default_size
        size = "%dx%d" % (width, height * 2)
        result = self.client.images.generate(prompt=PROMPT, size=size, model="dall-e-2", quality="standard",
                                             user="someone")
        self.assertEqual(len(result.data), 1)
        self.assertEqual(decode_png(base64.b64decode(result.data[0].b64_json)).size, (width, height * 2))
        self.assertEqual(result.size, size)

    def test_generate_url(self):
        result = self.client.images.generate(prompt=PROMPT, response_format="url")
        self.assertEqual(len(result.data), 1)
        url = result.data[0].url
        self.assertIsNone(result.data[0].b64_json)
        self.assertTrue(url.startswith(self.server.url + "/v1/jobs/"), url)
        self.assertTrue(url.endswith("/images/0.png"), url)
        # The image route is behind the API key like the rest of /v1.
        self.assertEqual(requests.get(url, timeout=30).status_code, 401)
        response = requests.get(url, headers={"Authorization": "Bearer " + KEY}, timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers["Content-Type"], "image/png")
        self.assertEqual(decode_png(response.content).size, self.default_size)

    def test_generate_refusals_name_the_parameter(self):
        error = self.bad_request(lambda: self.client.images.generate(prompt=PROMPT, size="big"), "size")
        self.assertIn("big", error.body["message"])
        self.bad_request(lambda: self.client.images.generate(prompt=PROMPT, size="500x500"), "size")
        self.bad_request(lambda: self.client.images.generate(prompt=PROMPT, n=100), "n")
        self.bad_request(lambda: self.client.images.generate(prompt=PROMPT, response_format="jpeg"),
                         "response_format")
        self.bad_request(lambda: self.client.images.generate(prompt=PROMPT, output_format="webp"), "output_format")

    def test_wrong_api_key(self):
        client = openai.OpenAI(base_url=self.server.url + "/v1", api_key="sk-wrong", max_retries=0)
        with self.assertRaises(openai.AuthenticationError) as caught:
            client.images.generate(prompt=PROMPT)
        self.assertEqual(caught.exception.status_code, 401)
        self.assertEqual(caught.exception.code, "invalid_api_key")
        with self.assertRaises(openai.AuthenticationError):
            client.images.edit(image=("in.png", png_bytes(self.opaque_image()), "image/png"), prompt=PROMPT)

    # ---- edits -----------------------------------------------------------------

    def opaque_image(self, size=None):
        width, height = size or self.default_size
        image = Image.new("RGB", (width, height), (20, 40, 200))
        for y in range(height // 4, 3 * height // 4):
            for x in range(width // 4, 3 * width // 4):
                image.putpixel((x, y), (230, 30, 30))
        return image

    def test_edit_without_mask(self):
        source = png_bytes(self.opaque_image())
        result = self.client.images.edit(image=("in.png", source, "image/png"), prompt=PROMPT, n=2,
                                         model="gpt-image-2")
        self.assertEqual(len(result.data), 2)
        for item in result.data:
            image = decode_png(base64.b64decode(item.b64_json))
            self.assertEqual(image.size, self.default_size)

    def test_edit_with_mask(self):
        width, height = self.default_size
        mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
        for y in range(height // 2):
            for x in range(width):
                mask.putpixel((x, y), (0, 0, 0, 0))  # the top half is repainted
        result = self.client.images.edit(image=png_bytes(self.opaque_image()), mask=png_bytes(mask),
                                         prompt=PROMPT, response_format="url", size="%dx%d" % (width, height))
        self.assertEqual(len(result.data), 1)
        response = requests.get(result.data[0].url, headers={"Authorization": "Bearer " + KEY}, timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(decode_png(response.content).size, (width, height))

    def test_edit_takes_the_first_of_several_images(self):
        source = png_bytes(self.opaque_image())
        result = self.client.images.edit(image=[source, source], prompt=PROMPT)
        self.assertEqual(decode_png(base64.b64decode(result.data[0].b64_json)).size, self.default_size)

    def test_edit_refusals_name_the_parameter(self):
        width, height = self.default_size
        source = png_bytes(self.opaque_image())
        wrong_mask = png_bytes(Image.new("RGBA", (width + 8, height), (0, 0, 0, 0)))
        error = self.bad_request(lambda: self.client.images.edit(image=source, mask=wrong_mask, prompt=PROMPT),
                                 "mask")
        self.assertIn("%dx%d" % (width + 8, height), error.body["message"])
        opaque_mask = png_bytes(Image.new("L", (width, height), 255))
        self.bad_request(lambda: self.client.images.edit(image=source, mask=opaque_mask, prompt=PROMPT), "mask")
        self.bad_request(lambda: self.client.images.edit(image=source, prompt=PROMPT,
                                                         size="%dx%d" % (width * 2, height)), "size")
        jpeg = io.BytesIO()
        self.opaque_image().save(jpeg, "JPEG")
        self.bad_request(lambda: self.client.images.edit(image=jpeg.getvalue(), prompt=PROMPT), "image")
        odd = png_bytes(self.opaque_image((width + 4, height)))
        self.bad_request(lambda: self.client.images.edit(image=odd, prompt=PROMPT), "image")


if __name__ == "__main__":
    unittest.main()
