#!/usr/bin/env bash
# The fast tier (`npm test`): type-check, lint, the formatter's check and mocha under mocks.
# The type-check, the lint and the format check run beside mocha rather than before it; the
# tier fails if any of them fails, and says which. The only caches are the tools' own, which invalidate themselves: tsc -b's build
# info and ESLint's --cache (both under node_modules/.cache), and tsx's transform cache.
# Mocha itself keeps nothing between runs.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
bin=node_modules/.bin
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin/tsc" -b tsconfig.test.json > "$out/tsc" 2>&1 &
tsc_pid=$!
"$bin/eslint" --cache --cache-location node_modules/.cache/eslint/ infra tools policy test bench > "$out/eslint" 2>&1 &
lint_pid=$!
"$bin/prettier" --check --log-level warn "**/*.{ts,mjs,js}" > "$out/format" 2>&1 &
format_pid=$!
"$bin/mocha" 'test/**/*.test.ts'
mocha_status=$?
failed=()
wait "$tsc_pid" || failed+=(types)
wait "$lint_pid" || failed+=(lint)
wait "$format_pid" || failed+=("format (npm run format)")
# What the type-check, the lint and the format check found, after mocha's report.
cat "$out/tsc" "$out/eslint" "$out/format"
((mocha_status == 0)) || failed+=(mocha)
if ((${#failed[@]} > 0)); then
    echo "fast tier failed: ${failed[*]}" >&2
    exit 1
fi
