"""The training loop: inputs -> networks -> steps -> checkpoints, samples, final model.

``Trainer(cfg, output).run()`` trains and saves ``output``. The loss network, the identity network
and the face detector can be injected (tests use random-initialised ones).
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..configtools import to_dict
from ..errors import ConfigError, InputError, VidstyleError
from ..faces.align import face_chips
from ..faces.detector import FaceDetector
from ..log import log
from ..models.store import ModelMeta, save_model
from ..models.transformer_net import ARCH_PRESETS, TransformerNet
from ..optional import require
from ..perceptual import losses as P
from ..stylize.device import resolve_device
from ..sysinfo import cpu_has_fast_bf16, cpu_model
from . import losses as L
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig, dump
from .data import StepBatches, center_crop, check_readable, list_images, load_style, read_rgb, to_device
from .report import loss_curve, sample_grid

FACE_SETTINGS = {"detector": "mtcnn", "min_face": 20, "thresholds": [0.6, 0.7, 0.7], "score_min": 0.9}


def machine_info(device: torch.device) -> dict:
    cpu = cpu_model()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU {cpu}"
    return {
        "device": name,
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "platform": platform.platform(terse=True),
    }


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        output: str | Path,
        *,
        resume: str | Path | None = None,
        vgg: torch.nn.Module | None = None,
        identity_net: torch.nn.Module | None = None,
        detector_factory: Callable[[], FaceDetector] | None = None,
        progress: bool | None = None,
    ):
        self.cfg = cfg
        self.output = Path(output)
        if self.output.suffix != ".safetensors":
            raise ConfigError(f"output model must end in .safetensors: {self.output}")
        self.device = resolve_device(cfg.run.device)
        cuda = self.device.type == "cuda"
        self.amp = cfg.run.amp == "on" or (cfg.run.amp == "auto" and (cuda or cpu_has_fast_bf16()))
        self.channels_last = cfg.run.channels_last == "on" or (cfg.run.channels_last == "auto" and cuda)
        self.amp_dtype = torch.bfloat16 if not cuda or torch.cuda.is_bf16_supported() else torch.float16
        self.run_dir = (
            cfg.resolve(cfg.paths.run_dir) if cfg.paths.run_dir else self.output.with_suffix(".run")
        )
        self.resume = Path(resume) if resume else None
        self._vgg, self._identity, self._detector_factory = vgg, identity_net, detector_factory
        self.progress = progress
        self.step = 0
        self.history: list[dict] = []
        self.skipped: set[str] = set()
        self.train_seconds = 0.0
        self.base_meta: ModelMeta | None = None  # the model being extended (paths.extend)
        self.style_offset = 0  # CIN row of the first style trained here
        self.init_meta: ModelMeta | None = None  # the model the weights started from (paths.init)

    # ----------------------------------------------------------------- setup
    def setup(self) -> None:
        cfg = self.cfg
        if cfg.run.threads:
            torch.set_num_threads(cfg.run.threads)
        self._setup_styles()
        paths = list_images([cfg.resolve(d) for d in cfg.paths.content])
        self.content_paths, bad = check_readable(paths)
        for p in bad:
            log.warning(f"skipping unreadable content image {p}")
        self.skipped.update(str(p) for p in bad)
        faces = self._detect_faces() if cfg.uses_faces else None
        self._setup_networks()
        self.batches = StepBatches(
            self.content_paths,
            cfg.data,
            cfg.motion,
            cfg.optim.batch,
            len(self.style_names),
            cfg.run.seed,
            faces=faces,
            temporal=cfg.loss.temporal > 0,
            face_margin=cfg.loss.face_margin,
            identity_min_face=cfg.loss.identity_min_face,
        )
        self._setup_samples(faces)
        if self.resume:
            info = load_checkpoint(self.resume, self.net, self.optimizer, self.device)
            self.step = int(info["step"])
            self.history = info.get("history", [])
            self.skipped.update(info.get("skipped", []))
            self.train_seconds = float(info.get("train_seconds", 0.0))
            if self.scaler is not None and info.get("scaler"):
                self.scaler.load_state_dict(info["scaler"])
            log.info(f"resumed from {self.resume} at step {self.step}")

    def _setup_styles(self) -> None:
        cfg = self.cfg
        if not cfg.paths.styles:
            raise InputError("no style image given (--style IMAGE)")
        self.style_paths = [cfg.resolve(s) for s in cfg.paths.styles]
        self.style_names = [p.stem for p in self.style_paths]
        dupes = {n for n in self.style_names if self.style_names.count(n) > 1}
        if dupes:
            raise InputError(
                f"style images must have distinct file names (stems): {', '.join(sorted(dupes))}"
            )
        self.style_images = [load_style(p, cfg.data.style_size) for p in self.style_paths]
        self.style_scale = (
            torch.tensor([float(f) for f in cfg.loss.style_scale]) if cfg.loss.style_scale else None
        )
        if cfg.paths.extend:  # checked before the face detection, which takes a while
            from ..models.store import read_meta
            from .extend import check_new_styles, resolve_base

            self.base_path = resolve_base(cfg.resolve(cfg.paths.extend), cfg.paths.extend)
            self.base_meta = read_meta(self.base_path)
            check_new_styles(self.base_path, self.base_meta, self.style_names)
            self.style_offset = len(self.base_meta.styles)
        if cfg.paths.init:
            from .extend import resolve_base

            self.init_path = resolve_base(cfg.resolve(cfg.paths.init), cfg.paths.init, "start from")

    def _detect_faces(self):
        from .faces_cache import FaceCache

        cache_dir = (
            self.cfg.resolve(self.cfg.paths.cache_dir)
            if self.cfg.paths.cache_dir
            else self.output.parent / ".vidstyle-cache"
        )
        factory = self._detector_factory or self._mtcnn
        cache = FaceCache(cache_dir / "faces.json", factory, FACE_SETTINGS)
        faces = cache.faces(self.content_paths, progress=self._show_progress())
        for p in cache.bad:
            log.warning(f"skipping unreadable content image {p}")
        self.skipped.update(str(p) for p in cache.bad)
        bad = set(cache.bad)
        self.content_paths = [p for p in self.content_paths if p not in bad]
        if not self.content_paths:
            raise InputError("none of the content images can be decoded")
        n_faces = sum(len(f) for f in faces.values())
        with_faces = sum(1 for f in faces.values() if len(f))
        log.info(f"{n_faces} faces in {with_faces} of {len(faces)} content images")
        return faces

    def _mtcnn(self) -> FaceDetector:
        from ..faces.detector import MTCNNDetector

        require(
            "facenet_pytorch",
            "the face losses need facenet-pytorch (pip install --no-deps "
            "facenet-pytorch), or set loss.face_mode=off",
            ConfigError,
        )

        s = FACE_SETTINGS
        return MTCNNDetector(
            device=str(self.device),
            min_face=s["min_face"],
            thresholds=s["thresholds"],
            score_min=s["score_min"],
        )

    def _setup_networks(self) -> None:
        from ..perceptual.vgg import load_vgg

        cfg, dev = self.cfg, self.device
        self.needed_layers = sorted(set(cfg.loss.style_layers) | {cfg.loss.content_layer})
        vgg = (
            self._vgg
            if self._vgg is not None
            else load_vgg(cfg.resolve(cfg.paths.vgg_weights) if cfg.paths.vgg_weights else None)
        )
        self.vgg = vgg.to(dev).eval().requires_grad_(False)
        self.idnet = None
        if cfg.uses_identity:
            if self._identity is not None:
                self.idnet = self._identity
            elif cfg.paths.identity_weights:
                from ..faces.identity import load_identity_net

                self.idnet = load_identity_net(cfg.resolve(cfg.paths.identity_weights))
            else:
                raise ConfigError(
                    "loss.face_mode uses the identity loss but no identity network "
                    "weights are given (--identity-weights PATH, or set loss.identity=0)"
                )
            self.idnet = self.idnet.to(dev).eval().requires_grad_(False)
        torch.manual_seed(cfg.run.seed)
        if cfg.paths.extend:
            from .extend import net_for_styles, train_only_new_rows

            net, _ = net_for_styles(self.base_path, self.base_meta.style_names + self.style_names)
            self.net = net.to(dev)
            trainable = train_only_new_rows(self.net, self.style_offset)
            log.info(
                f"extending {self.base_path} ({', '.join(self.base_meta.style_names)}): only the "
                f"new styles' norm rows train"
            )
        elif cfg.paths.init:
            from .extend import net_for_styles

            net, self.init_meta = net_for_styles(self.init_path, self.style_names)
            self.net = net.to(dev)
            trainable = list(self.net.parameters())
            kept = [n for n in self.style_names if n in self.init_meta.style_names]
            log.info(
                f"starting from {self.init_path} ({self.init_meta.arch}; rows kept for "
                f"{', '.join(kept) or 'no style'}): every weight trains"
            )
        else:
            arch = dataclasses.replace(ARCH_PRESETS[cfg.model.arch], num_styles=len(self.style_names))
            self.net = TransformerNet(arch).to(dev)
            trainable = list(self.net.parameters())
        if self.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
            self.vgg = self.vgg.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(trainable, lr=cfg.optim.lr)
        use_scaler = self.amp and self.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if use_scaler else None
        with torch.no_grad(), self._autocast():
            grams = [self.vgg(s.to(dev), cfg.loss.style_layers) for s in self.style_images]
        self.target_grams = {
            layer: torch.cat([P.gram(g[layer]) for g in grams]) for layer in cfg.loss.style_layers
        }

    def _setup_samples(self, faces) -> None:
        """A fixed set of content images for the sample grid (faces first when known)."""
        k, paths = self.cfg.run.sample_count, self.content_paths
        gen = torch.Generator().manual_seed(self.cfg.run.seed)
        order = [paths[int(i)] for i in torch.randperm(len(paths), generator=gen)]
        if faces:

            def size(p):  # widest face in px, 0 without faces
                f = faces.get(p)
                return float((f.boxes[:, 2] - f.boxes[:, 0]).max()) if f is not None and len(f) else 0.0

            with_faces = sorted((p for p in order if size(p) >= 40), key=size, reverse=True)
            chosen = with_faces[: k // 2]
            order = chosen + [p for p in order if p not in chosen]
        images = []
        for p in order:
            rgb = read_rgb(p)
            if rgb is not None:
                images.append(center_crop(rgb, self.cfg.run.sample_size))
            if len(images) == k:
                break
        self.sample_images = torch.stack(images)

    # ----------------------------------------------------------------- one step
    def _autocast(self):
        if not self.amp:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def lr_at(self, step: int) -> float:
        o = self.cfg.optim
        lr = o.lr
        if o.warmup and step < o.warmup:
            lr *= (step + 1) / o.warmup
        if o.schedule == "cosine":
            lr *= 0.5 * (1 + math.cos(math.pi * min(step, o.steps) / o.steps))
        return lr

    def compute_losses(self, b: dict) -> dict[str, torch.Tensor]:
        """Weighted loss terms of one batch (already on the device)."""
        cfg, loss = self.cfg, self.cfg.loss
        x = b["content"]
        n = x.shape[0]
        w = F.one_hot(b["style"] + self.style_offset, self.net.num_styles).float()
        temporal = loss.temporal > 0
        inp = torch.cat([x, b["next"]]) if temporal else x
        with self._autocast():
            y_all = self.net(inp, torch.cat([w, w]) if temporal else w)
            y = y_all[:n]
            fy = self.vgg(y, self.needed_layers)
            with torch.no_grad():
                fc = self.vgg(x, [loss.content_layer])
        cl = loss.content_layer
        terms = {
            "content": loss.content * P.content_loss(fy[cl], fc[cl]),
            "style": loss.style
            * P.style_loss(
                fy,
                {k: g[b["style"]] for k, g in self.target_grams.items()},
                self.style_scale.to(x.device)[b["style"]] if self.style_scale is not None else None,
            ),
            "tv": loss.tv * P.tv_loss(y),
        }
        if cfg.uses_weighted_faces and "face_mask" in b:
            m = P.downsample_weight(b["face_mask"], fy[cl])
            terms["face"] = loss.face * P.content_loss(fy[cl], fc[cl], m)
        if self.idnet is not None and "face_ok" in b and bool(b["face_ok"].any()):
            idx, slot = torch.nonzero(b["face_ok"], as_tuple=True)
            marks = b["landmarks"][idx, slot].cpu().numpy()
            chips_y = face_chips(y.float(), idx, marks)  # float32 sampling grids
            with torch.no_grad():
                chips_x = face_chips(x.float(), idx, marks)
            with self._autocast():
                emb_y = self.idnet(chips_y)
                with torch.no_grad():
                    emb_x = self.idnet(chips_x)
            terms["identity"] = loss.identity * P.identity_loss(emb_y, emb_x)
        if temporal:
            terms["temporal"] = loss.temporal * L.temporal_loss(
                y_all[n:], L.warp(y, b["grid"]), b["next_clean"], L.warp(x, b["grid"]), b["mask"]
            )
        return terms

    def train_step(self, batch: dict) -> dict[str, float]:
        self.net.train()
        b = to_device(batch, self.device, self.channels_last)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at(self.step)
        terms = self.compute_losses(b)
        total = sum(terms.values())
        if not torch.isfinite(total):
            raise VidstyleError(
                f"loss became {float(total)} at step {self.step} "
                f"({', '.join(f'{k}={float(v):.3g}' for k, v in terms.items())}); "
                "lower optim.lr or the loss weights"
            )
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(total).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            total.backward()
        if self.cfg.optim.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.optim.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.step += 1
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["total"] = float(total.detach())
        return out

    # ----------------------------------------------------------------- the loop
    def _show_progress(self) -> bool:
        import sys

        if self.progress is not None:
            return self.progress
        mode = self.cfg.run.progress
        return mode == "on" or (mode == "auto" and sys.stderr.isatty())

    def _loader(self):
        workers = self.cfg.data.workers
        if workers < 0:
            workers = 4 if self.device.type == "cuda" else 0
        steps = range(self.step, self.cfg.optim.steps)
        if workers == 0:
            return (self.batches[s] for s in steps)
        return iter(
            torch.utils.data.DataLoader(
                self.batches,
                batch_size=None,
                sampler=steps,
                num_workers=workers,
                pin_memory=self.device.type == "cuda",
                prefetch_factor=2,
                persistent_workers=False,
            )
        )

    def run(self) -> Path:
        """Train to ``optim.steps`` and save the model; returns its path."""
        from tqdm import tqdm

        self.setup()
        cfg = self.cfg
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.yaml").write_text(dump(cfg))
        log.info(
            f"training {self.net.arch} on {len(self.content_paths)} images, "
            f"{len(self.style_names)} style(s), device {self.device}"
            f"{' (amp ' + str(self.amp_dtype).split('.')[-1] + ')' if self.amp else ''}; "
            f"run directory {self.run_dir}"
        )
        bar = tqdm(
            total=cfg.optim.steps,
            initial=self.step,
            unit="it",
            dynamic_ncols=True,
            disable=not self._show_progress(),
            desc="train",
        )
        window: list[dict[str, float]] = []
        t_window = 0.0
        try:
            t0 = time.perf_counter()
            for batch in self._loader():
                for path in batch.pop("skipped"):
                    if path not in self.skipped:
                        log.warning(f"skipping unreadable content image {path}")
                        self.skipped.add(path)
                window.append(self.train_step(batch))
                t1 = time.perf_counter()
                t_window += t1 - t0
                self.train_seconds += t1 - t0
                bar.update(1)
                if len(window) == cfg.run.log_every or self.step == cfg.optim.steps:
                    self._record(window, t_window)
                    bar.set_postfix_str(self._postfix(), refresh=False)
                    window, t_window = [], 0.0
                self._periodic()
                t0 = time.perf_counter()
        except KeyboardInterrupt:
            bar.close()
            path = self.save_checkpoint(self.run_dir / "checkpoints" / "last.safetensors")
            log.warning(f"stopped at step {self.step}; resume with --resume {path}")
            raise
        bar.close()
        return self.finish()

    def _record(self, window: list[dict[str, float]], seconds: float) -> None:
        keys = {k for w in window for k in w}
        rec = {"step": self.step, "it_s": len(window) / max(seconds, 1e-9)}
        for k in sorted(keys):
            vals = [w[k] for w in window if k in w]
            rec[k] = sum(vals) / len(vals)
        self.history.append(rec)

    def _postfix(self) -> str:
        rec = self.history[-1]
        keys = [k for k in ("total", "content", "style", "tv", "face", "identity", "temporal") if k in rec]
        return " ".join(f"{k}={rec[k]:.3g}" for k in keys)

    def _periodic(self) -> None:
        r = self.cfg.run
        if r.sample_every and self.step % r.sample_every == 0 and self.step < self.cfg.optim.steps:
            self.write_samples()
            if not self._show_progress() and self.history:  # a log line instead of the bar
                log.info(
                    f"step {self.step}/{self.cfg.optim.steps} "
                    f"({self.history[-1]['it_s']:.2f} it/s) {self._postfix()}"
                )
        if r.checkpoint_every and self.step % r.checkpoint_every == 0 and self.step < self.cfg.optim.steps:
            self.save_checkpoint(self.run_dir / "checkpoints" / f"step-{self.step:07d}.safetensors")
            self.save_checkpoint(self.run_dir / "checkpoints" / "last.safetensors")
            periodic = sorted((self.run_dir / "checkpoints").glob("step-*.safetensors"))
            for old in periodic[: -r.keep_checkpoints]:
                old.unlink(missing_ok=True)

    # ----------------------------------------------------------------- outputs
    def stylize(self, images: torch.Tensor, style: int) -> torch.Tensor:
        """images N x 3 x H x W (0..255) -> stylized with the ``style``-th style trained here,
        clamped, on the CPU."""
        self.net.eval()
        w = F.one_hot(torch.tensor(style + self.style_offset), self.net.num_styles).float().to(self.device)
        outs = []
        with torch.no_grad(), self._autocast():
            for im in images:
                outs.append(self.net(im[None].to(self.device), w).float().clamp(0, 255).cpu())
        return torch.cat(outs)

    def write_samples(self) -> Path:
        cols = [self.sample_images] + [
            self.stylize(self.sample_images, s) for s in range(len(self.style_names))
        ]
        path = self.run_dir / "samples" / f"step-{self.step:07d}.png"
        sample_grid(cols, path)
        if self.history:
            loss_curve(self.history, self.run_dir / "loss_curve.png")
        return path

    def save_checkpoint(self, path: Path) -> Path:
        info = {
            "step": self.step,
            "config": to_dict(self.cfg),
            "history": self.history,
            "skipped": sorted(self.skipped),
            "train_seconds": self.train_seconds,
            "styles": self.style_names,
        }
        return save_checkpoint(
            path,
            self.net,
            self.optimizer,
            info,
            self.scaler.state_dict() if self.scaler is not None else None,
        )

    def final_losses(self, last: int = 5) -> dict[str, float]:
        recs = self.history[-last:]
        keys = [k for k in (recs[-1] if recs else {}) if k not in ("step", "it_s")]
        return {k: float(np.mean([r[k] for r in recs if k in r])) for k in keys}

    def finish(self) -> Path:
        cfg = self.cfg
        self.save_checkpoint(self.run_dir / "checkpoints" / "last.safetensors")
        sample = self.write_samples()
        it_s = self.step / self.train_seconds if self.train_seconds else 0.0
        name = cfg.model.name or self.output.stem
        base = self.base_meta
        arch = base.arch if base else self.init_meta.arch if self.init_meta else cfg.model.arch
        styles = [{"name": n, "style_image": p.name} for n, p in zip(self.style_names, self.style_paths)]
        recipe = {
            "config": to_dict(cfg),
            "steps": self.step,
            "final_losses": self.final_losses(),
            "it_per_s": round(it_s, 4),
            "train_seconds": round(self.train_seconds, 1),
            "image_size": cfg.data.image_size,
            "batch": cfg.optim.batch,
            "machine": machine_info(self.device),
            "skipped_content_images": len(self.skipped),
        }
        if base:  # what the frozen part came from, so the card can tell the whole history
            recipe["extends"] = {"model": base.name, "styles": base.style_names, "recipe": base.recipe}
        if self.init_meta:  # likewise the weights this run started from
            init = self.init_meta
            recipe["init"] = {"model": init.name, "styles": init.style_names, "recipe": init.recipe}
        all_names = (base.style_names if base else []) + self.style_names
        meta = ModelMeta(
            name=name,
            arch=arch,
            styles=(base.styles if base else []) + styles,
            description=cfg.model.description
            or f"{', '.join(all_names)} ({arch}), trained with vidstyle train",
            licence=cfg.model.licence or (base.licence if base else ""),
            recipe=recipe,
        )
        save_model(self.net, meta, self.output)
        from .card import write_model_card

        write_model_card(meta, self.run_dir / "model_card.md")
        (self.run_dir / "history.json").write_text(json.dumps(self.history))
        if self.skipped:
            log.warning(f"{len(self.skipped)} content image(s) could not be read and were skipped")
        log.info(f"saved {self.output} ({self.step} steps, {it_s:.2f} it/s); samples: {sample}")
        return self.output
