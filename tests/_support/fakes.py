"""Stand-ins for one layer alone, each saying what it replaces: only tests of the layer above use them."""

from __future__ import annotations

from ocrserve.engine.recognize import MAX_CALL_COLUMNS, Recognition
from ocrserve.errors import InferenceError


class FakeRecognizer:
    """Stands in for the ONNX recogniser to test the batcher's bookkeeping only: a crop one
    pixel high 'fails' like a corrupt input would, any other crop reads as its width."""

    max_call_columns = MAX_CALL_COLUMNS

    def plan(self, crops, batch_size):
        return [([i], 320) for i in range(len(crops))]

    def __call__(self, crops, batch_size):
        return self.run_batch(crops, 320)

    def run_batch(self, crops, width):
        if any(c.shape[0] == 1 for c in crops):
            raise InferenceError("rec", "bad crop")
        return [Recognition(str(c.shape[1]), 1.0) for c in crops]

    def run_calls(self, batches):
        outcomes = []
        for crops, width in batches:
            try:
                outcomes.append(self.run_batch(crops, width))
            except InferenceError as exc:
                outcomes.append(exc)
        return outcomes

