# Two commands for a newcomer: `make demo` and `make test`. Each makes its own
# virtual environment (.venv) on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench pi-check systemd-check bundle clean

$(STAMP): setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vks-room demo

# Two worker processes, whole files to each (a file's module fixtures, such as the RabbitMQ
# cluster, start once): the suite mostly waits on sockets and timers, so two share 2 cores.
# `make test JOBS=0` runs it in one process.
JOBS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS) --dist loadfile tests

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

# The arm64 image-build install and a smoke test in a Debian bookworm chroot under qemu (root,
# debootstrap, qemu-user-static; minutes). Not part of `make test`. See docs/appliance.md.
pi-check:
	$(if $(filter 0,$(shell id -u)),,sudo) firmware/pi-check.sh

# Install, upgrade and rollback against a real systemd: this machine's OS booted in systemd-nspawn
# (root, systemd-container; a minute or two). Not part of `make test`. See docs/appliance.md.
systemd-check:
	$(if $(filter 0,$(shell id -u)),,sudo) firmware/systemd-check.sh

# An offline bundle in dist/bundle: the wheel and its dependencies for arm64 and x86-64.
bundle:
	firmware/bundle.sh dist/bundle

clean:
	rm -rf $(VENV) build *.egg-info
