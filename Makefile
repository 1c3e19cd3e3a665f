# FriKomPort — the two commands that matter on a fresh machine:
#   make run    install everything, load demo data into SQLite and start the portal
#   make test   install everything and run the whole test suite (ruff + pytest)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi

.PHONY: install translations assets db demo run test lint messages clean browser

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Compile the .po catalogues (the .mo files are build output, not committed).
translations: install
	$(BIN)/pybabel compile --statistics -d frikomport/translations

# Designsystemet CSS from npm, copied into static/vendor/; axe-core (for the accessibility
# test) stays in node_modules/.
assets: static/vendor/designsystemet/index.css

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/designsystemet/index.css: node_modules/.installed
	mkdir -p static/vendor/designsystemet
	cp node_modules/@digdir/designsystemet-css/dist/src/index.css static/vendor/designsystemet/index.css
	cp node_modules/@digdir/designsystemet-css/dist/theme/designsystemet.css static/vendor/designsystemet/theme.css

db: install
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo seed

# Links in e-mails point at the address the portal is served on (unless BASE_URL is set).
run: install translations assets demo
	BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/flask run --host $(HOST) --port $(PORT)

test: install translations browser assets
	$(BIN)/ruff check .
	$(BIN)/pytest

# Debian's Chromium for the Playwright browser tests (Playwright's own download does not
# work here). Installed when missing and we are root (as in CI); otherwise they skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "chromium missing and not root: browser tests will be skipped"; fi; }

lint: install
	$(BIN)/ruff check .

# After changing UI text: extract and merge into the catalogues (nb, nn, en), then translate
# the new msgids in nb and nn (English is filled from the msgids). tests/test_languages.py
# fails while any is missing or fuzzy.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o frikomport/translations/messages.pot .
	$(BIN)/pybabel update -i frikomport/translations/messages.pot -d frikomport/translations --width 100 --ignore-obsolete
	$(BIN)/python -m frikomport.i18n_english

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
