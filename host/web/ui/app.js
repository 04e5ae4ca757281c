// sd-worker's built-in UI: the form, the job's progress and previews, the gallery.
// It talks only to the public API (api.js), like any other client.

import { Api, ApiError } from './api.js';
import { GalleryStore } from './gallery.js';
import { MaskEditor, fitSize } from './mask_editor.js';
import { icon } from './icons.js';

const $ = (id) => document.getElementById(id);
const OPERATIONS = ['txt2img', 'img2img', 'inpaint'];
const FORM_STORAGE = 'sdw.form';
// The request fields that have an input (and an error line `err-<field>`) of their own.
const FIELD_INPUTS = {
  prompt: 'prompt', negative_prompt: 'negative-prompt', width: 'width', height: 'height',
  steps: 'steps', guidance_scale: 'guidance', scheduler: 'scheduler', num_images: 'num-images',
  seed: 'seed', strength: 'strength', init_image: 'init-image', mask: 'mask-canvas',
  api_key: 'api-key', operation: null,
};

const api = new Api();
const store = new GalleryStore();
const editor = new MaskEditor({
  frame: $('editor-frame'), stage: $('editor-stage'), img: $('source-preview'), canvas: $('mask-canvas'),
});

const state = {
  info: null,
  operation: 'txt2img',
  job: null,            // {id, params, stop}
  lastSeed: null,
  previewSupported: true,
  galleryUrls: [],
  resultUrls: [],
  infoTimer: 0,
  cancelPending: false, // Cancel pressed before the job had an id
  savedScheduler: '',   // the scheduler of the last visit, until /v1/info lists them
};

// ---------------------------------------------------------------- small helpers

function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return '<1 s';
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

let toastTimer = 0;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2200);
}

function base64ToBlob(base64, type = 'image/png') {
  const bytes = atob(base64);
  const array = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) array[i] = bytes.charCodeAt(i);
  return new Blob([array], { type });
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch { /* fall back below */ }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  area.remove();
  return ok;
}

// ---------------------------------------------------------------- errors

