"""OpenCV as the room uses it, its threads set deliberately.

By default OpenCV starts a worker pool as wide as the machine at the first parallel call (the
first self-test's picture check); between the room's small jobs (a 640-pixel frame judged twice
a second per camera) those workers spin in ``sched_yield`` - about 2,000 calls a second on a Pi,
82 % of the process's system calls during a hearing. One thread does each job on the caller's
thread, and the cameras' readers already run side by side. ``VKSROOM_CV_THREADS`` overrides.
"""
from __future__ import annotations

import os

import cv2

THREADS = int(os.environ.get("VKSROOM_CV_THREADS", "1") or 1)
cv2.setNumThreads(THREADS)

__all__ = ["cv2", "THREADS"]
