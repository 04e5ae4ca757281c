"""The built-in web UI (host/web/ui) in real Chromium, against the real sd-worker.

Playwright drives /usr/bin/chromium (SDW_CHROMIUM; no browser is downloaded) through
what a user does: type a prompt and generate, watch the progress bar and the live
previews, cancel, img2img and inpaint with an upload and a painted mask, see a field's
error next to it, keep the gallery across a reload, give an API key, use a phone-sized
screen. Sizes stay small (the embedded 128x128 sd-shapes model) except where a job must
last long enough to be watched or cancelled.

SDW_UPDATE_SCREENSHOT=1 also writes $SDW_DOCS_IMAGES/web-ui.png (docs/images), a
1280x800 screenshot after a generation.
"""

import base64
import io
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sdw_server import SKIP, SdwServer, require_modules  # noqa: E402

require_modules("playwright", "PIL", "requests")

import requests  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

CHROMIUM = os.environ.get("SDW_CHROMIUM", "/usr/bin/chromium")
PROMPT = "a red circle in the center on a white background"
TIMEOUT_MS = 90_000  # a job on 2 busy cores, with margin

# Records, in the page, when the progress bar and the live preview change (a poll from
# Python could miss short-lived states). performance.now() times, ms.
OBSERVER = """() => {
  const bar = document.querySelector('[role="progressbar"]');
  const preview = document.querySelector('img[alt="Live preview"]');
  const log = window.__sdw = {progress: [], previews: [], clickAt: null};
  new MutationObserver(() => log.progress.push(
      [performance.now(), Number(bar.getAttribute('aria-valuenow')), Number(bar.getAttribute('aria-valuemax'))]))
    .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow', 'aria-valuemax']});
  new MutationObserver(() => {
    const src = preview.getAttribute('src') || '';
    if (src.startsWith('data:')) log.previews.push([performance.now(), src.length]);
  }).observe(preview, {attributes: true, attributeFilter: ['src']});
  for (const button of document.querySelectorAll('button'))
    if (button.textContent.trim() === 'Generate')
      button.addEventListener('click', () => { log.clickAt = performance.now(); }, {capture: true});
}"""

# The bytes behind an <img>'s (blob:) src, as base64.
FETCH_BASE64 = """async (src) => {
  const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}"""


def png_bytes(width, height, draw=None):
    image = Image.new("RGB", (width, height), "white")
    if draw:
        draw(image)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def blue_square(image):
    w, h = image.size
    for x in range(w // 4, 3 * w // 4):
        for y in range(h // 4, 3 * h // 4):
            image.putpixel((x, y), (30, 60, 220))


def decode_png(b64):
    if b64.startswith("data:"):
        b64 = b64.split(",", 1)[1]
    data = base64.b64decode(b64)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class WebUiCase(unittest.TestCase):
    server_args = []

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(CHROMIUM):
            raise unittest.SkipTest("no Chromium at %s (SDW_CHROMIUM)" % CHROMIUM)
        cls.server = SdwServer(cls.server_args).__enter__()
        try:
            cls.playwright = sync_playwright().start()
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        except Exception:
            cls.server.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.started = time.monotonic()
        self.context = None

    def tearDown(self):
        if self.context:
            self.context.close()
        print("%s: %.1f s" % (self.id().split(".")[-1], time.monotonic() - self.started), flush=True)

    def open_page(self, viewport=(1280, 800), permissions=()):
        self.context = self.browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]})
        if permissions:
            self.context.grant_permissions(list(permissions), origin=self.server.url)
        page = self.context.new_page()
        self.errors = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.jobs = []  # the POST /v1/jobs requests, their bodies as JSON
        page.on("request", lambda r: self.jobs.append(r)
                if r.method == "POST" and r.url.endswith("/v1/jobs") else None)
        self.goto(page)
        return page

    def goto(self, page):
        response = page.goto(self.server.url + "/")
        self.assertEqual(response.status, 200, "GET / should serve the web UI")
        self.assertIn("text/html", response.headers.get("content-type", ""))

    def wait_ready(self, page):
        """Until /v1/info has filled the form (schedulers listed)."""
        expect(page.locator("select#scheduler option").first).to_be_attached(timeout=15_000)

    def click_generate(self, page):
        """Clicks Generate; returns the POST /v1/jobs answer's JSON (job_id, seed, ...)."""
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/v1/jobs")) as posted:
            page.get_by_role("button", name="Generate").click()
        return posted.value.json()

    def start_sampling(self, page, steps):
        """Fills the prompt and steps, generates, waits until the first step is done;
        returns the job id and the progress bar."""
        page.get_by_label("Prompt", exact=True).fill(PROMPT)
        page.get_by_label("Steps").fill(str(steps))
        job_id = self.click_generate(page)["job_id"]
        bar = page.get_by_role("progressbar")
        expect(bar).not_to_have_attribute("aria-valuenow", "0", timeout=TIMEOUT_MS)  # sampling
        return job_id, bar

    def gallery_items(self, page):
        return page.get_by_role("list", name="Gallery").get_by_role("listitem")

    def job_body(self, index=-1):
        return self.jobs[index].post_data_json

    def assert_no_page_errors(self):
        self.assertEqual(self.errors, [], "JavaScript errors in the page")


