"""Markdown model cards from a model's metadata (its ``recipe`` holds how it was trained)."""

from __future__ import annotations

from pathlib import Path

from ..models.store import ModelMeta
from ..models.transformer_net import TransformerNet


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


_VERBS = {"init": "started from the weights of", "extends": "extends"}


def _bases(recipe: dict):
    """``(verb, base, base's recipe)`` for each run before this one, nearest first: a warm start
    or extension names its base, whose recipe may name its own."""
    while recipe:
        key = next((k for k in _VERBS if recipe.get(k)), None)
        if key is None:
            return
        base = recipe[key]
        recipe = base.get("recipe") or {}
        yield _VERBS[key], base, recipe


def history(recipe: dict) -> list[str]:
    """The runs before this one, nearest first, so a fine-tune's steps are not mistaken for the
    whole training."""
    return [
        f"{verb} `{base.get('model')}` ({', '.join(base.get('styles', []))}; {prev.get('steps', '?')} steps)"
        for verb, base, prev in _bases(recipe)
    ]


def total_steps(recipe: dict) -> int:
    """Steps of this run and of every run it started from or extends (0 where none is recorded)."""
    return sum(int(r.get("steps") or 0) for r in [recipe or {}, *(prev for _, _, prev in _bases(recipe))])


def model_card(meta: ModelMeta, extra: str = "") -> str:
    recipe = meta.recipe or {}
    cfg = recipe.get("config", {})
    params = sum(p.numel() for p in TransformerNet(meta.arch_obj()).parameters())
    styles = ", ".join(f"{s['name']} ({s.get('style_image', '')})" for s in meta.styles)
    lines = [f"# {meta.name}", ""]
    if meta.description:
        lines += [meta.description, ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| architecture | TransformerNet `{meta.arch}` ({params / 1e6:.2f} M parameters, "
        f"{meta.arch_obj().num_styles} style(s), conditional instance norm) |",
        f"| styles | {styles} |",
        f"| input | RGB 0..{meta.input_range:g}, sides multiples of 4 |",
        f"| licence | {meta.licence or 'not stated'} |",
    ]
    lines += [f"| history | {line} |" for line in history(recipe)]
    if recipe:
        steps, total = recipe.get("steps", "?"), total_steps(recipe)
        before = (
            f" ({total} with the runs before)" if total > (steps if isinstance(steps, int) else 0) else ""
        )
        lines += [
            f"| steps | {steps}{before} |",
            f"| speed | {_fmt(recipe.get('it_per_s', '?'))} it/s on "
            f"{recipe.get('machine', {}).get('device', '?')} |",
        ]
    if cfg:
        data, loss, optim = cfg.get("data", {}), cfg.get("loss", {}), cfg.get("optim", {})
        lines += [
            "",
            "## Training",
            "",
            f"- content: {', '.join(cfg.get('paths', {}).get('content', []))}, "
            f"{data.get('image_size')} px crops, batch {optim.get('batch')}, "
            f"Adam lr {_fmt(optim.get('lr'))} ({optim.get('schedule')})",
            f"- style images at {data.get('style_size')} px (longer side)",
            "- loss weights: "
            + ", ".join(
                f"{k} {_fmt(loss[k])}"
                for k in ("content", "style", "tv", "face", "identity", "temporal")
                if k in loss
            )
            + f"; face mode {loss.get('face_mode')}",
        ]
        final = recipe.get("final_losses") or {}
        if final:
            lines.append("- final weighted losses: " + ", ".join(f"{k} {_fmt(v)}" for k, v in final.items()))
    if extra:
        lines += ["", extra.strip()]
    return "\n".join(lines) + "\n"


def write_model_card(meta: ModelMeta, path: str | Path, extra: str = "") -> Path:
    """Write :func:`model_card` to ``path`` (a ``.md`` sidecar of the model)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model_card(meta, extra), encoding="utf-8")
    return path
