"""The TrueType font of signature appearances, embedded as a subset.

pyHanko 0.38's GlyphAccumulator writes glyph widths (/W) and TJ kerning in the font's own units, which PDF
reads as thousandths of an em: right only for fonts of 1000 units per em. Liberation Sans and DejaVu Sans
(the Debian fonts with Vietnamese glyphs) have 2048, so every viewer spread the letters twice as wide.
`VietnameseFontFactory` shapes at 1000 units per em (HarfBuzz scale) and scales the widths to match, so
widths, kerning and line lengths agree. It also reads the font file once per process instead of leaving
an open file handle per signature."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

PDF_GLYPH_UNITS = 1000


class ThousandUnitGlyphAccumulator(GlyphAccumulator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._font_units_per_em = self.units_per_em
        if self._font_units_per_em != PDF_GLYPH_UNITS:
            self.hb_font.scale = (PDF_GLYPH_UNITS, PDF_GLYPH_UNITS)
            self.units_per_em = PDF_GLYPH_UNITS

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        if glyph_id in self._glyphs:
            return self._glyphs[glyph_id]
        cid, width = super()._get_cid_and_width(glyph_id)
        scaled = round(width * PDF_GLYPH_UNITS / self._font_units_per_em)
        self._glyphs[glyph_id] = (cid, scaled)
        return cid, scaled


@functools.cache
def _font_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


@dataclass(frozen=True)
class VietnameseFontFactory(GlyphAccumulatorFactory):
    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return ThousandUnitGlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(_font_bytes(self.font_file)),
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )
