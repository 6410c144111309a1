"""The VISCA driver's tests run against the VISCA simulator (support/visca_sims.py)."""
from support.visca_sims import make_cam, make_ptz, make_sim, sim_cam  # noqa: F401  (fixtures)
