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
# Then translate every new or fuzzy zh_CN entry (tests/core/test_i18n.py fails until you do).
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ \
		--add-location=file --project=Gongzhi --copyright-holder=Gongzhi \
		-o core/translations/messages.pot .
	$(VENV)/bin/pybabel update --ignore-obsolete -i core/translations/messages.pot -d core/translations

clean-var:
	rm -rf var
