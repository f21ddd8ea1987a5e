"""The training run: inputs -> networks -> steps -> checkpoints, samples, final model.

``Trainer(cfg, output).run()`` trains and saves ``output``. The loss network, the identity network
and the face detector can be injected (tests use random-initialised ones). Each job lives in its
own module; this one wires them and runs the loop:

styles and Grams  :mod:`.targets`      network (fresh / init / extend)  :mod:`.network`
loss networks     :mod:`.loss_nets`    device and mixed precision       :mod:`.precision`
faces             :mod:`.faces_cache`  batches                          :mod:`.data`, :mod:`.batch`
learning rate     :mod:`.schedule`     losses and the update            :mod:`.step`
loss history      :mod:`.history`      sample grid                      :mod:`.samples`, :mod:`.report`
checkpoints       :mod:`.checkpoint`   model metadata and card          :mod:`.meta`, :mod:`.card`
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from ..configtools import to_dict
from ..errors import ConfigError
from ..faces.detector import FaceDetector, Faces
from ..log import log, progress_enabled
from ..models.store import save_model
from ..stylize.device import resolve_device
from . import history as H
from .batch import TrainBatch
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig, dump
from .data import StepBatches, check_readable, list_images
from .loss_nets import loss_networks
from .network import build_network, resolve_start
from .precision import precision_for
from .report import loss_curve, sample_grid
from .samples import pick_samples, stylize
from .schedule import lr_at
from .step import Objective, total_loss, update
from .targets import load_styles, style_grams, style_scale


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
        self.precision = precision_for(cfg.run, self.device)
        self.run_dir = (
            cfg.resolve(cfg.paths.run_dir) if cfg.paths.run_dir else self.output.with_suffix(".run")
        )
        self.resume = Path(resume) if resume else None
        self._vgg, self._identity, self._detector_factory = vgg, identity_net, detector_factory
        self.progress = progress if progress is not None else progress_enabled(cfg.run.progress)
        self.step = 0
        self.history: list[dict] = []
        self.skipped: set[str] = set()
        self.train_seconds = 0.0

    # ----------------------------------------------------------------- setup
    def setup(self) -> None:
        cfg = self.cfg
        if cfg.run.threads:
            torch.set_num_threads(cfg.run.threads)
        self.styles = load_styles(cfg)
        self.start = resolve_start(cfg, self.styles.names)  # before the face detection, which is slow
        self.content_paths, bad = check_readable(list_images([cfg.resolve(d) for d in cfg.paths.content]))
        self._skip(str(p) for p in bad)
        faces = self._detect_faces() if cfg.uses_faces else None
        self._setup_networks()
        self.batches = StepBatches(
            self.content_paths,
            cfg.data,
            cfg.motion,
            cfg.optim.batch,
            len(self.styles.names),
            cfg.run.seed,
            faces=faces,
            temporal=cfg.loss.temporal > 0,
            face_margin=cfg.loss.face_margin,
            identity_min_face=cfg.loss.identity_min_face,
        )
        self.sample_images = pick_samples(
            self.content_paths, faces, cfg.run.sample_count, cfg.run.sample_size, cfg.run.seed
        )
        if self.resume:
            info = load_checkpoint(self.resume, self.net, self.optimizer, self.device)
            self.step = int(info["step"])
            self.history = info.get("history", [])
            self.skipped.update(info.get("skipped", []))
            self.train_seconds = float(info.get("train_seconds", 0.0))
            if self.scaler is not None and info.get("scaler"):
                self.scaler.load_state_dict(info["scaler"])
            log.info(f"resumed from {self.resume} at step {self.step}")

    def _skip(self, paths: Iterable[str]) -> None:
        """Warn once about each content file that cannot be decoded, and count it."""
        for path in paths:
            if path not in self.skipped:
                log.warning(f"skipping unreadable content image {path}")
                self.skipped.add(path)

    def _detect_faces(self) -> dict[Path, Faces]:
        from .faces_cache import FACE_SETTINGS, FaceCache, content_faces, mtcnn

        cfg = self.cfg
        cache_dir = (
            cfg.resolve(cfg.paths.cache_dir)
            if cfg.paths.cache_dir
            else self.output.parent / ".vidstyle-cache"
        )
        factory = self._detector_factory or (lambda: mtcnn(str(self.device)))
        cache = FaceCache(cache_dir / "faces.json", factory, FACE_SETTINGS)
        faces, self.content_paths = content_faces(self.content_paths, cache, progress=self.progress)
        self.skipped.update(str(p) for p in cache.bad)  # content_faces warned about them
        return faces

    def _setup_networks(self) -> None:
        cfg, dev, precision = self.cfg, self.device, self.precision
        vgg, idnet = loss_networks(cfg, dev, self._vgg, self._identity)
        built = build_network(self.start, cfg.model.arch, self.styles.names, cfg.run.seed, dev)
        self.net, self.init_meta = built.net, built.init_meta
        if precision.channels_last:
            self.net = self.net.to(memory_format=torch.channels_last)
            vgg = vgg.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(built.trainable, lr=cfg.optim.lr)
        self.scaler = torch.amp.GradScaler("cuda") if precision.needs_grad_scaler else None
        self.objective = Objective(
            loss=cfg.loss,
            vgg=vgg,
            idnet=idnet,
            target_grams=style_grams(vgg, self.styles.images, cfg.loss.style_layers, precision),
            style_scale=style_scale(cfg.loss.style_scale),
            weighted_faces=cfg.uses_weighted_faces,
            style_offset=self.start.style_offset,
            precision=precision,
        )

    # ----------------------------------------------------------------- one step
    def compute_losses(self, batch: TrainBatch) -> dict[str, torch.Tensor]:
        """Weighted loss terms of one batch (already on the device)."""
        return self.objective.terms(self.net, batch)

    def train_step(self, batch: TrainBatch) -> dict[str, float]:
        """One update on ``batch``; returns each term and the ``total`` as floats."""
        self.net.train()
        b = batch.to(self.device, self.precision.channels_last)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.step, self.cfg.optim)
        terms = self.compute_losses(b)
        total = total_loss(terms, self.step)
        update(total, self.net, self.optimizer, self.scaler, self.cfg.optim.grad_clip)
        self.step += 1
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["total"] = float(total.detach())
        return out

    # ----------------------------------------------------------------- the loop
    def _loader(self) -> Iterator[TrainBatch]:
        """The batches of the steps still to run, in order (from loader processes on cuda)."""
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
        amp = f" (amp {self.precision.amp_name})" if self.precision.amp else ""
        log.info(
            f"training {self.net.arch} on {len(self.content_paths)} images, "
            f"{len(self.styles.names)} style(s), device {self.device}{amp}; run directory {self.run_dir}"
        )
        bar = tqdm(
            total=cfg.optim.steps,
            initial=self.step,
            unit="it",
            dynamic_ncols=True,
            disable=not self.progress,
            desc="train",
        )
        window: list[dict[str, float]] = []
        t_window = 0.0
        try:
            t0 = time.perf_counter()
            for batch in self._loader():
                self._skip(batch.skipped)
                window.append(self.train_step(batch))
                t1 = time.perf_counter()
                t_window += t1 - t0
                self.train_seconds += t1 - t0
                bar.update(1)
                if len(window) == cfg.run.log_every or self.step == cfg.optim.steps:
                    self.history.append(H.record(window, t_window, self.step))
                    bar.set_postfix_str(H.postfix(self.history[-1]), refresh=False)
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

    def _periodic(self) -> None:
        """Sample grids, a log line and checkpoints every so many steps (not at the last one)."""
        r, steps = self.cfg.run, self.cfg.optim.steps
        if r.sample_every and self.step % r.sample_every == 0 and self.step < steps:
            self.write_samples()
            if not self.progress and self.history:  # a log line instead of the bar
                rec = self.history[-1]
                log.info(f"step {self.step}/{steps} ({rec['it_s']:.2f} it/s) {H.postfix(rec)}")
        if r.checkpoint_every and self.step % r.checkpoint_every == 0 and self.step < steps:
            checkpoints = self.run_dir / "checkpoints"
            self.save_checkpoint(checkpoints / f"step-{self.step:07d}.safetensors")
            self.save_checkpoint(checkpoints / "last.safetensors")
            for old in sorted(checkpoints.glob("step-*.safetensors"))[: -r.keep_checkpoints]:
                old.unlink(missing_ok=True)

    # ----------------------------------------------------------------- outputs
    def write_samples(self) -> Path:
        """The sample grid of this step (content | each style), and the loss curve so far."""
        offset = self.start.style_offset
        cols = [self.sample_images] + [
            stylize(self.net, self.sample_images, offset + s, self.precision)
            for s in range(len(self.styles.names))
        ]
        path = sample_grid(cols, self.run_dir / "samples" / f"step-{self.step:07d}.png")
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
            "styles": self.styles.names,
        }
        scaler = self.scaler.state_dict() if self.scaler is not None else None
        return save_checkpoint(path, self.net, self.optimizer, info, scaler)

    def finish(self) -> Path:
        """The last checkpoint, samples, model file, card and history; returns the model's path."""
        from .card import write_model_card
        from .meta import model_meta

        self.save_checkpoint(self.run_dir / "checkpoints" / "last.safetensors")
        sample = self.write_samples()
        meta = model_meta(
            self.cfg,
            self.output.stem,
            self.styles,
            self.start,
            self.init_meta,
            steps=self.step,
            history=self.history,
            train_seconds=self.train_seconds,
            skipped=len(self.skipped),
            device=self.device,
        )
        save_model(self.net, meta, self.output)
        write_model_card(meta, self.run_dir / "model_card.md")
        (self.run_dir / "history.json").write_text(json.dumps(self.history))
        if self.skipped:
            log.warning(f"{len(self.skipped)} content image(s) could not be read and were skipped")
        it_s = self.step / self.train_seconds if self.train_seconds else 0.0
        log.info(f"saved {self.output} ({self.step} steps, {it_s:.2f} it/s); samples: {sample}")
        return self.output
