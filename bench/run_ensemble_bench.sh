#!/usr/bin/env bash
# Ensemble engine benchmark (issue 7), in one run:
#  1. members per second with 1 and 2 MPI ranks (T42, 8 members x 8 steps of 6 h) and the
#     speed-up;
#  2. peak memory (max RSS) per rank at 10 and 40 lead times (T21, 8 members, 2 ranks):
#     statistics stream lead by lead, so it should stay flat;
#  3. statistics against cdo ensmean/enspctl on 20 member files at 0.25 deg (values compared).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${GALE_BUILD_DIR:-$ROOT/build}"
GALE="$BUILD/ops/gale"
MPIRUN="mpirun --allow-run-as-root --oversubscribe"
# One node: shared-memory transport only. Open MPI's default first initialises UCX, which
# probes network devices for ~0.2 s per process start; the same setting for every rank count.
# GALE_BENCH_DEFAULT_MPI=1 keeps Open MPI's defaults.
if [[ "${GALE_BENCH_DEFAULT_MPI:-0}" != 1 ]]; then export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader; fi
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
cmake --build "$BUILD" --target gale bench_ensemble_stats > /dev/null
cd "$W"

nature() {  # $1 truncation
  printf 'naturerun:\n  model: {truncation: %s, seed: 7}\n  start: 2001-01-01T00\n  spinup_days: 5\n  length_days: 1\n  file_span: run\n' "$1" > nr$1.yaml
  "$GALE" naturerun -q -c nr$1.yaml -o nr$1 > /dev/null
}
forecast_config() {  # $1 name $2 truncation $3 members $4 steps
  printf 'forecast:\n  input: {sources: [{path: nr%s/naturerun-run.nc}], time: 2001-01-01T06}\n  model: {type: shallow-water, truncation: %s}\n  members: %s\n  steps: %s\n  perturbation: {type: gaussian, amplitude: {z500: 100}}\n  output: %s\n' "$2" "$2" "$3" "$4" "$1" > "$1.yaml"
}
nature 42
nature 21

echo "== members per second (T42, 8 members x 16 steps, including start-up and input; MPI: ${OMPI_MCA_pml:-Open MPI defaults})"
for ranks in 1 2; do
  forecast_config r$ranks 42 8 16
  start=$(date +%s.%N)
  $MPIRUN -np $ranks "$GALE" forecast -q -c r$ranks.yaml > /dev/null
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  echo "$ranks $secs" >> times.txt
  printf '  %d rank(s): %6.2f s, %6.2f member-steps/s\n' $ranks "$secs" "$(echo "128 / $secs" | bc -l)"
done
awk 'NR==1{t1=$2} NR==2{t2=$2} END{printf "  speed-up with 2 ranks: %.2fx\n", t1/t2}' times.txt
cmp -s r1/stats/lead_016.nc r2/stats/lead_016.nc && echo "  products identical on 1 and 2 ranks"

echo "== peak memory per rank (T21, 8 members, 2 ranks)"
for steps in 10 40; do
  forecast_config m$steps 21 8 $steps
  $MPIRUN -np 2 sh -c "/usr/bin/time -f %M -o rss_m${steps}_\$OMPI_COMM_WORLD_RANK.txt $GALE forecast -q -c m$steps.yaml" > /dev/null
  printf '  %2d leads: max RSS rank 0 %s KB, rank 1 %s KB\n' $steps "$(cat rss_m${steps}_0.txt 2>/dev/null)" "$(cat rss_m${steps}_1.txt 2>/dev/null)"
done

echo "== statistics against cdo (20 members, 0.25 deg)"
mkdir -p stats
"$BUILD/bench/bench_ensemble_stats" "$W/stats" 20 2> /dev/null
