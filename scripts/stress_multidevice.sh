#!/usr/bin/env bash
# Stress check for the multi-device CPU paths: ROUNDS rounds, each running COPIES copies of the
# multi-device tests at once on 2 forced CPU devices (the LEGO pipeline, 1 vs 2 devices, resume after
# a kill), and counts native aborts (XLA's collective rendezvous timeout ends a process with
# SIGABRT, exit status 134). Prints one line per copy and a total; exits 1 if any copy failed.
#   bash scripts/stress_multidevice.sh [ROUNDS=30] [COPIES=2]
set -u
cd "$(dirname "$0")/.."
rounds=${1:-30}; copies=${2:-2}
tests=(tests/train/test_train_loop.py::test_lego_pipeline_learns_short_chains
       tests/train/test_multidevice.py
       tests/train/test_train_loop.py::test_resume_after_kill_equals_uninterrupted_run)
logs=$(mktemp -d); failed=0; aborted=0
for round in $(seq 1 "$rounds"); do
  for copy in $(seq 1 "$copies"); do
    XLA_FLAGS="--xla_force_host_platform_device_count=2 ${XLA_FLAGS:-}" \
      python -m pytest -q -n 0 -p no:cacheprovider "${tests[@]}" >"$logs/$round.$copy.log" 2>&1 &
  done
  for copy in $(seq 1 "$copies"); do
    wait -n; status=$?
    [ "$status" -eq 0 ] || failed=$((failed + 1))
    [ "$status" -eq 134 ] && aborted=$((aborted + 1))
  done
  stuck=$(cat "$logs/$round".*.log | grep -c "waiting for all" || true)
  echo "round $round: failed so far $failed, aborts so far $aborted, rendezvous waits this round $stuck"
done
echo "stress: $((rounds * copies)) copies, $failed failed, $aborted aborted (logs: $logs)"
[ "$failed" -eq 0 ]
