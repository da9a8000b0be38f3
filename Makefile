# The two set-up commands of a fresh clone: `make demo` and `make test`.
# Both create .venv at the repo root and install from the project's own files
# (pyproject.toml, pinned by constraints.txt).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest-xdist workers of `make test`: each runs whole test modules (--dist loadfile), so
# a module's cluster fixture stays in one process; every worker has its own Airflow home
# and sandbox. Most of the suite waits on JVMs and clusters, so two workers halve it on
# two cores.
TEST_WORKERS ?= 2

.PHONY: demo test test-kill test-floor coverage lint typecheck docs constraints protos clean

# Both distributions of the repository, editable: the provider (with the test suite's
# needs and the docs site's) and the sandbox (sandbox/, flink-k8s-sandbox) that the demo
# and the tests run on.
$(STAMP): pyproject.toml sandbox/pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ./sandbox -e ".[dev,docs]"
	touch $(STAMP)

# The provider's pipeline example on the sandbox with real Flink (the sandbox builds the
# SQL runner's jar and gives it to the DAG as its `jar` param).
demo: $(STAMP)
	$(VENV)/bin/flink-k8s-sandbox demo example_dags/flink_batch_to_stream.py --out out/demo

# Both suites measure branch coverage of the provider (pyproject.toml's [tool.coverage];
# the tasks' subprocesses too): `make test` starts the data afresh, `make test-kill` adds
# to it, `make coverage` reports it and enforces the floor (CI runs all three).
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --cov --cov-report=

# The kill tests (marker `kill`): a worker SIGKILLed at a step boundary then retried, a
# JobManager killed under a waiting task. Slow, so not in `make test`; CI runs both.
test-kill: $(STAMP)
	$(PY) -m pytest -m kill --cov --cov-append --cov-report=

# Branch coverage of what the tests above ran: at least 90 % for operators, sensors,
# triggers and observation (.ci/coverage_gate.py), else it fails.
coverage: $(STAMP)
	$(PY) .ci/coverage_gate.py

# The lowest Airflow and cncf.kubernetes pyproject.toml allows (constraints-floor.txt),
# in .venv-floor: the DAG-level tests on the simulated runtime.
test-floor:
	PYTHON=$(PYTHON) bash .ci/airflow_floor.sh

# The documentation site: docs/*.md, README.md and the API reference of both packages
# (docs/conf.py), built afresh (-E) with every warning an error (-W; -n: every
# cross-reference resolves) into $(DOCS_OUT); tests/docs/test_docs_site.py builds it too.
DOCS_OUT ?= out/docs

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -b html -E -W -n --keep-going -d $(DOCS_OUT)-doctrees docs $(DOCS_OUT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The sandbox's Kubernetes protobuf modules (sandbox/flink_k8s_sandbox/protobuf/gen) from
# the vendored .proto files. protoc comes from grpcio-tools, installed for this only (the
# runtime needs just protobuf); --no-deps keeps the pinned grpcio/protobuf. To vendor
# another release: sandbox/scripts/k8s_protos.py vendor --help.
GRPCIO_TOOLS ?= grpcio-tools==1.85.4
protos: $(STAMP)
	$(PY) -m pip install --quiet --no-deps $(GRPCIO_TOOLS)
	$(PY) sandbox/scripts/k8s_protos.py compile

# Re-pin every dependency after changing pyproject.toml.
constraints: $(STAMP)
	$(PY) -m pip freeze --all --exclude-editable | grep -vE '^(-e |pip==|grpcio-tools==)' > constraints.txt

clean:
	rm -rf $(VENV) .venv-floor .cache out .coverage .coverage.* docs/api/generated
