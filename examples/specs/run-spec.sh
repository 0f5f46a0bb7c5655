#!/bin/sh
# A tiny offline stand-in for `npx playwright test --project=<viewport>-<browser> <spec>`, so the example runs anywhere.
# Each spec file sets how long it takes and how it ends:
#   duration=1.5           seconds it runs
#   fail_until_attempt=1   fails on attempts up to this one, then passes (flaky by attempt number, so repeatable)
#   fail=yes               always fails
# The worker gives the task in the environment too: SPEC, BROWSER, VIEWPORT, TASK_KEY, ATTEMPT, RUN_ID.
set -eu
spec="$1"
project="$2-$3"
duration=1
fail_until_attempt=0
fail=no
[ -f "./$spec" ] || { echo "no such spec: $spec"; exit 2; }
. "./$spec"
echo "running $spec [$project] attempt $ATTEMPT of $TASK_KEY"
sleep "$duration"
if [ "$fail" = yes ]; then
  echo "  1) $spec [$project]: expected the page to show results, it showed none"
  exit 1
fi
if [ "$ATTEMPT" -le "$fail_until_attempt" ]; then
  echo "  1) $spec [$project]: timed out waiting for the search box (flaky on attempt $ATTEMPT)"
  exit 1
fi
echo "  1 passed ($duration s)"
