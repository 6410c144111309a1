"""Install the courtroom VKS room controller as the single import package ``vksroom``.

The repository root *is* the package: ``controller/`` installs as
``vksroom.controller``, ``drivers/`` as ``vksroom.drivers`` and so on, so no generic
top-level names (``web``, ``mqtt``...) leak into site-packages.
"""
from setuptools import setup
from setuptools.command.build_py import build_py

LAYERS = ["controller", "drivers", "web", "mqtt", "hil"]


def _packages():
    import os

    found = ["vksroom"]
    for layer in LAYERS:
        for dirpath, dirnames, filenames in os.walk(layer):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__"))]
            if "__init__.py" in filenames:
                found.append("vksroom." + dirpath.replace(os.sep, "."))
    return sorted(found)


class BuildPy(build_py):
    """The root is the package, but this build script is not part of it."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not (package == "vksroom" and m[1] == "setup")]


setup(
    cmdclass={"build_py": BuildPy},
    name="vksroom",
    version="0.1.0",
    description="Courtroom videoconference (VKS) room controller for Raspberry Pi",
    python_requires=">=3.11",
    package_dir={"vksroom": "."},
    packages=_packages(),
    package_data={
        "vksroom.web": ["templates/*.html", "static/*"],
        "vksroom.controller": ["*.toml"],
    },
    install_requires=[
        "pyserial>=3.5",
        "paho-mqtt>=2.0,<3",
        "flask>=3.0",
        "waitress>=3.0",
        "gpiozero>=2.0",
        "numpy>=1.26",
        "opencv-python-headless>=4.8",
        "fpdf2>=2.7",
    ],
    extras_require={
        # The embedded broker for the demo and the tests when Mosquitto is absent.
        "demo": ["amqtt>=0.11"],
        "test": [
            "amqtt>=0.11",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "visca-over-ip>=0.5",
            "playwright>=1.45",
            # real photographs for the frame-quality labelled set (tests, benchmarks)
            "scikit-image>=0.22",
            "pypdf>=4",
        ],
    },
    entry_points={"console_scripts": ["vks-room = vksroom.cli:main"]},
)
