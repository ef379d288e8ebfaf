# The two commands: `make run` and `make test`. Everything they need is installed here.
# The first Python 3.11+ found (pyenv shims of absent versions fail the check and are skipped).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test bench eval i18n catalogs browser richmenu-previews clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "kosodate-bot needs Python 3.11 or newer (python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

catalogs: $(STAMP)
	$(BIN)/python -m bot i18n compile

run: catalogs
	BOT_ENV=$${BOT_ENV:-development} $(BIN)/python -m bot run

# Browser tests use Debian's chromium (and Noto CJK, so that screenshots of Japanese pages are
# legible); the rich menu images need Noto CJK and Noto core (Latin, Vietnamese, Devanagari).
# CI installs them when they are missing.
NOTO_CORE ?= /usr/share/fonts/truetype/noto/NotoSansDevanagari-Bold.ttf
browser:
	@if [ -n "$$CI" ] && { [ ! -x "$(CHROMIUM)" ] || [ ! -f "$(NOTO_CORE)" ] || ! ldconfig -p | grep -q libfribidi.so.0; }; then \
		echo "installing Debian's chromium, Noto fonts and FriBiDi for the browser and rich menu tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-core libfribidi0 >/dev/null) \
			|| echo "could not install chromium and the Noto fonts: browser and rich menu tests will be skipped"; \
	fi

# The rich menu previews shown in the README (half size); after a label changes in the catalogs.
richmenu-previews: $(STAMP)
	$(BIN)/python -m bot richmenu draw --out docs --preview

test: catalogs browser
	$(BIN)/python -m pytest -q

bench: catalogs
	$(BIN)/python -m bench

# FAQ matching accuracy per language and out-of-scope rejection, on tests/eval/faq.tsv;
# risk recall and false alarms per language, on tests/eval/risk.tsv (the data was tuned on it) and
# on sets written later by others who never saw the risk data (risk_fresh.tsv: the data was then
# improved for the kinds it missed; risk_unseen2.tsv: the rule was chosen on it; risk_unseen3.tsv:
# measured once, after every choice: the honest figure)
eval: catalogs
	$(BIN)/python -m bot eval tests/eval/faq.tsv
	$(BIN)/python -m bot eval tests/eval/faq.tsv --lexical-only
	$(BIN)/python -m bot eval-risk tests/eval/risk.tsv
	$(BIN)/python -m bot eval-risk tests/eval/risk.tsv --keywords-only
	$(BIN)/python -m bot eval-risk tests/eval/risk_fresh.tsv
	$(BIN)/python -m bot eval-risk tests/eval/risk_unseen2.tsv
	$(BIN)/python -m bot eval-risk tests/eval/risk_unseen3.tsv

# The catalog workflow: extract the Japanese source strings, update every language, compile.
i18n: $(STAMP)
	$(BIN)/python -m bot i18n extract
	$(BIN)/python -m bot i18n update
	$(BIN)/python -m bot i18n compile
	$(BIN)/python -m bot index
	$(BIN)/python -m bot i18n check

clean:
	rm -rf $(VENV) var .pytest_cache
