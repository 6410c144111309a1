"""The ONVIF driver's tests run against the ONVIF simulator (support/onvif_sims.py)."""
from support.onvif_sims import make_cam, make_sim, sim_cam  # noqa: F401  (fixtures)
