#!/usr/bin/env bash
# npm test: install what is missing (Debian packages too when root), build, then unit +
# integration + end-to-end tests. Prints one closing line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --apt || exit 1
bash scripts/build.sh || exit 1
mkdir -p .run
unit_log=.run/unit.log e2e_log=.run/e2e.log
bash scripts/test-unit.sh 2>&1 | tee "$unit_log"; unit_rc=${PIPESTATUS[0]}
npx playwright test 2>&1 | tee "$e2e_log"; e2e_rc=${PIPESTATUS[0]}
num() { grep -Eo "$1" "$2" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
u_pass=$(num '^ℹ pass [0-9]+' "$unit_log"); u_fail=$(num '^ℹ fail [0-9]+' "$unit_log")
e_pass=$(num '[0-9]+ passed' "$e2e_log"); e_fail=$(num '[0-9]+ failed' "$e2e_log"); e_flaky=$(num '[0-9]+ flaky' "$e2e_log")
echo
echo "unit: ${u_pass} passed, ${u_fail} failed (exit ${unit_rc}); e2e: ${e_pass} passed, ${e_fail} failed, ${e_flaky} flaky (passed on the CI retry; see above) (exit ${e2e_rc})"
echo "tests: $((u_pass + e_pass)) passed, $((u_fail + e_fail)) failed"
[[ $unit_rc -eq 0 && $e2e_rc -eq 0 ]]
