#!/bin/sh
# The whole test suite against a build with AddressSanitizer (leaks included)
# and UndefinedBehaviorSanitizer (preset asan, gcc, build-asan/). A report
# makes pdsim exit 86, which fails the test that ran it; the test log is also
# searched for reports, so that none slips through a test that ignores the
# exit status. Part of CI (.ci/run); about 5 minutes on 2 cores.
#   scripts/sanitize.sh
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)"
status=0
ctest --preset asan -j "$(nproc)" || status=1
log=build-asan/Testing/Temporary/LastTest.log
reports=$(grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" || true)
echo "sanitize.sh: $reports sanitizer reports in $log"
[ "$reports" -eq 0 ] || status=1
exit $status
