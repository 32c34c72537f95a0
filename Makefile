# cp2-mmseg: make install | make test | make demo
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= work_dirs/demo

.PHONY: install test demo benchmark bundle

install:
	bash scripts/install.sh

test:
	$(PY) -m pytest tests -q -p no:cacheprovider

demo:
	bash scripts/demo.sh

benchmark:
	$(PY) benchmarks/pixel_contrast_step.py

bundle:
	bash scripts/bundle.sh
