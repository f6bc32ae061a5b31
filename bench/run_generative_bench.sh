#!/usr/bin/env bash
# Cost per member-step of the generative models against the deterministic GNN step, in one
# run (issue 6): `gale forecast` of each checkpoint on the nature run, 1 rank, GALE_THREADS
# torch threads; the marginal cost is (time of 9 steps - time of 1 step) / (8 x members),
# so start-up and input reading cancel. For the diffusion model it also prints the cost per
# solver step (denoiser evaluations: 2N - 1 for DPM-Solver++2S with N steps).
#   bench/run_generative_bench.sh [members=4]
# Checkpoints: models/gnn-default.gale (baseline), models/fgn-default.gale (stage 7), models/diffusion-default.gale (stage 2)
# (each skipped with a note when absent). The last row is the same network with the k-hop
# transformer processor (network.processor: transformer, 2 hops, 4 heads) in place of the
# interaction network: its weights come from a 1-step `gale train` into a temporary file (the
# cost of a step does not depend on the weights' values).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GALE="$ROOT/build/ops/gale"
MEMBERS="${1:-4}"
export GALE_THREADS="${GALE_THREADS:-2}" OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader
NR="$ROOT/naturerun"
[[ -f "$NR/naturerun-2000-12.nc" ]] || "$GALE" naturerun -q --config "$ROOT/configs/naturerun-t42.yaml" --out "$NR"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
run() {  # $1 checkpoint $2 steps -> seconds
  cat > "$W/f.yaml" <<YAML
forecast:
  input: {sources: [{path: $NR/naturerun-2000-12.nc}], time: 2000-12-01T06}
  model: {type: gnn, checkpoint: $1, threads: $GALE_THREADS}
  members: $MEMBERS
  steps: $2
  perturbation: {type: none}
  output: $W/run
YAML
  rm -rf "$W/run"
  local start end
  start=$(date +%s.%N)
  "$GALE" forecast -q --config "$W/f.yaml" > /dev/null
  end=$(date +%s.%N)
  awk -v a="$end" -v b="$start" 'BEGIN { printf "%.6f", a - b }'
}
per_member_step() {  # $1 checkpoint -> seconds per member-step
  # Fastest of 3 runs for each length (the minimum filters the noise of a shared machine),
  # then the difference: a difference of two noisy times is noisier than either.
  local t1="" t9="" t
  for _ in 1 2 3; do
    t=$(run "$1" 1); t1=$(awk -v t="$t" -v b="$t1" 'BEGIN { print (b == "" || t < b) ? t : b }')
    t=$(run "$1" 9); t9=$(awk -v t="$t" -v b="$t9" 'BEGIN { print (b == "" || t < b) ? t : b }')
  done
  awk -v a="$t9" -v b="$t1" -v m="$MEMBERS" 'BEGIN { printf "%.6f", (a - b) / (8 * m) }'
}
echo "== cost per member-step ($MEMBERS members, T42 nature run, $GALE_THREADS torch threads, 1 rank)"
base=$(per_member_step "$ROOT/models/gnn-default.gale")
printf '  %-28s %8.1f ms\n' "gnn (deterministic)" "$(awk -v c="$base" 'BEGIN { print c * 1000 }')"
transformer_checkpoint() {  # -> path of a deterministic transformer-processor checkpoint
  sed -e 's#^  network: .*#  network: {mesh_level: 3, latent: 64, layers: 6, radius_factor: 0.6, processor: transformer, attention_hops: 2, heads: 4}#' \
      -e 's#^  steps: .*#  steps: 1#' -e 's#^  validation_samples: .*#  validation_samples: 1#' \
      -e "s#^  output: .*#  output: $W/transformer.gale#" -e "s#\.\./naturerun/#$NR/#" \
      "$ROOT/configs/train-gnn.yaml" > "$W/transformer.yaml"
  "$GALE" train -q --config "$W/transformer.yaml" > /dev/null
  echo "$W/transformer.gale"
}
for model in fgn diffusion; do
  file="$ROOT/models/$model-default.gale"
  if [[ ! -f "$file" ]]; then echo "  $model: $file not found (train it first)"; continue; fi
  c=$(per_member_step "$file")
  printf '  %-28s %8.1f ms   %.2fx the deterministic step\n' "$model" "$(awk -v c="$c" 'BEGIN { print c * 1000 }')" \
    "$(awk -v c="$c" -v b="$base" 'BEGIN { print c / b }')"
  if [[ $model == diffusion ]]; then
    steps="${DIFFUSION_STEPS:-20}"  # the checkpoint's sampler steps (configs/train-diffusion.yaml: 20)
    evals=$((2 * steps - 1))
    printf '  %-28s %8.1f ms per solver step (%d steps, %d denoiser evaluations per member-step)\n' "" \
      "$(awk -v c="$c" -v n="$steps" 'BEGIN { print c * 1000 / n }')" "$steps" "$evals"
  fi
done
c=$(per_member_step "$(transformer_checkpoint)")
printf '  %-28s %8.1f ms   %.2fx the deterministic step\n' "gnn, transformer processor" "$(awk -v c="$c" 'BEGIN { print c * 1000 }')" \
  "$(awk -v c="$c" -v b="$base" 'BEGIN { print c / b }')"
