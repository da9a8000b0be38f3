#!/usr/bin/env bash
# The declared Airflow floor is the tested floor.
#
# Installs the lowest versions pyproject.toml declares for Airflow and the packages the
# provider builds on (apache-airflow, cncf.kubernetes, common.compat, kubernetes,
# kubernetes_asyncio) -- pinned, with everything else, by constraints-floor.txt -- into
# its own venv, and runs the DAG-level tests that need no real Flink (the simulated
# sandbox runtime) there, plus the hook and provider-info tests.
#
#   bash .ci/airflow_floor.sh          # install (once) and test; `make test-floor`
#   bash .ci/airflow_floor.sh freeze   # re-make constraints-floor.txt from pyproject.toml
#
# tests/project/test_airflow_floor.py checks that constraints-floor.txt pins exactly the
# lower bounds of pyproject.toml, and (run here) that they are what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${FLOOR_VENV:-.venv-floor}"
PY="$VENV/bin/python"
STAMP="$VENV/.installed"

# The packages whose pyproject lower bound is the floor this script tests.
FLOOR_PACKAGES="apache-airflow apache-airflow-providers-cncf-kubernetes \
apache-airflow-providers-common-compat kubernetes kubernetes_asyncio"

# Airflow 3.0.6's execution API answers every task-runner call with 422 under fastapi
# 0.165 / cadwyn 9 (what an unconstrained install picks today); 3.1 caps fastapi <0.118.
FLOOR_EXTRA_PINS=("fastapi<0.118" "cadwyn<6")

floor_pins() {
    "$PYTHON" - $FLOOR_PACKAGES <<'EOF'
import re, sys, tomllib

wanted = {re.sub(r"[-_.]+", "-", name).lower() for name in sys.argv[1:]}
with open("pyproject.toml", "rb") as f:
    dependencies = tomllib.load(f)["project"]["dependencies"]
found = {}
for requirement in dependencies:
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", requirement.strip())
    if match and re.sub(r"[-_.]+", "-", match[1]).lower() in wanted:
        found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
missing = wanted - found.keys()
if missing:
    sys.exit(f"pyproject.toml gives no '>=' floor for {sorted(missing)}")
print(" ".join(f"{name}=={version}" for name, version in sorted(found.items())))
EOF
}

new_venv() {
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
}

if [ "${1:-}" = "freeze" ]; then
    read -r -a pins <<<"$(floor_pins)"
    new_venv
    "$PY" -m pip install --quiet "${pins[@]}" "${FLOOR_EXTRA_PINS[@]}" -e ./sandbox -e ".[dev]"
    {
        echo "# The tested Airflow floor: made by 'bash .ci/airflow_floor.sh freeze' from the lower"
        echo "# bounds in pyproject.toml (${pins[*]})"
        echo "# plus ${FLOOR_EXTRA_PINS[*]} (see .ci/airflow_floor.sh). Do not edit by hand."
        "$PY" -m pip freeze --exclude-editable | grep -v '^-e '
    } >constraints-floor.txt
    touch "$STAMP"
    echo "wrote constraints-floor.txt"
    exit 0
fi

if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ sandbox/pyproject.toml -nt "$STAMP" ] \
    || [ constraints-floor.txt -nt "$STAMP" ]; then
    started=$SECONDS
    new_venv
    "$PY" -m pip install --quiet -c constraints-floor.txt -e ./sandbox -e ".[dev]"
    touch "$STAMP"
    echo "floor venv installed in $((SECONDS - started)) s"
fi
"$PY" -m pip list 2>/dev/null | grep -E '^(apache-airflow|kubernetes)' || true

export FLINK_K8S_AIRFLOW_FLOOR=1
# The tests marked `airflow` (hooks, operators, sensors, triggers, DAG runs) that need no
# real Flink, and the floor's own checks.
"$PY" -m pytest -p no:cacheprovider -m "airflow and not flink and not kill" \
    tests tests/project/test_airflow_floor.py tests/project/test_provider_info.py
