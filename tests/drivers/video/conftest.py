"""Fixtures for the video tests: a small labelled set from real photographs, files on disk."""
import cv2
import numpy as np
import pytest

from vksroom.hil.faults import load_photo, references_for, _good


@pytest.fixture(scope="session")
def photo():
    return load_photo("astronaut")


@pytest.fixture(scope="session")
def refs(photo):
    return references_for(photo)


@pytest.fixture()
def good_frame(photo):
    return _good(photo, np.random.default_rng(7), people_n=2)


@pytest.fixture()
def write(tmp_path):
    """Write an image with cv2 and return its path (real encoding)."""
    def _write(name, img, params=()):
        path = tmp_path / name
        assert cv2.imwrite(str(path), img, list(params)), name
        return str(path)
    return _write