function clearErrors() {
  for (const el of document.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of document.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  $('general-error').textContent = '';
}

// Shows `message` next to the input of `field`, or in the general area when the field
// has no input of its own (or is null). Returns the element it went to.
function showError(field, message) {
  const line = field ? $(`err-${field}`) : null;
  if (line && !line.closest('[hidden]')) {
    line.textContent = message;
    const inputId = FIELD_INPUTS[field];
    if (inputId) $(inputId)?.setAttribute('aria-invalid', 'true');
    return line;
  }
  const general = $('general-error');
  general.textContent = field ? `${field}: ${message}` : message;
  return general;
}

function showApiError(error) {
  if (error.status === 401) {
    revealKeyField();
    showError('api_key', api.key ? 'The server did not accept this API key.' : 'This server requires an API key.');
    $('api-key').focus();
    return;
  }
  const el = showError(error.field, error.message);
  el.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
}

// ---------------------------------------------------------------- server info

function revealKeyField() {
  $('api-key-section').hidden = false;
  if (!$('api-key').value) $('api-key').value = api.key;
}

function setServerInfo(text, bad = false) {
  const el = $('server-info');
  el.classList.toggle('bad', bad);
  el.replaceChildren();
  const dot = document.createElement('span');
  dot.className = 'dot';
  el.append(dot, text);
  el.title = text;
}

async function loadInfo() {
  clearTimeout(state.infoTimer);
  let info;
  try {
    info = await api.info();
  } catch (e) {
    if (e.status === 401) {
      revealKeyField();
      setServerInfo('API key required', true);
      $('err-api_key').textContent = api.key ? 'The server did not accept this API key.' : '';
      if (api.key) $('api-key').setAttribute('aria-invalid', 'true');
      return;
    }
    setServerInfo(e.status ? `Server error (${e.status})` : 'Server unreachable, retrying…', true);
    state.infoTimer = setTimeout(loadInfo, 3000);
    return;
  }
  $('err-api_key').textContent = '';
  $('api-key').removeAttribute('aria-invalid');
  if (!$('api-key-section').hidden) $('api-key-hint').textContent = 'Key accepted. It is kept in this browser.';
  applyInfo(info);
  if (!info.model) {
    setServerInfo(`Loading the model… (${info.state || 'loading'})`, info.state === 'failed');
    state.infoTimer = setTimeout(loadInfo, 1000);
  }
}

function applyInfo(info) {
  const first = state.info === null || !state.info.model;
  state.info = info;
  const model = info.model;
  if (model) {
    const device = info.device && info.device.length > 40 ? `${info.device.slice(0, 38).trim()}…` : info.device;
    setServerInfo([model.name, info.plugin?.name, device].filter(Boolean).join(' · '));
    $('server-info').title = [model.name, info.plugin?.name, info.device].filter(Boolean).join(' · ');
  }
  const limits = info.limits || {};
  for (const id of ['width', 'height']) {
    if (limits.min_size) $(id).min = limits.min_size;
    if (limits.max_size) $(id).max = limits.max_size;
    if (limits.size_multiple) $(id).step = limits.size_multiple;
  }
  if (limits.max_steps) $('steps').max = limits.max_steps;
  if (limits.max_guidance_scale) $('guidance').max = limits.max_guidance_scale;
  if (limits.max_images) $('num-images').max = limits.max_images;

  // Schedulers: keep the choice when the server still offers it; else the server's default.
  const select = $('scheduler');
  const wanted = select.value || state.savedScheduler;
  const names = Array.isArray(info.schedulers) ? info.schedulers : [];
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.includes(wanted)) select.value = wanted;
  else if (names.includes('ddim')) select.value = 'ddim';

  if (first && model) {
    if (!editor.loaded || state.operation === 'txt2img') {
      $('width').value = model.default_width;
      $('height').value = model.default_height;
    }
  }

  const offered = Array.isArray(info.operations) ? info.operations : OPERATIONS;
  for (const op of OPERATIONS) $(`tab-${op}`).hidden = !offered.includes(op);
  if (!offered.includes(state.operation)) setOperation(offered[0] || 'txt2img');
}

// ---------------------------------------------------------------- form

