// The uploaded image for img2img and inpaint, and the inpainting mask painted over it.
//
// The source keeps its own resolution; what the server gets is made at submit time: the
// image resized and centre-cropped to cover the chosen width x height (multiples of 8),
// exported as PNG. The mask lives in the source's coordinates on a canvas laid exactly
// over the image, so it stays aligned whatever size is chosen; it is exported through
// the same crop, white where painted (repaint) and black elsewhere.

const MASK_MAX_SIDE = 1024;   // the mask canvas's resolution, at most
const MASK_COLOR = '#ff2d75';  // shown at the canvas's CSS opacity

// The crop of a sw x sh source that, scaled, covers w x h.
export function coverCrop(sw, sh, w, h) {
  const scale = Math.max(w / sw, h / sh);
  const cw = w / scale;
  const ch = h / scale;
  return { sx: (sw - cw) / 2, sy: (sh - ch) / 2, sw: cw, sh: ch };
}

// A size for a sw x sh upload: its aspect ratio with the longer side `longSide`, in
// multiples of `multiple` within [min, max].
export function fitSize(sw, sh, longSide, min, max, multiple = 8) {
  const scale = longSide / Math.max(sw, sh);
  const side = (v) => {
    const rounded = Math.round((v * scale) / multiple) * multiple;
    const lo = Math.ceil(min / multiple) * multiple;
    const hi = Math.floor(max / multiple) * multiple;
    return Math.min(hi, Math.max(lo, rounded));
  };
  return { width: side(sw), height: side(sh) };
}

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const image = new Image();
    image.onload = () => resolve({ image, url });
    image.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error('This file is not an image the browser can read.'));
    };
    image.src = url;
  });
}

function base64Of(canvas) {
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

export class MaskEditor {
  constructor({ frame, stage, img, canvas }) {
    this.frame = frame;
    this.stage = stage;
    this.img = img;
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.image = null;  // the decoded upload
    this.url = null;
    this.target = { width: 512, height: 512 };
    this.painting = false;
    this.enabled = false;  // inpaint mode: the canvas takes the pointer
    this.erase = false;
    this.brush = 24;       // CSS pixels
    this.last = null;
    this.painted = false;
    this.onchange = null;
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
    canvas.addEventListener('lostpointercapture', () => { this.painting = false; this.last = null; });
  }

  get loaded() { return this.image !== null; }

  async load(file) {
    const { image, url } = await loadImage(file);
    if (this.url) URL.revokeObjectURL(this.url);
    this.image = image;
    this.url = url;
    this.img.src = url;
    const scale = Math.min(1, MASK_MAX_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
    this.canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
    this.canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
    this.clear();
    this.layout();
    return { width: image.naturalWidth, height: image.naturalHeight };
  }

  reset() {
    if (this.url) URL.revokeObjectURL(this.url);
    this.image = null;
    this.url = null;
    this.img.removeAttribute('src');
    this.clear();
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.canvas.style.pointerEvents = enabled ? 'auto' : 'none';
    this.canvas.hidden = !enabled;
  }

  setTarget(width, height) {
    if (width > 0 && height > 0) this.target = { width, height };
    this.layout();
  }

  // The frame shows exactly the crop that will be sent: its aspect is the target's, the
  // stage (image + mask) covers it, centred, like coverCrop().
  layout() {
    const { width: w, height: h } = this.target;
    this.frame.style.aspectRatio = `${w} / ${h}`;
    this.frame.style.width = `min(100%, ${((56 * w) / h).toFixed(2)}vh)`;
    this.frame.style.margin = '0 auto';
    if (!this.image) return;
    const sw = this.image.naturalWidth;
    const sh = this.image.naturalHeight;
    const scale = Math.max(w / sw, h / sh);
    const pw = ((sw * scale) / w) * 100;
    const ph = ((sh * scale) / h) * 100;
    Object.assign(this.stage.style, {
      width: `${pw}%`, height: `${ph}%`, left: `${(100 - pw) / 2}%`, top: `${(100 - ph) / 2}%`,
    });
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.painted = false;
    this.onchange?.();
  }

  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) / rect.width) * this.canvas.width,
      y: ((e.clientY - rect.top) / rect.height) * this.canvas.height,
      scale: this.canvas.width / rect.width,
    };
  }

  stroke(from, to) {
    const ctx = this.ctx;
    ctx.save();
    ctx.globalCompositeOperation = this.erase ? 'destination-out' : 'source-over';
    ctx.strokeStyle = MASK_COLOR;
    ctx.fillStyle = MASK_COLOR;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineWidth = this.brush * to.scale;
    ctx.beginPath();
    if (from) {
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    } else {
      ctx.arc(to.x, to.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.restore();
    if (!this.erase) this.painted = true;
  }

  down(e) {
    if (!this.enabled || !this.image || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.painting = true;
    this.last = this.point(e);
    this.stroke(null, this.last);
  }

  move(e) {
    if (!this.painting) return;
    e.preventDefault();
    const p = this.point(e);
    this.stroke(this.last, p);
    this.last = p;
  }

  up(e) {
    if (!this.painting) return;
    this.painting = false;
    this.last = null;
    this.onchange?.();
  }

  // The source as the server takes it: a w x h PNG (base64, no data: prefix).
  exportImage(w, h) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    const c = coverCrop(this.image.naturalWidth, this.image.naturalHeight, w, h);
    ctx.drawImage(this.image, c.sx, c.sy, c.sw, c.sh, 0, 0, w, h);
    return base64Of(canvas);
  }

  // The mask as the server takes it: w x h, white = repaint, black elsewhere (no grey:
  // the brush's antialiased edge is thresholded). {png_base64, white} (pixels to repaint).
  exportMask(w, h) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const fx = this.canvas.width / this.image.naturalWidth;
    const fy = this.canvas.height / this.image.naturalHeight;
    const c = coverCrop(this.image.naturalWidth, this.image.naturalHeight, w, h);
    ctx.drawImage(this.canvas, c.sx * fx, c.sy * fy, c.sw * fx, c.sh * fy, 0, 0, w, h);
    const pixels = ctx.getImageData(0, 0, w, h);
    const d = pixels.data;
    let white = 0;
    for (let i = 0; i < d.length; i += 4) {
      const v = d[i + 3] >= 128 ? 255 : 0;
      if (v) white += 1;
      d[i] = d[i + 1] = d[i + 2] = v;
      d[i + 3] = 255;
    }
    ctx.putImageData(pixels, 0, 0);
    return { png_base64: base64Of(canvas), white };
  }
}
