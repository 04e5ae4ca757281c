"""What the reference scripts share: fixture paths, model variants that reuse a committed
tiny model's components through symlinks, the step-latents recorder, and the writer of a
golden set (cases.json + pipelines.safetensors, the layout tests/fixtures/README.md
describes)."""
import json
import os
import pathlib

from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures"


def variant_folder(base: str, name: str, index_changes: dict, own: set) -> tuple[pathlib.Path, dict]:
    """tests/fixtures/models/<name>: model_index.json of <base> with `index_changes`, and a
    relative symlink to <base>'s folder for every component it lists except those in `own`,
    which the caller writes. Returns the folder and the index."""
    src, dst = FIXTURES / "models" / base, FIXTURES / "models" / name
    dst.mkdir(parents=True, exist_ok=True)
    index = json.loads((src / "model_index.json").read_text())
    index.update(index_changes)
    for component, spec in index.items():
        if component.startswith("_") or component in own or not isinstance(spec, list) or spec[0] is None:
            continue
        link = dst / component
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.join("..", base, component))
    (dst / "model_index.json").write_text(json.dumps(index, indent=1) + "\n")
    return dst, index


class StepRecorder:
    """Latents after each step, through diffusers' callback_on_step_end."""

    def __init__(self):
        self.latents = []

    def __call__(self, pipe, step, timestep, kwargs):
        self.latents.append(kwargs["latents"].detach().clone())
        return kwargs


def write_golden(name: str, model: str, cases: list, tensors: dict):
    """tests/fixtures/golden/<name>/: cases.json naming `model`, and the tensors."""
    out = FIXTURES / "golden" / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "cases.json").write_text(json.dumps({"model": model, "cases": cases}, indent=1) + "\n")
    save_file(tensors, str(out / "pipelines.safetensors"))
    os.chmod(out / "pipelines.safetensors", 0o644)
    print(f"{out.relative_to(ROOT)}: {', '.join(c['name'] for c in cases)}")