class TestWebUi(WebUiCase):

    def test_generate_progress_and_live_preview(self):
        """txt2img: prompt, Generate; the progress bar counts the steps up, live previews
        show while sampling, the result lands in the gallery as a PNG of the size asked."""
        steps = 30
        page = self.open_page()
        self.wait_ready(page)
        expect(page.get_by_label("Width")).to_have_value("128")  # the model's default size
        expect(page.get_by_label("Height")).to_have_value("128")
        page.evaluate(OBSERVER)
        page.get_by_label("Prompt", exact=True).fill(PROMPT)
        page.get_by_label("Height").fill("96")
        page.get_by_label("Steps").fill(str(steps))
        seed = self.click_generate(page)["seed"]

        bar = page.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuenow", str(steps), timeout=TIMEOUT_MS)
        expect(bar).to_have_attribute("aria-valuemax", str(steps))
        items = self.gallery_items(page)
        expect(items).to_have_count(1, timeout=TIMEOUT_MS)
        expect(page.locator("#status")).to_contain_text("Done")

        log = page.evaluate("window.__sdw")
        body = self.job_body()
        self.assertEqual(body["prompt"], PROMPT)
        self.assertEqual((body["steps"], body["width"], body["height"]), (steps, 128, 96))
        self.assertEqual(body["operation"], "txt2img")
        self.assertIs(body["preview"], True)

        # Progress: seen going up over time, step by step, to the total.
        values = [v for _, v, _ in log["progress"] if v > 0]
        self.assertGreaterEqual(len(set(values)), 5, "progress seen: %s" % values)
        self.assertEqual(values, sorted(values), "aria-valuenow never goes back")
        self.assertEqual(values[-1], steps)
        times = [t for t, v, _ in log["progress"] if v > 0]
        self.assertGreater(times[-1] - times[0], 100, "the steps arrive over time, not at once")

        # Live previews: the preview <img> got data: PNGs while sampling.
        self.assertTrue(log["previews"], "no live preview was shown")
        first_preview_ms = log["previews"][0][0] - log["clickAt"]
        print("time from clicking Generate to the first live preview: %.0f ms "
              "(%d previews, %d steps of %dx%d)" % (first_preview_ms, len(log["previews"]), steps, 128, 96))

        # The gallery's image: a valid PNG of the requested size.
        src = items.first.get_by_role("img").get_attribute("src")
        image = decode_png(page.evaluate(FETCH_BASE64, src))
        self.assertEqual(image.format, "PNG")
        self.assertEqual(image.size, (128, 96))
        download = items.first.get_by_role("link", name="Download")
        self.assertTrue((download.get_attribute("download") or "").endswith(".png"))
        self.assertEqual(download.get_attribute("href"), src)

        # The seed buttons: "reuse seed" takes the last result's, the dice a random one.
        page.get_by_role("button", name="Reuse seed").click()
        expect(page.get_by_label("Seed", exact=True)).to_have_value(str(seed))
        page.get_by_role("button", name="Random seed").click()
        expect(page.get_by_label("Seed", exact=True)).to_have_value("-1")
        self.assert_no_page_errors()

        if os.environ.get("SDW_UPDATE_SCREENSHOT") == "1":
            self.screenshot(page)

    def screenshot(self, page):
        """docs/images/web-ui.png: the UI after a generation, with the gallery filled, a
        live preview on the stage (in the dark colour scheme)."""
        page.emulate_media(color_scheme="dark")
        page.get_by_label("Height").fill("128")
        page.get_by_label("Images").fill("3")
        page.get_by_label("Steps").fill("20")
        page.get_by_role("button", name="Generate").click()
        expect(self.gallery_items(page)).to_have_count(4, timeout=TIMEOUT_MS)
        page.get_by_label("Prompt", exact=True).fill("a blue square on a yellow background")
        page.get_by_label("Images").fill("1")
        page.get_by_label("Steps").fill("40")
        page.evaluate(OBSERVER)
        page.get_by_role("button", name="Generate").click()
        # Mid-sampling, a live preview on the stage.
        page.wait_for_function("window.__sdw.previews.length >= 1 && "
                               "Number(document.querySelector('[role=progressbar]').getAttribute('aria-valuenow')) >= 24",
                               timeout=TIMEOUT_MS)
        path = os.path.join(os.environ.get("SDW_DOCS_IMAGES", "."), "web-ui.png")
        page.screenshot(path=path)
        print("wrote", path)
        expect(self.gallery_items(page)).to_have_count(5, timeout=TIMEOUT_MS)

    def test_gallery_survives_reload_and_copies_parameters(self):
        """Results are kept (IndexedDB) across a reload; "copy parameters" puts the
        generation parameters on the clipboard as JSON."""
        page = self.open_page(permissions=["clipboard-read", "clipboard-write"])
        self.wait_ready(page)
        page.get_by_label("Prompt", exact=True).fill("a green triangle")
        page.get_by_label("Steps").fill("4")
        page.get_by_label("Images").fill("2")
        page.get_by_label("Seed", exact=True).fill("1234")
        page.get_by_role("button", name="Generate").click()
        items = self.gallery_items(page)
        expect(items).to_have_count(2, timeout=TIMEOUT_MS)
        self.assertEqual(self.job_body()["seed"], 1234)

        page.reload()
        self.wait_ready(page)
        expect(items).to_have_count(2)
        expect(items.first).to_contain_text("a green triangle")
        for i in range(2):
            src = items.nth(i).get_by_role("img").get_attribute("src")
            self.assertEqual(decode_png(page.evaluate(FETCH_BASE64, src)).size, (128, 128))

        seeds = []
        for i in range(2):
            items.nth(i).get_by_role("button", name="Copy parameters").click()
            params = json.loads(page.evaluate("navigator.clipboard.readText()"))
            self.assertEqual(params["prompt"], "a green triangle")
            self.assertEqual((params["steps"], params["width"], params["height"]), (4, 128, 128))
            self.assertEqual(params["operation"], "txt2img")
            self.assertEqual(params["num_images"], 2)  # a batch: its images share the seed
            seeds.append(params["seed"])
        self.assertEqual(seeds, [1234, 1234])
        # The prompt typed before the reload is kept too.
        expect(page.get_by_label("Prompt", exact=True)).to_have_value("a green triangle")

        # A card's parameters go back into the form.
        page.get_by_label("Seed", exact=True).fill("-1")
        items.first.get_by_role("button", name="Use these parameters").click()
        expect(page.get_by_label("Seed", exact=True)).to_have_value(str(seeds[0]))
        self.assert_no_page_errors()

    def test_cancel(self):
        """A long job is cancelled from the UI: it says so, and the server agrees."""
        page = self.open_page()
        self.wait_ready(page)
        job_id, bar = self.start_sampling(page, 150)
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator("#status")).to_contain_text("Cancelled", timeout=30_000)
        expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
        expect(page.get_by_role("button", name="Generate")).to_be_enabled()
        status = requests.get(self.server.url + "/v1/jobs/" + job_id, timeout=10).json()
        self.assertEqual(status["state"], "cancelled")
        self.assertLess(status["step"], 150)
        self.assertEqual(self.gallery_items(page).count(), 0)
        self.assert_no_page_errors()

    def test_reload_while_sampling_keeps_following(self):
        """A reload mid-job picks the job up again (its stream replays from the start):
        the progress goes on and the result still lands in the gallery."""
        page = self.open_page()
        self.wait_ready(page)
        job_id, bar = self.start_sampling(page, 40)
        page.reload()
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()
        expect(bar).to_have_attribute("aria-valuenow", "40", timeout=TIMEOUT_MS)
        expect(self.gallery_items(page)).to_have_count(1, timeout=TIMEOUT_MS)
        expect(page.get_by_role("button", name="Generate")).to_be_enabled()
        self.assertEqual(page.get_by_role("button", name="Generate").count(), 1)
        self.assertEqual(len(self.jobs), 1, "no second job was submitted")
        status = requests.get(self.server.url + "/v1/jobs/" + job_id, timeout=10).json()
        self.assertEqual(status["state"], "completed")
        # Once it has ended, another reload has nothing to follow.
        page.reload()
        self.wait_ready(page)
        expect(page.get_by_role("button", name="Cancel")).to_be_hidden()
        expect(self.gallery_items(page)).to_have_count(1)
        self.assert_no_page_errors()

    def test_img2img_upload(self):
        """img2img: a 200x150 upload is sent as a PNG with sides multiples of 8 (the
        model's 128 on its long side), with the strength; the result appears."""
        page = self.open_page()
        self.wait_ready(page)
        page.get_by_role("tab", name="Image to image").click()
        page.get_by_label("Image", exact=True).set_input_files(
            {"name": "upload.png", "mimeType": "image/png", "buffer": png_bytes(200, 150, blue_square)})
        expect(page.get_by_label("Width")).to_have_value("128")
        expect(page.get_by_label("Height")).to_have_value("96")
        expect(page.get_by_role("img", name="The uploaded image")).to_be_visible()
        page.get_by_label("Prompt", exact=True).fill("a blue square")
        page.get_by_label("Steps").fill("6")
        page.get_by_role("button", name="Generate").click()
        items = self.gallery_items(page)
        expect(items).to_have_count(1, timeout=TIMEOUT_MS)
        expect(page.locator("#results img")).to_have_count(1)

        body = self.job_body()
        self.assertEqual(body["operation"], "img2img")
        self.assertAlmostEqual(body["strength"], 0.8)
        self.assertNotIn("mask", body)
        init = decode_png(body["init_image"])
        self.assertEqual(init.format, "PNG")
        self.assertEqual(init.size, (128, 96))
        self.assertEqual((body["width"], body["height"]), (128, 96))
        # The picture survived the resize: blue in the middle, white at the corner.
        rgb = init.convert("RGB")
        self.assertLess(rgb.getpixel((64, 48))[0], 100)
        self.assertGreater(rgb.getpixel((2, 2))[0], 200)
        src = items.first.get_by_role("img").get_attribute("src")
        self.assertEqual(decode_png(page.evaluate(FETCH_BASE64, src)).size, (128, 96))
        self.assert_no_page_errors()

    def test_inpaint_with_painted_mask(self):
        """inpaint: paint on the canvas over the upload with the mouse; the request's mask
        is a PNG of the image's size, white where painted, black elsewhere."""
        page = self.open_page()
        self.wait_ready(page)
        page.get_by_role("tab", name="Inpaint").click()
        page.get_by_label("Image", exact=True).set_input_files(
            {"name": "upload.png", "mimeType": "image/png", "buffer": png_bytes(128, 128, blue_square)})
        page.get_by_label("Prompt", exact=True).fill("a red circle")
        page.get_by_label("Steps").fill("6")

        # Nothing painted yet: the form says so next to the mask, nothing is sent.
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#err-mask")).to_contain_text("Paint")
        self.assertEqual(self.jobs, [])

        canvas = page.get_by_role("img", name="Mask: paint over the parts to repaint")
        expect(canvas).to_be_visible()
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
        page.mouse.down()
        for i in range(1, 11):
            page.mouse.move(box["x"] + box["width"] * (0.2 + 0.05 * i), box["y"] + box["height"] * 0.5)
        page.mouse.up()
        expect(page.locator("#err-mask")).to_be_empty()

        page.get_by_role("button", name="Generate").click()
        expect(self.gallery_items(page)).to_have_count(1, timeout=TIMEOUT_MS)
        body = self.job_body()
        self.assertEqual(body["operation"], "inpaint")
        self.assertEqual(decode_png(body["init_image"]).size, (128, 128))
        mask = decode_png(body["mask"])
        self.assertEqual(mask.size, (128, 128))
        values = mask.convert("L").getcolors()
        self.assertEqual({v for _, v in values}, {0, 255}, "white and black only: %s" % values)
        white = dict((v, n) for n, v in values)[255]
        self.assertGreater(white, 200)
        self.assertLess(white, 128 * 128 // 2)
        gray = mask.convert("L")
        self.assertEqual(gray.getpixel((64, 64)), 255, "painted across the middle")
        self.assertEqual(gray.getpixel((64, 5)), 0, "not painted at the top")
        self.assert_no_page_errors()

    def test_field_error_shown_next_to_its_field(self):
        """The server's 400 for a field shows next to that field's input."""
        expected = requests.post(self.server.url + "/v1/jobs", json={"prompt": "x", "steps": 1000},
                                 timeout=10).json()["error"]
        self.assertEqual(expected["field"], "steps")
        page = self.open_page()
        self.wait_ready(page)
        page.get_by_label("Prompt", exact=True).fill(PROMPT)
        steps = page.get_by_label("Steps")
        steps.fill("1000")
        page.get_by_role("button", name="Generate").click()
        error = page.locator("#" + steps.get_attribute("aria-describedby").split()[0])
        expect(error).to_have_text(expected["message"])
        expect(error).to_be_visible()
        expect(steps).to_have_attribute("aria-invalid", "true")
        # Next to it: right under the steps input, in the same field.
        s, e = steps.bounding_box(), error.bounding_box()
        self.assertLess(abs(e["x"] - s["x"]), 4)
        self.assertLess(0, e["y"] - (s["y"] + s["height"]))
        self.assertLess(e["y"] - (s["y"] + s["height"]), 30)
        expect(page.locator("#general-error")).to_be_empty()

        # Fixed, another field wrong: the old error goes, the new one shows by its input.
        steps.fill("4")
        page.get_by_label("Width").fill("100")
        page.get_by_role("button", name="Generate").click()
        expect(page.locator("#err-width")).not_to_be_empty()
        expect(page.locator("#err-steps")).to_be_empty()
        self.assertEqual(self.jobs[-1].post_data_json["width"], 100)
        self.assert_no_page_errors()

    def test_phone_viewport(self):
        """390x844: no horizontal scrolling, Generate on screen, the inpaint editor fits."""
        page = self.open_page(viewport=(390, 844))
        self.wait_ready(page)
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        self.assertEqual(page.evaluate(overflow), 0)
        expect(page.get_by_role("button", name="Generate")).to_be_in_viewport()
        page.get_by_role("tab", name="Inpaint").click()
        page.get_by_label("Image", exact=True).set_input_files(
            {"name": "wide.png", "mimeType": "image/png", "buffer": png_bytes(640, 200, blue_square)})
        expect(page.get_by_role("img", name="The uploaded image")).to_be_visible()
        self.assertEqual(page.evaluate(overflow), 0)
        for name in ("Prompt", "Negative prompt", "Width", "Height", "Steps", "Guidance",
                     "Scheduler", "Images", "Seed", "Brush size"):
            box = page.get_by_label(name, exact=True).bounding_box()
            self.assertGreaterEqual(box["x"], 0, name)
            self.assertLessEqual(box["x"] + box["width"], 390, name)
        self.assert_no_page_errors()

    def test_every_input_is_labelled(self):
        """Each input, select and textarea has an accessible label."""
        page = self.open_page()
        self.wait_ready(page)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.getAttribute('aria-labelledby'))
            .map((el) => el.id || el.name || el.outerHTML)""")
        self.assertEqual(unlabelled, [])
        self.assert_no_page_errors()

    def test_tabs_follow_the_operations_in_info(self):
        """The tabs are those /v1/info's `operations` lists (all three when it has none)."""
        page = self.open_page()
        self.wait_ready(page)
        for name in ("Text to image", "Image to image", "Inpaint"):
            expect(page.get_by_role("tab", name=name)).to_be_visible()

        def info_without_inpaint(route):
            response = route.fetch()
            info = response.json()
            self.assertIn("inpaint", info.get("operations", ["inpaint"]))
            info["operations"] = ["txt2img", "img2img"]
            route.fulfill(response=response, json=info)

        page.route("**/v1/info", info_without_inpaint)
        self.goto(page)
        self.wait_ready(page)
        expect(page.get_by_role("tab", name="Image to image")).to_be_visible()
        expect(page.get_by_role("tab", name="Inpaint")).to_be_hidden()

        def info_without_operations(route):  # an older server
            response = route.fetch()
            info = response.json()
            info.pop("operations", None)
            route.fulfill(response=response, json=info)

        page.unroute("**/v1/info")
        page.route("**/v1/info", info_without_operations)
        self.goto(page)
        self.wait_ready(page)
        for name in ("Text to image", "Image to image", "Inpaint"):
            expect(page.get_by_role("tab", name=name)).to_be_visible()
        self.assert_no_page_errors()


