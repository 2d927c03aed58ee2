#!/usr/bin/env bash
# Plants known bugs one at a time and checks that the named loom test
# catches each (loom-tests/README.md, "The checker can fail").
#
#   bash loom-tests/plant.sh            # every plant, its named test only
#   bash loom-tests/plant.sh NAME...    # only these plants
#   SURVEY=1 bash loom-tests/plant.sh   # also run every loom test per plant
#                                       # (one process each) and list those
#                                       # that catch it
#
# Each plant is a patch in loom-tests/plants/. It is applied to a scratch
# copy of the crate (never to the working tree, so nothing can be left
# planted and nobody else's build sees it), the named test is built and run
# under `--cfg loom` in release mode, and it must FAIL with a panic (a
# build failure does not count). The script exits non-zero if any plant
# does not apply, does not build, or goes uncaught.
#
# Builds go to their own target directory, target/loom-plant in the crate,
# or PLANT_TARGET_DIR if set; an inherited CARGO_TARGET_DIR is ignored, so a
# planted build never lands where a clean checkout builds. Dependencies are
# built once and reused by every plant; the crate itself is rebuilt for each
# (see copy_crate).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${RUNCYCLE_ROOT:-$(cd "$here/.." && pwd)}
export CARGO_TARGET_DIR=${PLANT_TARGET_DIR:-$root/target/loom-plant}
export RUSTFLAGS="--cfg loom"
export CARGO_TERM_COLOR=never

# name | test binary | test name (the test that must catch it)
plants=(
  "relaxed-cas|loom_waits|one_done_blocking"
  "relaxed-load|loom_waits|one_done_blocking"
  "split-cas|loom_one|start_start"
  "no-notify|loom_waits|one_done_blocking"
  "notify-one|loom_waits|one_mixed"
  "no-recheck|loom_waits|one_done_blocking"
  "no-announce|loom_waits|one_done_blocking"
  "complete-keeps-context|loom_many|start_start"
  "context-not-cancelled|loom_one|context_close"
  "last-drop-no-close|loom_one|last_handle_wait"
  "watch-cycle-leak|loom_many|last_handle_complete"
  "no-parent-check|loom_one|parent_seen_start"
  "arm-ignores-cancel|loom_one|first_reads_after_parent_cancel"
  "arm-flag-first|loom_many|first_read_parent_cancel"
  "arm-no-catch-up|loom_many|first_reads_after_parent_cancel"
  "fresh-load-notify|loom_waits|many_done_blocking_restart"
  "complete-acquire-only|loom_waits|one_done_blocking"
  "cancel-before-cas|loom_context|one_created_cancel"
  "propagation-drops-queue|loom_nesting|nested_cancel"
  "group-no-fence|loom_group|ends_vs_wait_async"
  "group-no-recheck|loom_group|ends_vs_wait_async"
  "group-abort-no-recheck|loom_group|abort_vs_pending_task"
  "group-inexact-as-exact|loom_group|old_abort_then_new_abort"
  "group-accept-split|loom_group|close_vs_spawn"
  "closed-load|loom_many|closed_vs_close_stopped"
  "closed-no-recheck|loom_many|closed_blocking_vs_close_stopped"
  "closed-stopped-no-notify|loom_many|closed_vs_close_stopped"
  "slot-announce-first|loom_waits|slot_blocking"
  "slot-repoll-no-recheck|loom_waits|slot_repoll"
  "slot-not-woken|loom_waits|slot_blocking"
)

scratch=$(mktemp -d)
trap cleanup EXIT

# Cargo decides whether the crate needs rebuilding from file mtimes, and
# does not key its cache on the crate's path: a copy that kept the tree's
# mtimes (plain `tar -x`) looked older than the previous plant's build and
# reused it. So the copy gets fresh mtimes (`tar -m`), and the crate's own
# artifacts are removed before each build and at the end (`cargo clean -p`).
copy_crate() {
  rm -rf "$scratch/crate"
  mkdir -p "$scratch/crate"
  (cd "$root" && tar --exclude=./target --exclude=./.git -cf - .) | tar -xmf - -C "$scratch/crate"
}

clean_crate() {
  (cd "$scratch/crate" && cargo clean -p runcycle --release) >/dev/null 2>&1
}

cleanup() {
  if [ -d "$scratch/crate" ]; then
    clean_crate
  fi
  rm -rf "$scratch"
}

failed=0
for entry in "${plants[@]}"; do
  IFS='|' read -r name bin test <<<"$entry"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  copy_crate
  if ! (cd "$scratch/crate" && git apply "$here/plants/$name.patch") >"$scratch/apply.log" 2>&1; then
    echo "PLANT $name: DOES NOT APPLY"
    cat "$scratch/apply.log"
    failed=1
    continue
  fi
  args=(--release --test "$bin")
  clean_crate
  if ! (cd "$scratch/crate" && cargo test --release --test loom_one --test loom_many --test loom_waits --test loom_context --test loom_nesting --no-run) >"$scratch/build.log" 2>&1; then
    echo "PLANT $name: DOES NOT BUILD"
    tail -20 "$scratch/build.log"
    failed=1
    continue
  fi
  t0=$SECONDS
  (cd "$scratch/crate" && cargo test "${args[@]}" -- --exact "$test") >"$scratch/run.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "PLANT $name: NOT CAUGHT by $bin::$test"
    failed=1
    continue
  fi
  if ! grep -q "panicked at" "$scratch/run.log"; then
    echo "PLANT $name: $bin::$test failed without a panic (rc $rc)"
    tail -20 "$scratch/run.log"
    failed=1
    continue
  fi
  echo "PLANT $name: caught by $bin::$test in $((SECONDS - t0)) s"
  # The first panic message loom reported.
  grep -m1 -A2 "panicked at" "$scratch/run.log" | sed 's/^/    /'
  if [ -n "${SURVEY:-}" ]; then
    # Every loom test, one process each (a failing loom model can abort
    # its process, which would hide the other tests of that binary).
    caught=()
    missed=()
    for b in loom_one loom_many loom_waits; do
      for t in $(cd "$scratch/crate" && cargo test --release --test "$b" -- --list --include-ignored 2>/dev/null | sed -n 's/: test$//p'); do
        [ "$t" = stop_close_restart_waits ] && continue
        if (cd "$scratch/crate" && timeout 600 cargo test --release --test "$b" -- --exact "$t" --include-ignored) >/dev/null 2>&1; then
          missed+=("$b::$t")
        else
          caught+=("$b::$t")
        fi
      done
    done
    echo "    SURVEY: caught by ${#caught[@]} tests: ${caught[*]}"
    echo "    SURVEY: passed ${#missed[@]} tests"
  fi
done
if [ $failed -ne 0 ]; then
  echo "SOME PLANTED BUGS WERE NOT CAUGHT"
  exit 1
fi
echo "every planted bug was caught"
