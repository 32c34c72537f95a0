# cp2-mmseg: make install | make test | make demo
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= work_dirs/demo
DEMO_CFG := configs/demo/deeplabv3_r18-d8_1xb8-300_synthetic-64x64.py

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