class TestWebUiApiKey(WebUiCase):
    server_args = ["--api-key", "secret"]

    def test_api_key(self):
        """With keys configured: the key field shows, a wrong key is refused with an error,
        the right one is kept and generates (the stream gets it as ?api_key=)."""
        page = self.open_page()
        key = page.get_by_label("API key")
        expect(key).to_be_visible(timeout=15_000)
        key.fill("wrong")
        page.get_by_role("button", name="Use key").click()
        expect(page.locator("#err-api_key")).to_contain_text("not accept")
        expect(key).to_have_attribute("aria-invalid", "true")

        key.fill("secret")
        page.get_by_role("button", name="Use key").click()
        self.wait_ready(page)
        expect(page.locator("#err-api_key")).to_be_empty()
        streams = []
        page.on("request", lambda r: streams.append(r.url) if "/stream" in r.url else None)
        page.get_by_label("Prompt", exact=True).fill(PROMPT)
        page.get_by_label("Steps").fill("4")
        page.get_by_role("button", name="Generate").click()
        expect(self.gallery_items(page)).to_have_count(1, timeout=TIMEOUT_MS)
        self.assertEqual(self.jobs[-1].headers.get("authorization"), "Bearer secret")
        self.assertTrue(streams and streams[0].endswith("?api_key=secret"), streams)

        # Kept in localStorage: a reload needs no typing.
        page.reload()
        self.wait_ready(page)
        self.assertEqual(page.evaluate("localStorage.getItem('sdw.apiKey')"), "secret")
        expect(page.locator("#err-api_key")).to_be_empty()
        self.assert_no_page_errors()


if __name__ == "__main__":
    if not os.path.exists(CHROMIUM):
        print("skipped: no Chromium at %s (SDW_CHROMIUM)" % CHROMIUM)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
