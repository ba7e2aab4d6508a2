"""Linear attenuation (1/mm at 60 keV) of what fluoroscopy adds to the anatomy.

The numbers come from the project's one attenuation table, :mod:`vp3d.anatomy.attenuation`
(``vp3d/data/attenuation.csv``, whose header cites every value), so the needle and cement
attenuate exactly as the rest of the engine assumes. 60 keV is a typical effective energy
of a fluoroscopy beam at 70-80 kVp.
"""

from __future__ import annotations

from vp3d.anatomy import attenuation
# Steel cannula as iron: mu/rho 1.205 cm^2/g at 60 keV (Hubbell & Seltzer, NIST SRD 126,
# Table 3, Z=26) x 7.9 g/cm^3 (needle steel; pure iron 7.874) / 10 = 0.952 /mm.
STEEL_MU_PER_MM = attenuation.mu_per_mm("iron")

# PMMA cement opacified with BaSO4: 0.187 w/w BaSO4 once mixed (30 % w/w in the powder,
# powder:liquid about 2:1), mu/rho 0.813 x 0.1924 (PMMA, NIST SRD 126 Table 4) + 0.187 x
# 5.116 (BaSO4 by the mixture rule from NIST Table 3 Ba 8.511, S 0.4053, O 0.1907) = 1.11
# cm^2/g, x 1.38 g/cm^3 (void-free mixture) / 10 = 0.153 /mm. Cross-check with a product
# label: Kyphon HV-R (Medtronic IFU M708348B154E, Table 1) is 20 g powder with 30 % w/w BaSO4
# plus 9.0 g MMA liquid, i.e. 20.7 % w/w BaSO4 mixed, which gives 0.170 /mm by the same rule.
CEMENT_MU_PER_MM = attenuation.cement_mu_per_mm()

# Tissues for phantoms in tests and benchmarks (the anatomy module paints the real ones).
SOFT_TISSUE_MU_PER_MM = attenuation.mu_per_mm("soft_tissue")  # ICRU-44 soft tissue, 0.0217 /mm
CORTICAL_BONE_MU_PER_MM = attenuation.mu_per_mm("cortical_bone")  # ICRU-44 cortical bone, 0.0604 /mm
