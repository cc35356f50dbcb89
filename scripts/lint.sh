#!/usr/bin/env bash
# Runs every linter, each to the end, and fails if any found something:
#   eslint (type-aware) · prettier --check · knip (unused files/exports/deps) · dependency-cruiser (layering)
#
#   bash scripts/lint.sh          check only (what `npm run lint` and `npm test` run)
#   bash scripts/lint.sh --fix    first apply what can be applied safely: prettier --write, eslint --fix
#                                 (type-import style, array types, optional chains, …), prettier again;
#                                 then check and list what is left for a person.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--fix" ]]; then
  echo "== prettier --write"; npm run -s format -- --log-level warn
  echo "== eslint --fix";     npm run -s lint:eslint -- --fix >/dev/null
  echo "== prettier --write"; npm run -s format -- --log-level warn
fi

failed=()
for step in lint:eslint lint:format lint:knip lint:deps; do
  echo "== $step"
  start=$SECONDS
  if npm run -s "$step"; then status=ok; else status=FAILED; failed+=("$step"); fi
  echo "-- $step: $status ($((SECONDS - start)) s)"
done

if ((${#failed[@]})); then
  echo "lint failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all clean"
