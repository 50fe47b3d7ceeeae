"""The garbage collector during a bulk import: what existed before it is left out of its scans."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Objects a young collection waits for during an import (Python's default is 700): a batch holds
#: some 15 per row until it is written, and reference counting frees them all after.
IMPORT_GC_THRESHOLD = 20_000


@contextmanager
def collector_skipping_what_was_there() -> Iterator[None]:
    """The import with every object that existed before it out of the garbage collector's sight,
    and young collections only after many new objects.

    Each batch's rows outlive the collector's young generations, so a 50,000-row import set off a
    few full collections, and each of them walked every object of the process (Django, its models,
    the caches): a tenth of the import's time; the 650 young collections another 3%
    (docs/PERFORMANCE.md). Frozen objects are still there and still freed by reference counting;
    they are only not scanned for cycles until the import ends, when they are handed back to the
    collector with its thresholds as they were. Cycles made meanwhile are still collected.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], IMPORT_GC_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
