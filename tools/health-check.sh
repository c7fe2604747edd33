#!/usr/bin/env bash
# Polls a public health URL until it answers 2xx several times in a row, or gives up.
# Usage: tools/health-check.sh <url> [attempts=30] [interval-seconds=5] [required-successes=3]
set -euo pipefail
url="${1:?usage: health-check.sh <url> [attempts] [interval] [successes]}"
attempts="${2:-30}"
interval="${3:-5}"
required="${4:-3}"

ok=0
for ((i = 1; i <= attempts; i++)); do
    if code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "${url}")" && [[ "${code}" =~ ^2 ]]; then
        ok=$((ok + 1))
        echo "health check ${i}/${attempts}: ${code} (${ok}/${required} in a row)"
        ((ok >= required)) && { echo "healthy: ${url}"; exit 0; }
    else
        ok=0
        echo "health check ${i}/${attempts}: ${code:-no answer}"
    fi
    sleep "${interval}"
done
echo "error: ${url} did not answer 2xx ${required} times in a row within ${attempts} attempts" >&2
exit 1
