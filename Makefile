# Two commands matter: `make demo` (run the product with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install system-deps serve worker migrate clean-var messages

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[embedded,dev]'
	@touch $(STAMP)

install: system-deps $(STAMP)

system-deps:
	@bash scripts/system_deps.sh

demo: install
	$(VENV)/bin/gongzhi demo

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

serve: install
	$(VENV)/bin/gongzhi serve

worker: install
	$(VENV)/bin/gongzhi worker

migrate: install
	$(VENV)/bin/gongzhi migrate

# Re-extract user-facing strings into the catalogues after changing templates or code.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -o gongzhi/translations/messages.pot .
	$(VENV)/bin/pybabel update -i gongzhi/translations/messages.pot -d gongzhi/translations

clean-var:
	rm -rf var
