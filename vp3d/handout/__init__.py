"""The take-home sheet: a PDF for one patient's choice, in English or Spanish, A4 or US Letter.

:func:`vp3d.handout.pdf.write_handout` (and ``handout_pdf`` for the bytes) makes the sheet for
a :class:`vp3d.handout.pdf.SheetChoice`: the level named and shown (the spine with the level
dark, and an AP X-ray with the needles and cement), the fracture grade and type in plain
words, the steps, what to expect afterwards, the warning signs with blank lines for the
clinic's numbers, the evidence, and the numbered sources. The words are data
(``scenes/handout.yaml``, :mod:`vp3d.handout.text`); the pictures are cached per choice
(:mod:`vp3d.handout.pictures`); :mod:`vp3d.handout.layout` lays them out as HTML and
:mod:`vp3d.handout.pdf` writes the PDF; :mod:`vp3d.handout.options` checks the language and the
paper. The package imports nothing heavy itself, so the command line can check options first.
No UI code here.
"""
