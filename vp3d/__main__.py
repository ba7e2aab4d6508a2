"""``python -m vp3d ...`` runs the ``vp3d`` command line."""

from vp3d.cli import main

raise SystemExit(main())
