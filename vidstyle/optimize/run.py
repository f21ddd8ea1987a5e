"""``OptimizePipeline(cfg).run(input, output)``: the pipeline with the stylize step replaced by
optimization. Decoding, resizing, encoding, timing, audio, partial outputs and signals are the
:class:`~vidstyle.pipeline.api.Pipeline`'s own; this module builds the job (VGG, painting, face
networks, start images) and the work folder that makes video jobs resumable, through the
pipeline's public hooks (``stage_specs``, ``run_scope``, ``stylizer_name``, ``memory_plan``,
``max_side_for``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import PipelineConfig, load_config
from ..configtools import to_dict
from ..errors import ConfigError, InputError, VidstyleError
from ..geometry import fit_long_side
from ..io.frame import VideoInfo
from ..io.sink import default_output
from ..io.source import input_kind, load_image
from ..log import log
from ..optional import require
from ..pipeline.api import Pipeline, PipelineRun, RunReport, apply_overrides
from ..pipeline.memory import MemoryPlan
from ..pipeline.stages import EncodeStage, PostprocessStage, PreprocessStage, StageOutputs, StageSpec
from ..pipeline.stages.spec import StageHost
from ..stylize.base import Stylizer
from .gatys import Gatys, check_memory, load_identity, noise_image
from .progress import OptimizeProgress
from .stage import OptimizeStage
from .video import Motion, RuderVideo
from .workdir import WorkDir

Fill = Callable[[torch.Tensor, int], torch.Tensor]
"""(content 1 x 3 x h x w in 0..255, frame index) -> an image of the same shape and range."""


@dataclass
class OptimizeJob:
    """The state of one run: set up by ``run_scope``, read by the optimize stage."""

    temporal: bool  # a video optimized in order (Ruder), not independent images
    progress: OptimizeProgress
    work: WorkDir | None = None  # finished frames of a multi-frame job (resume)


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
        super().__init__(apply_overrides(cfg or load_config(search_cwd=False), overrides))
        from ..stylize.device import resolve_device

        self.opt = self.cfg.optimize
        if not self.opt.style_image:
            raise ConfigError("no painting given (--style-image FILE)")
        self.progress_mode = self.cfg.run.progress
        self.cfg = dataclasses.replace(self.cfg, run=dataclasses.replace(self.cfg.run, progress="off"))
        self.device = resolve_device(self.opt.device)
        self._vgg, self._identity, self._detector = vgg, identity_net, detector
        self._gatys: Gatys | None = None
        self._style_net: Stylizer | None = None
        self._job: OptimizeJob | None = None

    # ------------------------------------------------------------------ the Pipeline hooks
    def label(self) -> str:
        self.painting()  # unreadable painting: fail before any decoding
        return Path(self.opt.style_image).stem

    def stylizer_name(self) -> str:
        o = self.opt
        return f"optimize {Path(o.style_image).name} ({o.optimizer}, init {o.init}, {self.device.type})"

    def max_side_for(self, h: int, w: int, planned: int = 0) -> int:
        return self.opt.size

    def memory_plan(self, info: VideoInfo, out: Path, compare: bool = False) -> MemoryPlan:
        """Unchanged settings: optimization checks its own memory (``gatys.check_memory``), and
        one frame at a time is in its hands."""
        q = self.cfg.run.queue_size
        return MemoryPlan(budget=0, estimate=0, queue_size=q, max_side=self.opt.size, lookahead=None)

    def stage_specs(self) -> Sequence[StageSpec]:
        """preprocess (to ``--size`` on the job's device) -> optimize -> postprocess -> encode."""
        return (
            StageSpec("preprocess", self._preprocess_stage),
            StageSpec("optimize", self._optimize_stage),
            StageSpec("postprocess", lambda pipeline, run: PostprocessStage()),
            StageSpec("encode", lambda pipeline, run: EncodeStage(run.sink)),
        )

    def _preprocess_stage(self, pipeline: StageHost, run: StageOutputs) -> PreprocessStage:
        return PreprocessStage(self.device, self.opt.size if run.max_side is None else run.max_side)

    def _optimize_stage(self, pipeline: StageHost, run: StageOutputs) -> OptimizeStage:
        job = self.job
        gatys = self.gatys()
        motion = Motion(self.cfg.flow, self.cfg.temporal, self.device)
        first_fill, fill = self._fills()
        video = RuderVideo(gatys, self.opt, motion, fill, first_fill, on_iter=job.progress.iteration)
        return OptimizeStage(self.opt, gatys, video, job.temporal, job.work, job.progress)

    @property
    def job(self) -> OptimizeJob:
        """The run in progress (its stages are built inside :meth:`run`)."""
        if self._job is None:
            raise RuntimeError("an optimize job's stages are built by OptimizePipeline.run")
        return self._job

    def run(self, input, output=None, compare=None, on_progress=None) -> RunReport:
        spec = str(input)
        kind = input_kind(spec)
        if compare is not None:
            raise ConfigError("--compare is not available with optimize")
        out = Path(output) if output is not None else default_output(spec, self.label(), kind)
        self.gatys()  # VGG, painting, face networks and the style net
        self._fills()  # load before any output file exists
        return super().run(input, out, compare, on_progress)

    @contextlib.contextmanager
    def run_scope(self, run: PipelineRun) -> Iterator[None]:
        """Memory check, progress bars and (several frames) the work folder; on failure the
        finished frames stay for the next run, on success the folder goes."""
        info = run.info
        check_memory(*fit_long_side(info.height, info.width, self.opt.size), self.opt, self.device)
        temporal = input_kind(run.input) == "video" and self.opt.sequence == "ruder"
        passes = self.opt.passes if temporal else 1
        job = OptimizeJob(temporal, OptimizeProgress(self.progress_mode, info.frames, passes, self.opt.iters))
        self._job = job
        try:
            if not run.single_image:
                where = (
                    Path(self.opt.work_dir).expanduser()
                    if self.opt.work_dir
                    else run.output.with_name(run.output.name + ".optimize")
                )
                job.work = WorkDir(where, self._fingerprint(run)).open()
            yield
        except VidstyleError:
            job.progress.close()
            if job.work is not None and any(job.work.path.glob("pass*/*.png")):
                log.warning(
                    f"finished frames are kept in {job.work.path}: run the same command again "
                    f"to continue from there"
                )
            raise
        except BaseException:
            job.progress.close()
            raise
        finally:
            self._job = None
        job.progress.close()
        if job.work is not None:
            job.work.remove()

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

    def _fills(self) -> tuple[Fill, Fill]:
        """(first frame's start image, fill of disoccluded regions) as functions of the content."""
        init, seed = self.opt.init, self.opt.seed

        def same(content: torch.Tensor, index: int) -> torch.Tensor:
            return content

        if init == "content":
            return same, same
        if init == "noise":
            return (lambda content, index: noise_image(content.shape, seed + index, content.device)), same
        net = self.style_net(init.split(":", 1)[1])

        def stylized(content: torch.Tensor, index: int) -> torch.Tensor:
            with torch.no_grad():
                return net(content / 255.0).float().clamp(0, 1) * 255.0

        return stylized, stylized

    def style_net(self, name: str) -> Stylizer:
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

    def _fingerprint(self, run: PipelineRun) -> dict:
        """What a work folder's frames depend on (a resumed job must match all of it)."""
        info, path = run.info, Path(run.input)
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
