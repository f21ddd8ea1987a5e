"""The pipeline's one typed config object (mirrors ``pipeline.yaml``; CLI flags override it).

Load order: dataclass defaults <- config file (``--config FILE``, else ``./pipeline.yaml`` when
present) <- CLI flags / ``--set key=value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .configtools import dump_yaml, from_dict, knob, load_yaml, override, section, yaml_load

DEVICE_PATTERN = r"auto|cpu|cuda(:\d+)?"


def device_knob(help: str) -> str:
    """A ``device`` setting: auto, cpu, cuda or cuda:N (validated), ``help`` its line."""
    return knob("auto", help, pattern=DEVICE_PATTERN, pattern_help="auto, cpu, cuda or cuda:N")


@dataclass
class ModelConfig:
    style: str = knob("default", "style name from `vidstyle models list`, or a model file path")
    style_mix: str = knob("", "multi-style models: blend, e.g. 'wave=0.7,the_scream=0.3' (empty: off)")
    backend: str = knob(
        "auto",
        "inference engine; auto = TensorRT (if installed) or torch fp16 on cuda, ONNX Runtime on cpu",
        choices=("auto", "torch", "onnx", "tensorrt"),
    )
    onnx_provider: str = knob(
        "auto",
        "ONNX Runtime execution provider (auto: by device)",
        choices=("auto", "cpu", "cuda", "tensorrt"),
    )
    compile: bool = knob(False, "torch backend: torch.compile the network (slow first frames)")
    compile_mode: str = knob(
        "max-autotune-no-cudagraphs",
        "torch.compile mode; CUDA graphs come from "
        "cuda_graphs, and modes with their own are run without them when it is on",
        choices=("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"),
    )
    cuda_graphs: bool = knob(
        False,
        "torch backend on cuda: capture the network as a CUDA graph per frame "
        "shape and replay it (less launch overhead; a warning and no graphs on cpu)",
    )
    input_range: str = knob(
        "auto",
        "foreign .onnx models without our metadata: input/output range",
        choices=("auto", "0-1", "0-255"),
    )
    bgr: bool = knob(False, "foreign .onnx models without our metadata: they take BGR")
    device: str = device_knob("auto (cuda when available, else cpu), cpu, cuda or cuda:N")
    precision: str = knob(
        "auto",
        "auto = fp16 on cuda; on cpu int8 where it passes the quality gate "
        "(ONNX Runtime on VNNI/AMX CPUs, our models), else fp32; int8 = ONNX Runtime "
        "static quantization; bf16 = torch backend",
        choices=("auto", "fp32", "fp16", "bf16", "int8"),
    )
    precision_gate_db: float = knob(
        30.0,
        "precision auto: int8 is used only when its worst PSNR against fp32 "
        "on the check frames is at least this (dB) and it is faster",
        min=0.0,
        max=200.0,
    )
    batch: int = knob(0, "frames per stylizer call (0: auto = 8 on cuda, 1 on cpu)", min=0, max=256)
    workers: int = knob(
        0, "stylizer calls in parallel (0: auto = one per CPU core on cpu, 1 on cuda)", min=0, max=256
    )
    max_side: int = knob(
        0, "stylize at most this long side in px, then scale back (0: native)", min=0, max=16384
    )
    channels_last: str = knob("auto", "memory format; auto = on for cuda only", choices=("auto", "on", "off"))
    threads: int = knob(
        0, "torch threads per stylizer call on cpu (0: auto = cores / workers)", min=0, max=1024
    )


@dataclass
class InputConfig:
    image_fps: str = knob(
        "25",
        "frame rate given to image-sequence inputs, e.g. 25 or 30000/1001",
        pattern=r"\d+(/\d+)?(\.\d+)?",
        pattern_help="a number or a ratio like 30000/1001",
    )
    decode_threads: int = knob(0, "decoder threads (0: FFmpeg's automatic choice)", min=0, max=64)
    video_stream: int = knob(0, "which video stream of a file to stylize (0: the first)", min=0, max=63)
    start: float = knob(
        0.0,
        "video files: start this many seconds in (from the keyframe before; the "
        "output starts at 0, like ffmpeg -ss)",
        min=0,
        max=1e7,
    )
    duration: float = knob(0.0, "video files: stylize only this many seconds (0: to the end)", min=0, max=1e7)


@dataclass
class EncodeConfig:
    codec: str = knob(
        "auto",
        "video encoder; auto = libx264, or libvpx-vp9 for .webm",
        choices=("auto", "libx264", "libx265", "libvpx-vp9", "h264_nvenc", "hevc_nvenc"),
    )
    crf: int = knob(
        -1,
        "constant rate factor (lower = better quality, bigger file); -1: auto = 18, higher for a "
        "low-bitrate source so the output follows its quality (docs/performance.md)",
        min=-1,
        max=63,
    )
    size_cap: float = knob(
        4.0,
        "crf auto, a source below 0.1 bits/px: cap the video bit rate at this many times the "
        "source's (0: no cap)",
        min=0,
        max=1000,
    )
    preset: str = knob(
        "medium",
        "encoder speed/size trade-off (x264/x265 presets)",
        choices=(
            "ultrafast",
            "superfast",
            "veryfast",
            "faster",
            "fast",
            "medium",
            "slow",
            "slower",
            "veryslow",
        ),
    )
    pix_fmt: str = knob(
        "yuv420p", "output pixel format; odd sizes fall back to yuv444p", choices=("yuv420p", "yuv444p")
    )
    audio: str = knob(
        "auto",
        "auto = copy when the container accepts the codec, else transcode",
        choices=("auto", "copy", "transcode", "none"),
    )
    audio_bitrate: int = knob(192_000, "bit rate of transcoded audio (bit/s)", min=8_000, max=1_536_000)
    fragmented: bool = knob(
        False,
        "MP4/MOV: write fragments of about 1 s, so that even a hard kill "
        "(SIGKILL, power loss) leaves a playable file (a little larger; `stream` "
        "recordings always are)",
    )
    options: dict[str, str] = knob({}, "extra encoder options passed to FFmpeg, e.g. {tune: film}")


@dataclass
class FarnebackConfig:
    pyr_scale: float = knob(0.5, "image scale between pyramid levels", min=0.1, max=0.9)
    levels: int = knob(3, "pyramid levels", min=1, max=10)
    winsize: int = knob(15, "averaging window (px at flow scale)", min=3, max=101)
    iterations: int = knob(3, "iterations per pyramid level", min=1, max=20)
    poly_n: int = knob(5, "pixel neighbourhood of the polynomial expansion", choices=(5, 7))
    poly_sigma: float = knob(1.2, "Gaussian sigma of the polynomial expansion", min=0.5, max=3.0)


@dataclass
class FlowConfig:
    backend: str = knob(
        "farneback",
        "optical-flow estimator (dis: faster, a little less accurate)",
        choices=("farneback", "dis"),
    )
    long_side: int = knob(
        480, "flow is computed with the long side scaled to this (px; 0: full size)", min=0, max=8192
    )
    workers: int = knob(2, "parallel flow workers (frame pairs are independent)", min=1, max=64)
    farneback: FarnebackConfig = section(FarnebackConfig, "Farneback parameters (OpenCV)")
    dis_preset: str = knob("fast", "DIS preset", choices=("ultrafast", "fast", "medium"))


@dataclass
class TemporalConfig:
    mode: str = knob(
        "blend",
        "off: per-frame; blend: mix in the previous output warped along the flow",
        choices=("off", "blend"),
    )
    alpha: float = knob(
        0.7, "weight of the warped previous output where the flow is consistent", min=0.0, max=1.0
    )
    detail: int = knob(
        4,
        "give the blend back the stylized frame's stroke contrast, measured over "
        "windows of this radius in px at output size; 0 = off",
        min=0,
        max=64,
    )
    occlusion: list[float] = knob(
        [0.01, 0.5], "Ruder occlusion test a, b: |w~+w^|^2 > a(|w~|^2+|w^|^2) + b", min=0.0, length=2
    )
    motion_boundary: list[float] = knob(
        [0.01, 0.002],
        "Ruder motion-boundary test a, b: |grad u^|^2+|grad v^|^2 > a|w^|^2 + b",
        min=0.0,
        length=2,
    )
    erode: int = knob(1, "shrink the consistent region by this many px (flow scale)", min=0, max=32)
    feather: int = knob(2, "soften mask edges over about 2x this many px (flow scale)", min=0, max=64)
    scene_cut: float = knob(
        0.35, "reset when fewer than this share of pixels are consistent", min=0.0, max=1.0
    )


@dataclass
class FacesConfig:
    mode: str = knob(
        "blend",
        "keep faces recognisable: off; blend (lerp original/stylized); luma "
        "(stylized colour, original luminance detail); restyle (face stylized again at "
        "a larger scale)",
        choices=("off", "blend", "luma", "restyle"),
    )
    strength: str = knob(
        "auto",
        "style kept inside faces, 0 (original face) .. 1 (no preservation); "
        "auto = by face size: up to 0.35 for blend/luma, falling to 0 for faces a few "
        "strokes high (see stroke_px, ramp_strokes); 1.0 for restyle",
        pattern=r"auto|0?\.\d+|[01](\.0*)?",
        pattern_help="auto or a number in 0..1",
    )
    stroke_px: float = knob(
        4.0,
        "auto strength: the stylizer's stroke size at stylization resolution "
        "(px; TransformerNet paints on 4-px cells)",
        min=0.5,
        max=256.0,
    )
    ramp_strokes: str = knob(
        "3,10",
        "auto strength: faces up to N0 strokes high keep no style, from N1 "
        "strokes the full strength, linear between (N0,N1)",
        pattern=r"\d+(\.\d*)?,\d+(\.\d*)?",
        pattern_help="two numbers N0,N1",
    )
    feather: float = knob(
        0.3,
        "mask edge ramp outside the face ellipse, as a share of its radius (at least 3 px)",
        min=0.0,
        max=1.0,
    )
    margin: float = knob(
        1.0,
        "face ellipse size; 1 takes in the hair line, jaw and chin around the detected box",
        min=0.5,
        max=3.0,
    )
    every: int = knob(5, "run the detector every k frames and track in between", min=1, max=1000)
    batch: int = knob(4, "detection frames per detector call", min=1, max=64)
    detect_long_side: int = knob(
        640, "detect on frames scaled to this long side (px; 0: full size)", min=0, max=8192
    )
    min_face: int = knob(24, "smallest face searched, px in the detection image", min=12, max=2000)
    small_face: int = knob(
        12,
        "small-face pass: also search faces down to this height (frame px) on "
        "frames up to full size; 0: no small-face pass",
        min=0,
        max=2000,
    )
    small_every: int = knob(
        10,
        "frames between small-face passes while small faces are in view (3x as long while none are)",
        min=1,
        max=10000,
    )
    score_min: float = knob(0.9, "drop detections scoring below this", min=0.0, max=1.0)
    fade_frames: int = knob(6, "frames over which a face mask fades in or out", min=1, max=300)
    hold: int = knob(1, "detection rounds a face may be missed before its mask fades", min=0, max=100)
    smoothing: float = knob(0.6, "weight of a new detection against the tracked box", min=0.0, max=1.0)
    iou_match: float = knob(0.3, "IoU needed to match a detection to a tracked face", min=0.0, max=1.0)
    restyle_scale: float = knob(
        2.0, "restyle: upscale factor of the face crop before stylizing", min=1.0, max=8.0
    )
    restyle_max_side: int = knob(512, "restyle: cap on the upscaled crop's long side (px)", min=64, max=4096)
    debug: bool = knob(False, "draw boxes, landmarks and masks into the output")


@dataclass
class PeopleConfig:
    style: str = knob(
        "", "style of the people (a style name or model path, original or blur); empty: the main style"
    )
    background: str = knob(
        "",
        "style of everything that is not a person (a style name or model path, "
        "original or blur); empty: the main style",
    )
    person_styles: str = knob(
        "", "one style per person in order of first appearance, cycling, e.g. 'wave,the_scream' (empty: off)"
    )
    style_map: str = knob(
        "",
        "styles of given person ids (1 = the first person seen), e.g. "
        "'1=wave,2=the_scream'; wins over person_styles (empty: off)",
    )
    debug: bool = knob(False, "draw the person masks and ids into the output")
    model: str = knob(
        "landscape",
        "MediaPipe selfie segmentation model: landscape (144x256, made for video) or general (256x256)",
        choices=("landscape", "general"),
    )
    long_side: int = knob(
        256,
        "segment frames scaled to this long side (px; the masks are computed at this scale and scaled up)",
        min=32,
        max=4096,
    )
    every: int = knob(1, "segment every k frames; masks follow the optical flow in between", min=1, max=1000)
    workers: int = knob(2, "parallel segmentation workers", min=1, max=64)
    threshold: float = knob(
        0.5, "person probability above which a pixel belongs to a person", min=0.05, max=0.95
    )
    smoothing: float = knob(
        0.5,
        "weight of the masks carried along the flow against a new "
        "segmentation (0: no carrying; higher: steadier, slower edges)",
        min=0.0,
        max=0.95,
    )
    feather: float = knob(
        1.5, "soften the edges between people over this sigma (px at segmentation scale)", min=0.0, max=16.0
    )
    body: float = knob(1.5, "length of the torso seed below each face, in face heights", min=0.0, max=6.0)
    blur: float = knob(
        0.02, "background 'blur': Gaussian sigma as a share of the frame's long side", min=0.001, max=0.2
    )

    @property
    def enabled(self) -> bool:
        """Person features are on when any look is chosen for people or background, or masks are drawn."""
        return bool(self.style or self.background or self.person_styles or self.style_map or self.debug)


@dataclass
class StreamConfig:
    rtsp_transport: str = knob("tcp", "RTSP transport for sources and RTSP outputs", choices=("tcp", "udp"))
    open_timeout: float = knob(
        10.0,
        "seconds to wait for a source or RTSP output to connect, and then for "
        "the source's first frame (a keyframe)",
        min=0.5,
        max=600,
    )
    read_timeout: float = knob(
        2.5,
        "a live source that sends no video frame for this many seconds is lost: "
        "logged, and reopened at once (raise it for sources under 1 fps or sending "
        "in bursts, such as HLS); also the longest a write to an RTSP output may "
        "block",
        min=0.5,
        max=600,
    )
    reconnect: bool = knob(True, "reconnect to a lost live source (with back-off)")
    reconnect_max_wait: float = knob(8.0, "longest pause between reconnect attempts (s)", min=0.1, max=300)
    give_up_after: float = knob(
        120.0,
        "stop with an error when a lost source has not come back after this many seconds (0: never)",
        min=0,
        max=1e6,
    )
    drop_policy: str = knob(
        "auto",
        "when the pipeline falls behind: drop the oldest waiting frame, or make "
        "the source wait; auto = drop_oldest for live sources, block for files",
        choices=("auto", "drop_oldest", "block"),
    )
    buffer: int = knob(1, "frames waiting between capture and the pipeline", min=1, max=1000)
    queue_size: int = knob(1, "frames between two pipeline stages while streaming (latency)", min=1, max=64)
    in_flight: int = knob(
        0,
        "most frames inside the pipeline at once (capture to output); a new frame "
        "is taken only when one leaves, so none waits in a queue going stale; 0: auto = "
        "stylizer workers x batch + 1",
        min=0,
        max=1024,
    )
    segment_seconds: float = knob(
        0.0,
        "file outputs: start a new file every this many seconds (0: one "
        "file; a %03d pattern in the name alone means every 300 s)",
        min=0,
        max=1e6,
    )
    status_every: float = knob(
        10.0,
        "without a terminal (Docker, systemd), log the status line (fps, "
        "drops, latency, reconnects) every this many seconds, and write a status_json "
        "line as often (0: never; status_json then gets its first and last line)",
        min=0,
        max=86400,
    )
    status_json: str = knob(
        "",
        "append one JSON status object per line to this file ('-': standard "
        "output) every status_every seconds, when the state changes, and at the end "
        "(empty: none)",
    )
    preset: str = knob(
        "veryfast",
        "x264 preset of stream outputs (tune zerolatency)",
        choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium"),
    )
    preview_host: str = knob(
        "127.0.0.1", "preview server address (keep it on loopback unless you mean to publish it)"
    )
    preview_port: int = knob(8090, "preview server port (0: any free port)", min=0, max=65535)
    preview_width: int = knob(1280, "width of the side-by-side preview (px)", min=64, max=7680)
    metrics_port: int = knob(
        0, "serve Prometheus text metrics at http://metrics_host:PORT/metrics (0: off)", min=0, max=65535
    )
    metrics_host: str = knob(
        "127.0.0.1", "metrics server address (keep it on loopback unless you mean to publish it)"
    )
    webcam_size: str = knob(
        "",
        "webcam capture size, e.g. 1280x720 (empty: the camera's default)",
        pattern=r"(\d+x\d+)?",
        pattern_help="WIDTHxHEIGHT or empty",
    )
    webcam_fps: str = knob(
        "",
        "webcam frame rate, e.g. 30 (empty: the camera's default)",
        pattern=r"(\d+(/\d+)?)?",
        pattern_help="a number or empty",
    )


@dataclass
class RunConfig:
    queue_size: int = knob(8, "frames buffered between two stages (bounds memory)", min=1, max=1024)
    memory_limit: float = knob(
        0.0,
        "GB the frames in flight may take: huge frames lower the queue size, "
        "the encoder look-ahead, then the stylization size to fit (0: 60% of "
        "the memory free at start)",
        min=0.0,
    )
    progress: str = knob(
        "auto", "progress bar: auto = when stderr is a terminal", choices=("auto", "on", "off")
    )
    stats: bool = knob(False, "print per-stage throughput at the end")
    overwrite: str = knob(
        "warn",
        "an output that exists already: warn (overwrite it, saying so), yes "
        "(overwrite quietly, -y) or no (stop with an error, -n)",
        choices=("warn", "yes", "no"),
    )


@dataclass
class BatchConfig:
    ray: str = knob(
        "",
        "Ray cluster to join: '' = start a local Ray instance sized to this machine, "
        "'auto' = the cluster this machine belongs to, or ray://HOST:10001",
    )
    chunk_seconds: float = knob(
        60.0,
        "split videos longer than 1.5x this at keyframes into chunks of "
        "about this many seconds (0: never split)",
        min=0,
        max=1e6,
    )
    overlap: int = knob(
        -1,
        "frames each chunk decodes and runs before its start to warm up the flow, "
        "blend and face tracker (dropped from its output); -1: auto = "
        "ceil(ln(1/255) / ln(temporal.alpha)), and at least faces.every + "
        "faces.fade_frames when faces are on",
        min=-1,
        max=10000,
    )
    workers: int = knob(
        0,
        "chunk workers (Ray actors, each holding a loaded model); 0: auto = as "
        "many as the cluster's CPUs / GPUs allow",
        min=0,
        max=100000,
    )
    cpus_per_task: float = knob(
        1.0, "CPUs each worker reserves (and uses for its threads)", min=0.0, max=1024.0
    )
    gpus_per_task: float = knob(
        -1.0,
        "GPUs each worker reserves, fractions allowed (0.5: two workers "
        "share a GPU); -1: auto = 1 when the cluster has GPUs, else 0",
        min=-1.0,
        max=64.0,
    )
    retries: int = knob(
        2, "times a chunk is retried after its worker died (on another live worker)", min=0, max=100
    )


@dataclass
class OptimizeConfig:
    """`vidstyle optimize` (Gatys; Ruder et al. 2016). Defaults are manuelruder/artistic-videos'
    mapped onto VGG16 (docs/design.md section 8); loss units are documented in
    vidstyle/optimize/objective.py."""

    style_image: str = knob("", "the painting (any image file) whose style is transferred")
    size: int = knob(
        512,
        "long side of the optimized image in px (the output is scaled back to the "
        "input's size); 0: the input's own size",
        min=0,
        max=16384,
    )
    style_scale: float = knob(
        1.0, "style image resized to this share of the optimized long side", min=0.05, max=8.0
    )
    iters: int = knob(1000, "iterations per image and per video frame after the first", min=1)
    iters_first: int = knob(
        0, "iterations for a video's first frame; 0: twice `iters` (the reference's 2000 / 1000)", min=0
    )
    optimizer: str = knob(
        "lbfgs", "lbfgs (history `history`, step 1, as the reference) or adam", choices=("lbfgs", "adam")
    )
    history: int = knob(100, "L-BFGS history size", min=1, max=1000)
    adam_lr: float = knob(10.0, "Adam learning rate (pixel units, 0..255)", min=0.0)
    tol: float = knob(
        1e-4,
        "stop early when the loss changed by less than this share over `tol_every` iterations (0: never)",
        min=0.0,
    )
    tol_every: int = knob(50, "iterations between early-stop checks", min=1)
    init: str = knob(
        "noise",
        "start image: noise (the reference), content, or style-net:NAME "
        "(a feed-forward model's output, refined; see `vidstyle models list`)",
        pattern=r"noise|content|style-net:.+",
        pattern_help="noise, content or style-net:NAME",
    )
    content_weight: float = knob(5.0, "content loss weight", min=0.0)
    content_layer: str = knob(
        "relu4_2",
        "VGG16 layer of the content loss",
        choices=("relu1_2", "relu2_2", "relu3_3", "relu4_2", "relu4_3"),
    )
    style_weight: float = knob(1e2, "style loss weight (per layer)", min=0.0)
    style_layers: list[str] = knob(
        ["relu1_1", "relu2_1", "relu3_1", "relu4_1"],
        "VGG16 layers of the Gram style loss (VGG-19's relu5_1 is not in VGG16's conv stack up to conv4_3)",
        choices=(
            "relu1_1",
            "relu1_2",
            "relu2_1",
            "relu2_2",
            "relu3_1",
            "relu3_2",
            "relu3_3",
            "relu4_1",
            "relu4_2",
            "relu4_3",
        ),
    )
    tv_weight: float = knob(1e-3, "total variation weight", min=0.0)
    sequence: str = knob(
        "ruder",
        "video: ruder = each frame starts from the previous result warped "
        "along the flow, with the temporal loss; independent = every frame on its own "
        "(plain Gatys per frame, flickers)",
        choices=("ruder", "independent"),
    )
    temporal_weight: float = knob(
        1e3,
        "video: short-term temporal loss weight (consistency-masked "
        "MSE to the previous result warped along the flow)",
        min=0.0,
    )
    long_term: list[int] = knob(
        [],
        "video: also tie each frame to these earlier frames (offsets, "
        "e.g. [1, 10, 20, 40]; Ruder's long-term loss); empty: short-term only",
        min=1,
        max=1000,
    )
    passes: int = knob(
        1,
        "video: passes over the clip, alternating forward/backward with blending "
        "(the reference's multi-pass uses 15)",
        min=1,
        max=100,
    )
    pass_iters: int = knob(100, "video, passes > 1: iterations per frame and pass", min=1)
    pass_temporal_from: int = knob(8, "video, passes > 1: first pass with the temporal loss", min=1)
    pass_temporal_weight: float = knob(5e2, "video, passes > 1: temporal loss weight", min=0.0)
    pass_blend: float = knob(
        0.5,
        "video, passes > 1: weight of the warped neighbour in a frame's "
        "start image where the flow is consistent",
        min=0.0,
        max=1.0,
    )
    coarse_side: int = knob(
        512,
        "images longer than this are first optimized at half size "
        "(repeatedly, down to at most this long side), each level starting the "
        "next; 0: single scale",
        min=0,
        max=16384,
    )
    preserve_color: bool = knob(
        False, "keep the content's colours: the result's luminance with the content's chroma (YIQ)"
    )
    faces: str = knob(
        "off",
        "portraits: weighted = content loss raised inside MTCNN face regions; "
        "identity = face-descriptor distance to the original face; both",
        choices=("off", "weighted", "identity", "both"),
    )
    face_weight: float = knob(
        4.0, "faces weighted/both: extra content weight inside faces (x content_weight)", min=0.0
    )
    identity_weight: float = knob(
        1e4, "faces identity/both: weight of the squared descriptor distance", min=0.0
    )
    identity_weights: str = knob(
        "", "face descriptor network weights (.pth or its directory), needed for faces identity/both"
    )
    vgg_weights: str = knob(
        "",
        "VGG16 weights (features state dict or torchvision's checkpoint); "
        "empty: torchvision's ImageNet weights, downloaded on first use",
    )
    device: str = device_knob("auto (cuda when available, else cpu), cpu, cuda or cuda:N")
    precision: str = knob(
        "auto",
        "VGG forward precision; auto = bf16 on CUDA with bf16 support, "
        "else fp32 (losses and Grams are always fp32)",
        choices=("auto", "fp32", "fp16", "bf16"),
    )
    seed: int = knob(0, "random seed of the noise init", min=0)
    work_dir: str = knob(
        "",
        "video: finished frames are kept here so a stopped job resumes "
        "(empty: OUTPUT.optimize next to the output; removed when done)",
    )


@dataclass
class PipelineConfig:
    model: ModelConfig = section(ModelConfig, "style network and inference")
    input: InputConfig = section(InputConfig, "decoding")
    flow: FlowConfig = section(FlowConfig, "optical flow between consecutive frames (temporal mode)")
    temporal: TemporalConfig = section(TemporalConfig, "temporal stabilisation")
    faces: FacesConfig = section(FacesConfig, "face preservation (MTCNN detection, tracking, soft masks)")
    people: PeopleConfig = section(
        PeopleConfig,
        "person masks: people and background in different "
        "styles, one style per person (MediaPipe selfie segmentation)",
    )
    stream: StreamConfig = section(StreamConfig, "live sources and outputs (`vidstyle stream`)")
    encode: EncodeConfig = section(EncodeConfig, "output encoding")
    batch: BatchConfig = section(BatchConfig, "many files and long videos on Ray (`vidstyle batch`)")
    run: RunConfig = section(RunConfig, "pipeline mechanics")
    optimize: OptimizeConfig = section(OptimizeConfig, "optimization mode (`vidstyle optimize`)")


HEADER = """vidstyle pipeline configuration: every knob, with its default.
CLI flags override these; `vidstyle config show` prints the effective values."""


def load_config(
    path: str | Path | None = None, overrides: dict[str, object] | None = None, search_cwd: bool = True
) -> PipelineConfig:
    """Defaults <- ``path`` (or ./pipeline.yaml when ``search_cwd``) <- ``overrides`` (dotted keys)."""
    if path is None and search_cwd and Path("pipeline.yaml").is_file():
        path = Path("pipeline.yaml")
    cfg = load_yaml(PipelineConfig, path) if path is not None else PipelineConfig()
    for key, value in (overrides or {}).items():
        if value is not None:
            cfg = override(cfg, key, value)
    return cfg


def load_yaml_text(text: str) -> PipelineConfig:
    """The config written by ``config_yaml`` (e.g. shipped to a worker process), validated again."""
    return from_dict(PipelineConfig, yaml_load(text) or {})


def config_yaml(cfg: PipelineConfig) -> str:
    return dump_yaml(cfg, HEADER)
