"""A student's own needle, C-arm and cement on a shared model, and the score.

Modules, one job each: ``aim`` (the skin entry and angles a student sets, and the needle path
they give), ``tip`` (where the tip is: tissue, place in the body, front wall), ``imaging`` (the
practice's C-arm views and angles), ``shared`` (the fluoroscope and cement fills the sessions
of one model share), ``run`` (:class:`~vp3d.practice.run.Practice`: the run's state, its rules
and its record), ``record`` (the record as plain values), ``score`` (the score, a pure function
of a record), ``readout`` (depth, distance and alerts the page reads out), ``guide`` (the
guidance text, camera and visibility of ``scenes/practice.yaml``), ``values`` (checked
numbers, refusals in a student's words).
"""
