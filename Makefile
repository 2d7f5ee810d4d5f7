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

# Re-extract user-facing strings into the catalogues after changing templates or code:
# core/translations for core, tenancy, gongzhi, cases and contracts; <package>/translations for
# each domain in DOMAINS (its package and pdf_templates/<package>; shared pdf templates belong to
# documents). Then translate every new or fuzzy zh_CN entry (tests/core/test_i18n.py fails until
# you do).
DOMAINS := evaluations documents meetings
BABEL_KEYWORDS := -k _ -k gettext -k ngettext:1,2 -k N_
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F scripts/babel_core.cfg $(BABEL_KEYWORDS) \
		--add-location=file --project=Gongzhi --copyright-holder=Gongzhi \
		-o core/translations/messages.pot .
	$(VENV)/bin/pybabel update --ignore-obsolete -i core/translations/messages.pot -d core/translations
	@for d in $(DOMAINS); do \
		extra=""; [ -d pdf_templates/$$d ] && extra="pdf_templates/$$d"; \
		[ $$d = documents ] && extra="$$extra $$(ls pdf_templates/*.html 2>/dev/null)"; \
		$(VENV)/bin/pybabel extract -F scripts/babel_domain.cfg $(BABEL_KEYWORDS) \
			--add-location=file --project=Gongzhi --copyright-holder=Gongzhi \
			-o $$d/translations/messages.pot $$d $$extra || exit 1; \
		for l in zh_CN en; do \
			if [ -f $$d/translations/$$l/LC_MESSAGES/messages.po ]; then \
				$(VENV)/bin/pybabel update --ignore-obsolete -i $$d/translations/messages.pot -d $$d/translations -l $$l; \
			else \
				$(VENV)/bin/pybabel init -i $$d/translations/messages.pot -d $$d/translations -l $$l; \
			fi; \
		done; \
	done

clean-var:
	rm -rf var
