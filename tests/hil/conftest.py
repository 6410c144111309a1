"""The simulators' own tests. VISCA's fixtures here; the ONVIF module imports ONVIF's."""
from support.visca_sims import make_cam, make_sim  # noqa: F401  (fixtures)
