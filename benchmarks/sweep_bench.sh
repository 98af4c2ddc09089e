#!/usr/bin/env bash
# sweep_bench.sh — the same search space and seed swept with each early-termination policy on a
# small Fashion-MNIST set: trial-epochs spent and the best val_acc found, as a table and JSON.
# Usage: benchmarks/sweep_bench.sh [ROOST] (default build/roost); TRIALS, EPOCHS, CONCURRENT,
# PER_CLASS, VAL_PER_CLASS, SEED override the sizes, SLACK the bandit's slack factor and
# POLICIES the policies run (none first: the others are compared with it).
set -euo pipefail
ROOST=${1:-build/roost}
TRIALS=${TRIALS:-8} EPOCHS=${EPOCHS:-6} CONCURRENT=${CONCURRENT:-2} PER_CLASS=${PER_CLASS:-60} SEED=${SEED:-3}
VAL_PER_CLASS=${VAL_PER_CLASS:-30} SLACK=${SLACK:-0.1} POLICIES=${POLICIES:-none bandit median truncation}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d /tmp/roost-sweep-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$ROOST" data fashion-mnist --out "$WORK/data" --train-per-class "$PER_CLASS" --val-per-class "$VAL_PER_CLASS" --size 32 > /dev/null
TRAIN=(--data-dir "$WORK/data" --epochs "$EPOCHS" --batch-size 8 --image-size 32 --resize-short 36 --log-every 1000 --progress none)
SPACE=(--param "lr=loguniform(0.00001,0.1)" --param "momentum=uniform(0.5,0.95)")
declare -A POLICY=([none]="--policy none" [bandit]="--policy bandit --slack-factor $SLACK --delay-evaluation 2"
                   [median]="--policy median --delay-evaluation 2" [truncation]="--policy truncation --truncation-percentage 25 --delay-evaluation 2")
printf "%-11s %-13s %-10s %-9s %s\n" policy trial-epochs saved best_val wall_s
json="["
id=0
for p in $POLICIES; do
  id=$((id + 1))
  start=$SECONDS
  # shellcheck disable=SC2086
  "$ROOST" sweep --experiment bench --workspace "$WORK/ws" "${SPACE[@]}" --max-runs "$TRIALS" --max-concurrent "$CONCURRENT" \
    --seed "$SEED" ${POLICY[$p]} --wait -- "${TRAIN[@]}" 2> "$WORK/$p.log" || { cat "$WORK/$p.log"; exit 1; }
  wall=$((SECONDS - start))
  read -r epochs best < <("$ROOST" sweeps show "$id" --json --workspace "$WORK/ws" |
    /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["trial_epochs"], s["best"]["value"])')
  [ "$p" = none ] && base=$epochs
  saved=$(awk -v e="$epochs" -v b="$base" 'BEGIN { printf "%.0f%%", 100 * (1 - e / b) }')
  printf "%-11s %-13s %-10s %-9s %s\n" "$p" "$epochs" "$saved" "$best" "$wall"
  json+="$([ "$p" = none ] || echo ,){\"policy\":\"$p\",\"trial_epochs\":$epochs,\"best_val_acc\":$best,\"wall_s\":$wall}"
done
echo "$json]"
