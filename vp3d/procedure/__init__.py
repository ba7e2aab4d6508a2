"""One clinician's choice as an engine model (``model``) and the procedure's
radiographs as a sheet (``sheet``).
"""
