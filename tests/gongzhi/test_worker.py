"""The worker process's own set-up: the warm-up render and the garbage collector's freeze."""
from __future__ import annotations

import gc
import io
import weakref

from pyhanko.pdf_utils.reader import PdfFileReader

from documents import jobs, signing
from gongzhi.worker import freeze_long_lived
from tests.documents.signing_helpers import pdftotext


def test_the_warm_up_lays_out_chinese_text_as_pdf_a_and_loads_the_stamp_font():
    signing._face.cache_clear()  # whatever loaded the stamp font before, warm_up must load it
    pdf = jobs.warm_up()
    root = PdfFileReader(io.BytesIO(pdf)).root
    assert pdf.startswith(b"%PDF-1.7") and "/OutputIntents" in root and "/Metadata" in root
    assert "共治" in pdftotext(pdf) and "物业服务评价报告" in pdftotext(pdf)
    assert signing._face.cache_info().currsize == 1


def test_freezing_takes_the_living_objects_out_of_collections_but_new_garbage_is_collected():
    try:
        frozen = freeze_long_lived()
        assert frozen > 10_000 and gc.get_freeze_count() == frozen

        class Cycle:
            pass

        garbage = Cycle()
        garbage.me = garbage  # only the cyclic collector can free it
        gone = weakref.ref(garbage)
        del garbage
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