function setOperation(op) {
  state.operation = op;
  for (const name of OPERATIONS) {
    const tab = $(`tab-${name}`);
    const selected = name === op;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  $('operation-panel').setAttribute('aria-labelledby', `tab-${op}`);
  const usesSource = op !== 'txt2img';
  $('source-section').hidden = !usesSource;
  $('mask-tools').hidden = op !== 'inpaint';
  editor.setEnabled(op === 'inpaint');
  $('editor').hidden = !usesSource || !editor.loaded;
  $('init-image-hint').textContent = op === 'inpaint'
    ? 'Then paint over the part to repaint. Resized and cropped to the width and height below.'
    : 'Resized and cropped to the width and height below.';
  clearErrors();
  saveForm();
}

function restoredForm() {
  try { return JSON.parse(localStorage.getItem(FORM_STORAGE) || '{}') || {}; } catch { return {}; }
}

const PERSISTED = {
  prompt: 'prompt', negative_prompt: 'negative-prompt', steps: 'steps', guidance_scale: 'guidance',
  scheduler: 'scheduler', num_images: 'num-images', strength: 'strength',
};

function saveForm() {
  const saved = { operation: state.operation };
  for (const [key, id] of Object.entries(PERSISTED)) saved[key] = $(id).value;
  if (!saved.scheduler) saved.scheduler = state.savedScheduler;
  try { localStorage.setItem(FORM_STORAGE, JSON.stringify(saved)); } catch { /* ignore */ }
}

function restoreForm() {
  const saved = restoredForm();
  state.savedScheduler = typeof saved.scheduler === 'string' ? saved.scheduler : '';
  for (const [key, id] of Object.entries(PERSISTED)) {
    if (typeof saved[key] === 'string' && key !== 'scheduler') $(id).value = saved[key];
  }
  updateStrength();
  if (OPERATIONS.includes(saved.operation)) setOperation(saved.operation);
}

function updateStrength() {
  $('strength-value').textContent = Number($('strength').value).toFixed(2);
}

// A number input's value: a number, undefined when empty (the server's default), or the
// text itself when it is no number (the server then names the field).
function numberField(id) {
  const text = $(id).value.trim();
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

// The job's parameters (what the gallery keeps and "copy parameters" copies) and the
// request body. Throws {field, message} for what the form itself can tell is missing.
function collectRequest() {
  const op = state.operation;
  const params = {
    operation: op,
    prompt: $('prompt').value,
    negative_prompt: $('negative-prompt').value,
    width: numberField('width'),
    height: numberField('height'),
    steps: numberField('steps'),
    guidance_scale: numberField('guidance'),
    scheduler: $('scheduler').value || undefined,
    num_images: numberField('num-images'),
  };
  if (op !== 'txt2img') params.strength = Number($('strength').value);

  const seedText = $('seed').value.trim();
  let seedJson = '-1';
  if (seedText !== '' && seedText !== '-1') {
    if (!/^\d+$/.test(seedText)) throw { field: 'seed', message: 'A seed is a whole number, or -1 for a random one.' };
    seedJson = seedText.replace(/^0+(?=\d)/, '');
  }

  const images = {};
  if (op !== 'txt2img') {
    if (!editor.loaded) throw { field: 'init_image', message: 'Choose an image to start from.' };
    const w = params.width;
    const h = params.height;
    if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0 || w % 8 || h % 8) {
      // The server names the field; an image cannot be made at such a size.
      const field = Number.isInteger(w) && w > 0 && w % 8 === 0 ? 'height' : 'width';
      throw { field, message: 'Width and height must be positive multiples of 8.' };
    }
    images.init_image = editor.exportImage(w, h);
    if (op === 'inpaint') {
      const mask = editor.exportMask(w, h);
      if (mask.white === 0) throw { field: 'mask', message: 'Paint over the part of the image to repaint.' };
      images.mask = mask.png_base64;
    }
  }

  const body = { ...params, ...images };
  if (state.previewSupported) body.preview = true;
  for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
  // The seed is written as the digits typed: JSON numbers beyond 2^53 lose digits in JS.
  const json = JSON.stringify(body);
  const raw = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"seed":${seedJson}}`;
  for (const key of Object.keys(params)) if (params[key] === undefined) delete params[key];
  return { params, raw };
}

// ---------------------------------------------------------------- progress and results

function setBusy(busy) {
  $('generate').disabled = busy;
  $('generate').setAttribute('aria-busy', String(busy));
  $('generate').textContent = busy ? 'Generating…' : 'Generate';
  $('cancel').hidden = !busy;
  $('cancel').disabled = false;
}

function setStatus(text, kind = '') {
  const el = $('status');
  el.textContent = text;
  el.className = `status ${kind}`.trim();
}

function setProgress(step, total, indeterminate = false) {
  const bar = $('progress');
  bar.setAttribute('aria-valuemax', String(total));
  bar.setAttribute('aria-valuenow', String(step));
  bar.setAttribute('aria-valuetext', total ? `step ${step} of ${total}` : 'waiting');
  bar.classList.toggle('indeterminate', indeterminate);
  $('progress-fill').style.width = indeterminate ? '' : `${total ? (100 * step) / total : 0}%`;
}

function clearResults() {
  for (const url of state.resultUrls) URL.revokeObjectURL(url);
  state.resultUrls = [];
  $('results').replaceChildren();
}

function showPreview(data) {
  if (!data.png_base64) return;
  const img = $('live-preview');
  img.src = `data:image/png;base64,${data.png_base64}`;
  img.hidden = false;
  $('stage-empty').hidden = true;
  $('results').hidden = true;
}

function showResults(blobs, alt) {
  clearResults();
  const results = $('results');
  results.classList.toggle('many', blobs.length > 1);
  for (const blob of blobs) {
    const url = URL.createObjectURL(blob);
    state.resultUrls.push(url);
    const img = document.createElement('img');
    img.src = url;
    img.alt = alt || 'Generated image';
    // Small images (a 128x128 model) are shown larger; big ones fit the stage.
    if (blobs.length === 1) img.addEventListener('load', () => { img.style.width = `${Math.max(img.naturalWidth, 384)}px`; }, { once: true });
    results.append(img);
  }
  results.hidden = false;
  $('live-preview').hidden = true;
  $('live-preview').removeAttribute('src');
  $('stage-empty').hidden = blobs.length > 0;
}

async function imagesOf(data) {
  const images = Array.isArray(data.images) ? data.images : [];
  return Promise.all(images.map(async (image) => ({
    ...image,
    blob: image.png_base64 ? base64ToBlob(image.png_base64) : await api.imageBlob(image.url),
  })));
}

async function finishCompleted(job, data) {
  const images = await imagesOf(data);
  showResults(images.map((i) => i.blob), job.params.prompt);
  const total = data.timings_ms?.total;
  const count = images.length === 1 ? '1 image' : `${images.length} images`;
  setStatus(total ? `Done: ${count} in ${formatDuration(total)}.` : `Done: ${count}.`, 'completed');
  const bar = $('progress');
  const max = Number(bar.getAttribute('aria-valuemax')) || job.params.steps || 0;
  setProgress(max, max);
  $('eta').textContent = '';
  const seed = data.seed ?? images[0]?.seed;
  if (seed !== undefined && seed !== null) {
    state.lastSeed = String(seed);
    $('seed-reuse').disabled = false;
  }
  const created = Date.now();
  for (const image of images) {
    // Request fields only, so the JSON can be sent again as it is; the seed is the
    // image's own. A batch's images may share one seed (one generator for the batch,
    // as diffusers does): num_images stays then (the record keeps the image's index).
    const params = { ...job.params, width: image.width ?? job.params.width, height: image.height ?? job.params.height, seed: image.seed ?? seed };
    if (!(images.length > 1)) delete params.num_images;
    try {
      await store.add({ blob: image.blob, params, seed: params.seed, width: params.width, height: params.height,
                        job_id: job.id, index: image.index ?? 0, count: images.length, created });
    } catch (e) {
      console.error('gallery', e);
    }
  }
  await renderGallery();
}

function finishFailed(data) {
  const error = data.error || {};
  setStatus(`Failed: ${error.message || error.code || 'unknown error'}`, 'failed');
  if (error.field) showError(error.field, error.message || error.code);
  resetProgressDisplay();
}

function finishCancelled(data) {
  setStatus(data.reason ? `Cancelled (${data.reason}).` : 'Cancelled.', 'cancelled');
  resetProgressDisplay();
}

function resetProgressDisplay() {
  const bar = $('progress');
  bar.classList.remove('indeterminate');
  $('eta').textContent = '';
  $('live-preview').hidden = true;
  $('results').hidden = false;
  $('stage-empty').hidden = $('results').childElementCount > 0;
}

// After the stream broke off: the job's status until it has ended.
async function pollUntilDone(job) {
  for (;;) {
    let status;
    try {
      status = await api.job(job.id);
    } catch (e) {
      if (e.status === 404) return { type: 'failed', data: { error: { message: 'The server no longer knows this job.' } } };
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    if (status.state === 'completed') return { type: 'completed', data: { images: status.images, seed: status.seed, timings_ms: status.timings_ms } };
    if (status.state === 'failed') return { type: 'failed', data: { error: status.error } };
    if (status.state === 'cancelled') return { type: 'cancelled', data: { reason: status.cancel_reason } };
    setProgress(status.step || 0, status.total || 0);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const JOB_STORAGE = 'sdw.job';  // the job being followed, so a reload picks it up again

function rememberJob(job) {
  try {
    if (job) sessionStorage.setItem(JOB_STORAGE, JSON.stringify(job));
    else sessionStorage.removeItem(JOB_STORAGE);
  } catch { /* storage disabled */ }
}

// Follows an accepted job to its end and shows the outcome.
async function followJob(job) {
  state.job = job;
  $('stage').dataset.jobId = job.id;
  rememberJob(job);
  if (state.cancelPending) cancel();  // Cancel was pressed before the server answered
  const steps = job.params.steps || 0;
  try {
    await followToEnd(job, steps);
  } finally {
    rememberJob(null);
  }
}

async function followToEnd(job, steps) {
  let terminal;
  try {
    terminal = await api.follow(job.id, {
      queued: (d) => setStatus(d.queue_position > 1 ? `Queued: position ${d.queue_position}.` : 'Queued.'),
      started: (d) => {
        setStatus('Sampling…');
        setProgress(0, d.total || steps);
      },
      progress: (d) => {
        setProgress(d.step, d.total);
        const left = d.step < d.total ? formatDuration(d.eta_ms) : '';
        const rate = d.elapsed_ms > 0 ? ` · ${(d.step / (d.elapsed_ms / 1000)).toFixed(1)} it/s` : '';
        $('eta').textContent = `${d.step} / ${d.total}${rate}${left ? ` · ETA ${left}` : ''}`;
        setStatus(d.step < d.total ? 'Sampling…' : 'Decoding…');
      },
      preview: (d) => showPreview(d),
    });
  } catch (e) {
    terminal = await pollUntilDone(job);
  }
  if (terminal.type === 'completed') await finishCompleted(job, terminal.data);
  else if (terminal.type === 'failed') finishFailed(terminal.data);
  else finishCancelled(terminal.data);
}

async function runJob(params, raw) {
  const submitted = await api.submit(raw);
  const position = submitted.queue_position;
  setStatus(position > 1 ? `Queued: position ${position}.` : 'Queued.');
  await followJob({ id: submitted.job_id, params: { ...params, seed: submitted.seed } });
}

// A job this tab was following before a reload: its stream replays from the start.
async function resumeJob() {
  let job = null;
  try { job = JSON.parse(sessionStorage.getItem(JOB_STORAGE) || 'null'); } catch { job = null; }
  if (!job || !job.id || state.job) return;
  setBusy(true);
  setStatus('Following the job started before the reload…');
  setProgress(0, 0, true);
  try {
    await followJob(job);
  } catch (e) {
    rememberJob(null);
    setStatus('The job started before the reload could not be followed.', 'failed');
    resetProgressDisplay();
  } finally {
    state.job = null;
    state.cancelPending = false;
    setBusy(false);
  }
}

async function generate() {
  if (state.job) return;
  clearErrors();
  let request;
  try {
    request = collectRequest();
  } catch (e) {
    if (e && e.field) {
      showError(e.field, e.message);
      $(FIELD_INPUTS[e.field])?.focus?.();
      return;
    }
    throw e;
  }
  saveForm();
  setBusy(true);
  clearResults();
  $('live-preview').hidden = true;
  $('stage-empty').hidden = false;
  setStatus('Submitting…');
  setProgress(0, 0, true);
  // On a phone the result is below the form: bring the progress into view.
  if (window.matchMedia('(max-width: 860px)').matches) $('status').scrollIntoView({ block: 'start', behavior: 'smooth' });
  $('eta').textContent = '';
  state.job = { id: null, params: request.params };
  state.cancelPending = false;
  try {
    try {
      await runJob(request.params, request.raw);
    } catch (e) {
      // A server without live previews refuses the field: ask again without it.
      if (e instanceof ApiError && e.status === 400 && e.field === 'preview' && state.previewSupported) {
        state.previewSupported = false;
        await runJob(request.params, collectRequest().raw);
      } else {
        throw e;
      }
    }
  } catch (e) {
    if (e instanceof ApiError) showApiError(e);
    else showError(null, e?.message || String(e));
    setStatus(e instanceof ApiError && e.status ? 'The server refused the job.' : 'Something went wrong.', 'failed');
    resetProgressDisplay();
    setProgress(0, 0);
  } finally {
    state.job = null;
    state.cancelPending = false;
    setBusy(false);
  }
}

async function cancel() {
  const job = state.job;
  if (!job) return;
  if (!job.id) {  // not accepted yet: cancelled as soon as it is
    state.cancelPending = true;
    $('cancel').disabled = true;
    setStatus('Cancelling…');
    return;
  }
  state.cancelPending = false;
  $('cancel').disabled = true;
  setStatus('Cancelling…');
  try {
    await api.cancel(job.id);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 409)) showApiError(e);  // 409: it had just ended
  }
}

// ---------------------------------------------------------------- gallery

// Two short lines about an image: its size and how it was made, then its seed.
function describeLines(params, record = {}) {
  const first = [`${params.width}×${params.height}`];
  if (params.steps) first.push(`${params.steps} steps`);
  if (params.operation && params.operation !== 'txt2img') first.push(params.operation);
  let seed = `seed ${params.seed}`;
  if (record.count > 1) seed += ` · ${(record.index ?? 0) + 1} of ${record.count}`;
  return [first.join(' · '), seed];
}

function describe(params, record = {}) {
  return describeLines(params, record).join(' · ');
}

function useParameters(params) {
  if (params.operation && !$(`tab-${params.operation}`).hidden) setOperation(params.operation);
  const set = (id, value) => { if (value !== undefined && value !== null) $(id).value = value; };
  set('prompt', params.prompt);
  set('negative-prompt', params.negative_prompt);
  set('width', params.width);
  set('height', params.height);
  set('steps', params.steps);
  set('guidance', params.guidance_scale);
  if ([...$('scheduler').options].some((o) => o.value === params.scheduler)) $('scheduler').value = params.scheduler;
  set('seed', params.seed);
  set('num-images', params.num_images ?? 1);
  if (params.strength) { $('strength').value = params.strength; updateStrength(); }
  editor.setTarget(Number($('width').value), Number($('height').value));
  saveForm();
  toast('Parameters loaded into the form');
}

function galleryCard(record) {
  const url = URL.createObjectURL(record.blob);
  state.galleryUrls.push(url);
  const p = record.params || {};
  const li = document.createElement('li');
  li.className = 'card';
  li.dataset.id = record.id;

  const thumb = document.createElement('button');
  thumb.type = 'button';
  thumb.className = 'thumb';
  thumb.setAttribute('aria-label', 'Show this image');
  const img = document.createElement('img');
  img.src = url;
  img.alt = p.prompt || 'Generated image';
  img.loading = 'lazy';
  img.width = record.width || p.width || 0;
  img.height = record.height || p.height || 0;
  thumb.append(img);
  thumb.addEventListener('click', () => {
    showResults([record.blob], p.prompt);
    setStatus(describe(p, record));
    $('stage').scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
  });

  const meta = document.createElement('div');
  meta.className = 'meta';
  const prompt = document.createElement('p');
  prompt.className = 'prompt';
  prompt.textContent = p.prompt || '(no prompt)';
  prompt.title = p.prompt || '';
  meta.append(prompt);
  for (const line of describeLines(p, record)) {
    const details = document.createElement('p');
    details.className = 'details';
    details.textContent = line;
    details.title = line;
    meta.append(details);
  }

  const actions = document.createElement('div');
  actions.className = 'card-actions';
  const labelled = (el, label, iconName, text) => {
    el.setAttribute('aria-label', label);
    el.title = label;
    el.append(icon(iconName));
    if (text) el.append(text);
    return el;
  };
  const download = labelled(document.createElement('a'), 'Download', 'download');
  download.href = url;
  download.download = `sd-worker-${p.seed ?? record.id}.png`;
  const button = (label, iconName, text) => {
    const b = document.createElement('button');
    b.type = 'button';
    return labelled(b, label, iconName, text);
  };
  const copy = button('Copy parameters', 'copy');
  copy.addEventListener('click', async () => {
    const ok = await copyText(JSON.stringify(p, null, 2));
    toast(ok ? 'Parameters copied as JSON' : 'Copying is not allowed here');
  });
  const reuse = button('Use these parameters', 'reuse');
  reuse.addEventListener('click', () => useParameters(p));
  const remove = button('Delete this image', 'trash');
  remove.classList.add('delete');
  remove.addEventListener('click', async () => {
    await store.remove(record.id);
    await renderGallery();
  });
  actions.append(download, copy, reuse, remove);
  li.append(thumb, meta, actions);
  return li;
}

async function renderGallery() {
  let records = [];
  try {
    records = await store.list();
  } catch (e) {
    $('gallery-empty').textContent = `The gallery is unavailable in this browser (${e.message}).`;
    return;
  }
  for (const url of state.galleryUrls) URL.revokeObjectURL(url);
  state.galleryUrls = [];
  $('gallery').replaceChildren(...records.map(galleryCard));
  $('gallery-empty').hidden = records.length > 0;
  $('gallery-clear').hidden = records.length === 0;
}

// ---------------------------------------------------------------- wiring

function suggestSize(width, height) {
  const model = state.info?.model;
  const limits = state.info?.limits || {};
  const long = Math.max(model?.default_width || 512, model?.default_height || 512);
  return fitSize(width, height, long, limits.min_size || 64, limits.max_size || 2048, limits.size_multiple || 8);
}

async function onUpload() {
  const file = $('init-image').files[0];
  $('err-init_image').textContent = '';
  $('err-mask').textContent = '';
  if (!file) return;
  try {
    const { width, height } = await editor.load(file);
    const size = suggestSize(width, height);
    $('width').value = size.width;
    $('height').value = size.height;
    editor.setTarget(size.width, size.height);
    $('editor').hidden = false;
  } catch (e) {
    editor.reset();
    $('editor').hidden = true;
    showError('init_image', e.message);
  }
}

function onSizeChange() {
  const w = Number($('width').value);
  const h = Number($('height').value);
  if (w >= 8 && h >= 8) editor.setTarget(w, h);
}

function wire() {
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    generate();
  });
  $('cancel').addEventListener('click', cancel);
  $('prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $('form').requestSubmit();
    }
  });

  const tabs = OPERATIONS.map((op) => $(`tab-${op}`));
  for (const tab of tabs) {
    tab.addEventListener('click', () => setOperation(tab.dataset.operation));
    tab.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const visible = tabs.filter((t) => !t.hidden);
      const at = visible.indexOf(tab);
      const next = visible[(at + (e.key === 'ArrowRight' ? 1 : visible.length - 1)) % visible.length];
      setOperation(next.dataset.operation);
      next.focus();
    });
  }

  $('api-key-save').addEventListener('click', () => {
    api.setKey($('api-key').value.trim());
    $('api-key-hint').textContent = 'This server requires an API key. It is kept in this browser.';
    loadInfo();
  });
  $('api-key').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      $('api-key-save').click();
    }
  });

  $('seed-random').addEventListener('click', () => { $('seed').value = '-1'; });
  $('seed-reuse').addEventListener('click', () => {
    if (state.lastSeed !== null) $('seed').value = state.lastSeed;
  });

  $('init-image').addEventListener('change', onUpload);
  $('width').addEventListener('input', onSizeChange);
  $('height').addEventListener('input', onSizeChange);
  $('strength').addEventListener('input', updateStrength);
  $('brush-size').addEventListener('input', () => { editor.brush = Number($('brush-size').value); });
  const tool = (erase) => {
    editor.erase = erase;
    $('tool-brush').setAttribute('aria-pressed', String(!erase));
    $('tool-eraser').setAttribute('aria-pressed', String(erase));
  };
  $('tool-brush').addEventListener('click', () => tool(false));
  $('tool-eraser').addEventListener('click', () => tool(true));
  $('mask-clear').addEventListener('click', () => editor.clear());
  editor.onchange = () => { if (editor.painted) $('err-mask').textContent = ''; };

  for (const id of Object.values(PERSISTED)) $(id).addEventListener('change', saveForm);

  $('gallery-clear').addEventListener('click', async () => {
    if (!window.confirm('Delete every image in the gallery?')) return;
    await store.clear();
    await renderGallery();
  });
}

wire();
restoreForm();
editor.brush = Number($('brush-size').value);
loadInfo();
renderGallery();
resumeJob();
