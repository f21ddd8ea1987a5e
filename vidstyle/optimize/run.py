"""``OptimizePipeline(cfg).run(input, output)``: the pipeline with the stylize step replaced by
optimization. Decoding, resizing, encoding, timing, audio, partial outputs and signals are the
:class:`~vidstyle.pipeline.api.Pipeline`'s own; this module builds the job (VGG, painting, face
networks, start images) and the work folder that makes video jobs resumable.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import PipelineConfig, load_config
from ..configtools import to_dict
from ..errors import ConfigError, InputError, VidstyleError
from ..geometry import fit_long_side
from ..io.sink import default_output
from ..io.source import input_kind, load_image
from ..log import log
from ..optional import require
from ..pipeline.api import Pipeline, RunReport
from ..pipeline.memory import MemoryPlan
from ..pipeline.stages import EncodeStage, PostprocessStage, PreprocessStage
from .gatys import Gatys, check_memory, load_identity, noise_image
from .progress import OptimizeProgress
from .stage import OptimizeStage
from .video import Motion, RuderVideo
from .workdir import WorkDir


@dataclass
class _JobInfo:
    """What the pipeline reports as its "stylizer"."""

    name: str
    device: torch.device


class OptimizePipeline(Pipeline):
    """Optimize images, image folders or videos with ``cfg.optimize`` (painting: ``style_image``).

    ``vgg``, ``identity_net`` and ``detector`` can be injected (tests use random-initialised ones).
    """

    def __init__(
        self,
        cfg: PipelineConfig | None = None,
        *,
        vgg: torch.nn.Module | None = None,
        identity_net: torch.nn.Module | None = None,
        detector=None,
        **overrides: object,
    ):
        super().__init__(cfg or load_config(search_cwd=False), **overrides)
        from ..stylize.device import resolve_device

        self.opt = self.cfg.optimize
        if not self.opt.style_image:
            raise ConfigError("no painting given (--style-image FILE)")
        self.progress_mode = self.cfg.run.progress
        self.cfg = dataclasses.replace(self.cfg, run=dataclasses.replace(self.cfg.run, progress="off"))
        self.device = resolve_device(self.opt.device)
        self._vgg, self._identity, self._detector = vgg, identity_net, detector
        self._gatys: Gatys | None = None
        self._style_net = None
        self._job: dict = {}

    # ------------------------------------------------------------------ the Pipeline hooks
    def label(self) -> str:
        self.painting()  # unreadable painting: fail before any decoding
        return Path(self.opt.style_image).stem

    @property
    def stylizer(self) -> _JobInfo:
        o = self.opt
        return _JobInfo(
            f"optimize {Path(o.style_image).name} ({o.optimizer}, init {o.init}, {self.device.type})",
            self.device,
        )

    def max_side_for(self, h: int, w: int, planned: int = 0) -> int:
        return self.opt.size

    def memory_plan(self, info, out, compare: bool = False) -> MemoryPlan:
        """Unchanged settings: optimization checks its own memory (``gatys.check_memory``), and
        one frame at a time is in its hands."""
        q = self.cfg.run.queue_size
        return MemoryPlan(budget=0, estimate=0, queue_size=q, max_side=self.opt.size, lookahead=None)

    def stages(self, sink, compare=None, max_side: int | None = None) -> list:
        job = self._job
        gatys = self.gatys()
        motion = Motion(self.cfg.flow, self.cfg.temporal, self.device)
        first_fill, fill = self._fills()
        video = RuderVideo(gatys, self.opt, motion, fill, first_fill, on_iter=job["progress"].iteration)
        stage = OptimizeStage(self.opt, gatys, video, job["temporal"], job["work"], job["progress"])
        return [
            PreprocessStage(self.device, self.opt.size if max_side is None else max_side),
            stage,
            PostprocessStage(),
            EncodeStage(sink),
        ]

    def run(self, input, output=None, compare=None, on_progress=None) -> RunReport:
        spec = str(input)
        kind = input_kind(spec)
        if compare is not None:
            raise ConfigError("--compare is not available with optimize")
        out = Path(output) if output is not None else default_output(spec, self.label(), kind)
        self._job = {
            "spec": spec,
            "out": out,
            "work": None,
            "temporal": kind == "video" and self.opt.sequence == "ruder",
        }
        self.gatys()  # VGG, painting, face networks and the style net
        self._fills()  # load before any output file exists
        try:
            report = super().run(input, out, compare, on_progress)
        except VidstyleError:
            self._close_progress()
            work = self._job.get("work")
            if work is not None and any(work.path.glob("pass*/*.png")):
                log.warning(
                    f"finished frames are kept in {work.path}: run the same command again "
                    f"to continue from there"
                )
            raise
        except BaseException:
            self._close_progress()
            raise
        self._close_progress()
        if self._job.get("work") is not None:
            self._job["work"].remove()
        return report

    def _run(self, source, out, single_image, compare_path, on_progress=None):
        info = source.info
        check_memory(*fit_long_side(info.height, info.width, self.opt.size), self.opt, self.device)
        multi = not single_image
        passes = self.opt.passes if self._job["temporal"] else 1
        self._job["progress"] = OptimizeProgress(self.progress_mode, info.frames, passes, self.opt.iters)
        if multi:
            where = (
                Path(self.opt.work_dir).expanduser()
                if self.opt.work_dir
                else out.with_name(out.name + ".optimize")
            )
            self._job["work"] = WorkDir(where, self._fingerprint(info)).open()
        return super()._run(source, out, single_image, compare_path, on_progress)

    def _close_progress(self) -> None:
        progress = self._job.get("progress")
        if progress is not None:
            progress.close()

    # ------------------------------------------------------------------ the job's parts
    def painting(self):
        path = Path(self.opt.style_image).expanduser()
        if not path.is_file():
            raise InputError(f"style image not found: {path}")
        try:
            return load_image(path)
        except InputError as exc:
            raise InputError(f"style image {exc}") from None

    def gatys(self) -> Gatys:
        if self._gatys is None:
            from ..perceptual.vgg import load_vgg

            o = self.opt
            painting = self.painting()  # a bad painting fails before any download
            layers = sorted(set(o.style_layers) | {o.content_layer})
            vgg = (
                self._vgg
                if self._vgg is not None
                else load_vgg(str(Path(o.vgg_weights).expanduser()) if o.vgg_weights else None, layers)
            )
            identity = self._identity if self._identity is not None else load_identity(o)
            detector = self._detector if self._detector is not None else self._mtcnn()
            self._gatys = Gatys(o, vgg, painting, self.device, identity, detector)
        return self._gatys

    def _mtcnn(self):
        if self.opt.faces == "off":
            return None
        require(
            "facenet_pytorch",
            "--faces needs facenet-pytorch (pip install --no-deps facenet-pytorch), or use --faces off",
            ConfigError,
        )
        from ..faces.detector import MTCNNDetector

        f = self.cfg.faces
        return MTCNNDetector(device=str(self.device), min_face=f.min_face, score_min=f.score_min)

    def _fills(self):
        """(first frame's start image, fill of disoccluded regions) as functions of the content."""
        init, seed = self.opt.init, self.opt.seed
        if init == "content":
            same = lambda content, index: content  # noqa: E731
            return same, same
        if init == "noise":
            return (
                lambda content, index: noise_image(content.shape, seed + index, content.device),
                lambda content, index: content,
            )
        net = self.style_net(init.split(":", 1)[1])

        def stylized(content, index):
            with torch.no_grad():
                return net(content / 255.0).float().clamp(0, 1) * 255.0

        return stylized, stylized

    def style_net(self, name: str):
        """The feed-forward model of ``--init style-net:NAME`` (torch, fp32, on the job's device)."""
        if self._style_net is None:
            from ..pipeline.scheduling import load_stylizer

            m = dataclasses.replace(
                self.cfg.model,
                style=name,
                backend="torch",
                precision="fp32",
                device=str(self.device),
                workers=1,
                batch=1,
            )
            self._style_net = load_stylizer(dataclasses.replace(self.cfg, model=m))
        return self._style_net

    def _fingerprint(self, info) -> dict:
        """What a work folder's frames depend on (a resumed job must match all of it)."""
        path = Path(self._job["spec"])
        stat = path.stat() if path.is_file() else None
        style = Path(self.opt.style_image).expanduser()
        settings = to_dict(self.opt)
        for key in ("device", "work_dir", "precision"):
            settings.pop(key, None)
        return {
            "input": str(path.resolve()),
            "input_bytes": stat.st_size if stat else None,
            "input_mtime": stat.st_mtime if stat else None,
            "frames": info.frames,
            "size": [info.width, info.height],
            "painting": hashlib.sha256(style.read_bytes()).hexdigest(),
            "optimize": settings,
            "flow": to_dict(self.cfg.flow),
            "consistency": [list(self.cfg.temporal.occlusion), list(self.cfg.temporal.motion_boundary)],
        }


def optimize_file(input, output=None, *, config=None, **overrides) -> RunReport:
    """One call: ``optimize_file("clip.mp4", "out.mp4", optimize__style_image="painting.jpg")``."""
    cfg = config if isinstance(config, PipelineConfig) else load_config(config, search_cwd=False)
    return OptimizePipeline(cfg, **overrides).run(input, output)
