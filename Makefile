# The two commands of the README, and a few for developers. Each creates
# what it needs: a bootstrap virtualenv with tox, then tox's own envs.

PYTHON ?= python3
TOOLS := .venv-tools
TOX := $(TOOLS)/bin/tox

.PHONY: test demo unit functional functional-full tempest contract pep8 \
	genconfig docs clean

## make test: everything CI runs (style, types, Nova's client against the
## sandbox, unit and functional tests, the full profile's functional tests
## cyborg-tempest-plugin's API tests and orionx-cyborg's own Tempest plugin
## against it)
test: $(TOX)
	$(TOX) -e pep8,nova-contract,py3,functional-full,tempest

## make demo: what orionx_gpu_driver reports on simulated GPU servers
demo: $(TOX)
	$(TOX) -e demo

unit: $(TOX)
	$(TOX) -e unit

functional: $(TOX)
	$(TOX) -e functional

functional-full: $(TOX)
	$(TOX) -e functional-full

tempest: $(TOX)
	$(TOX) -e tempest

contract: $(TOX)
	$(TOX) -e nova-contract

pep8: $(TOX)
	$(TOX) -e pep8

genconfig: $(TOX)
	$(TOX) -e genconfig

## make docs: the documentation and release notes (needs graphviz's dot)
docs: $(TOX)
	$(TOX) -e docs,releasenotes

$(TOX):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "orionx-cyborg needs Python 3.11 or newer as $(PYTHON)"; \
		  exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet 'tox>=4.0'

clean:
	rm -rf $(TOOLS) .tox
