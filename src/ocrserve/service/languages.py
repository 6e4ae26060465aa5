"""The languages a request may ask for: which recogniser reads each, loaded on first use.

A language the serving set's own dictionary covers is read by it; any other by its script group's
language set (models/languages.py), whose recogniser alone is loaded here and then shares the
serving set's detector and classifiers.  Those recognisers are kept least recently used first,
at most `OCR_MAX_LOADED_LANGUAGES`; an in-flight page keeps the one it reads with until it ends.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence, Set
from dataclasses import dataclass

from ..engine import Pipeline
from ..engine.builder import load_language_recognizer
from ..engine.recognize import BestReading, Recognize, TextRecognizer
from ..errors import BadInput
from ..models import ModelStore
from ..models.languages import Route, all_codes, route, sets_by_script
from ..models.registry import get_model_set
from ..settings import Settings

log = logging.getLogger("ocrserve.service.languages")


@dataclass(frozen=True)
class Offered:
    """What `/health` says: the codes read now, and those whose recogniser `ocrserve models pull` would bring;
    `by_language_sets`: those of `readable` that an installed language set reads (the page's picker)."""

    readable: list[str]
    fetchable: list[str]
    by_language_sets: list[str]


class LanguageReaders:
    """The language recognisers of one process (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ModelStore(settings.model_dir, verify=settings.verify_models)
        self.loaded: OrderedDict[str, TextRecognizer] = OrderedDict()
        self._lock = threading.Lock()

    def installed(self, model_set: str) -> bool:
        """Whether a language set's recogniser and dictionary are on disk (checked again when loaded)."""
        spec = get_model_set(model_set).rec
        files = [spec.file] + ([spec.dict_file] if spec.dict_file is not None else [])
        return all(self.store.locate(f) is not None for f in files)

    def routes(self, codes: Sequence[str], own_charset: Set[str]) -> list[Route]:
        """Who reads each code (none asked: no routes); a 400 naming what this server reads when a code's
        recogniser is not installed."""
        if not codes:
            return []
        routes = list(dict.fromkeys(route(code, own_charset) for code in codes))
        absent = [r for r in routes if r.model_set is not None and not self.installed(r.model_set)]
        if absent:
            pulls = ", ".join(f"{r.code} by {r.model_set} (`ocrserve models pull {r.model_set}`)" for r in absent)
            raise BadInput(f"language(s) not installed here: {pulls}; what is read here: "
                           f"{', '.join(self.offered(own_charset).readable)}")
        return routes

    def offered(self, own_charset: Set[str]) -> Offered:
        readable: list[str] = []
        fetchable: list[str] = []
        by_language_sets: list[str] = []
        by_script = sets_by_script()
        installed = {name: self.installed(name) for name in by_script.values()}
        for code in all_codes():
            try:
                model_set = route(code, own_charset, by_script).model_set
            except BadInput:
                continue
            (readable if model_set is None or installed[model_set] else fetchable).append(code)
            if model_set is not None and installed[model_set]:
                by_language_sets.append(code)
        return Offered(readable, fetchable, by_language_sets)

    def recognizer(self, model_set: str, pipeline: Pipeline) -> TextRecognizer:
        """The set's recogniser, loaded on first use (in the caller's thread), the least recently used unloaded."""
        with self._lock:
            if model_set in self.loaded:
                self.loaded.move_to_end(model_set)
                return self.loaded[model_set]
        recognizer = load_language_recognizer(get_model_set(model_set), self.store, pipeline.config)
        with self._lock:
            recognizer = self.loaded.setdefault(model_set, recognizer)
            self.loaded.move_to_end(model_set)
            while len(self.loaded) > self.settings.max_loaded_languages:
                name, _ = self.loaded.popitem(last=False)
                log.info("language recogniser %s unloaded (OCR_MAX_LOADED_LANGUAGES=%d)", name,
                         self.settings.max_loaded_languages)
        log.info("language recogniser %s loaded", model_set)
        return recognizer

    def pipeline(self, pipeline: Pipeline, routes: Sequence[Route]) -> Pipeline:
        """`pipeline` reading with the routes' recognisers: itself for its own set alone; with two or more,
        each line is read by all of them and the surest reading kept."""
        if all(r.model_set is None for r in routes):
            return pipeline
        readers: list[Recognize] = []
        charset: list[str] = []
        for r in routes:
            if r.model_set is None:
                readers.append(pipeline.recognize)
                charset += pipeline.charset
            else:
                recognizer = self.recognizer(r.model_set, pipeline)
                readers.append(recognizer)
                charset += recognizer.decode.charset
        # lines are ordered from the right only when every language asked for reads that way
        right_to_left = all(r.model_set is not None and get_model_set(r.model_set).rec.right_to_left for r in routes)
        return pipeline.reading_with(readers[0] if len(readers) == 1 else BestReading(readers),
                                     list(dict.fromkeys(charset)), right_to_left)
