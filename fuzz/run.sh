#!/usr/bin/env bash
# Runs every cargo-fuzz target for RUNS executions (default 10^6) and prints, per target, the
# executions done, libFuzzer's final coverage (cov: edges, ft: features), the corpus size and
# the crashes found. Exits non-zero when any target crashed, hung or ran out of memory.
#
#   fuzz/run.sh                      # all targets, 10^6 runs each
#   RUNS=100000 fuzz/run.sh mime     # one target, fewer runs
#   SANITIZER=address fuzz/run.sh    # with ASan (slower; docket itself forbids unsafe code)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). Inputs that
# found new coverage go to fuzz/corpus/TARGET (kept between runs), crashes to fuzz/artifacts/TARGET.
set -uo pipefail
cd "$(dirname "$0")"

RUNS=${RUNS:-1000000}
SANITIZER=${SANITIZER:-none}
ALL=(session mime visible tags dates)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

# Seed corpora: our own golden fixtures where they fit, small hand-written seeds otherwise.
seeds() {
  case "$1" in
    session) echo seeds/session ;;
    mime) echo ../tests/golden/mime ../tests/golden/reply ;;
    visible) echo ../tests/golden/reply ;;
    tags) echo ../tests/golden/tags ;;
    dates) echo seeds/dates ;;
  esac
}
flags() {
  case "$1" in
    session) echo -dict=session.dict -max_len=8192 ;;
    mime | visible) echo -max_len=16384 ;;
    *) echo -max_len=4096 ;;
  esac
}

cargo +nightly fuzz build --sanitizer "$SANITIZER" >/dev/null 2>logs.build || {
  mkdir -p logs && mv logs.build logs/build.log
  tail -n 30 logs/build.log
  echo "build failed (full log: fuzz/logs/build.log)"
  exit 2
}
mkdir -p logs && mv logs.build logs/build.log

status=0
printf '%-8s %10s %8s %8s %7s %8s %6s  %s\n' target execs exec/s cov ft corpus crashes result
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(find "artifacts/$t" -type f | wc -l)
  log="logs/$t.log"
  # shellcheck disable=SC2046 # seeds/flags are lists of words without spaces
  cargo +nightly fuzz run --sanitizer "$SANITIZER" "$t" "corpus/$t" $(seeds "$t") -- \
    -runs="$RUNS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $(flags "$t") >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(($(find "artifacts/$t" -type f | wc -l) - before))
  result=ok
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $rc; see fuzz/$log)"
    status=1
  fi
  printf '%-8s %10s %8s %8s %7s %8s %6s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$result"
done
exit $status
