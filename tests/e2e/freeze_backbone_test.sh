#!/usr/bin/env bash
# freeze_backbone_test.sh — --freeze-backbone trains only fc: starting from a model.h5, one
# epoch with 2 ranks leaves every backbone tensor, BatchNorm running statistics included,
# bitwise as loaded, while fc changes; a full fine-tune from the same file changes the backbone.
source "$(dirname "$0")/common.sh"

make_tiny_dataset "$WORK/data" 10 4 32
COMMON=(--data-dir "$WORK/data" --epochs 1 --batch-size 4 --image-size 32 --resize-short 36 --workers 1
        --threads 1 --progress none --lr 0.01)
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/base" > "$WORK/base.log" 2>&1 \
  || { cat "$WORK/base.log"; fail "base run"; }
for mode in frozen full; do
  extra=(); [ $mode = frozen ] && extra=(--freeze-backbone)
  "$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/$mode" --pretrained "$WORK/base/last.h5" \
    "${extra[@]}" > "$WORK/$mode.log" 2>&1 || { cat "$WORK/$mode.log"; fail "$mode run"; }
done
grep -q "backbone frozen" "$WORK/frozen.log" || fail "frozen run did not say so"
"$PYTHON" - "$WORK" <<'PY'
import sys
import h5py, numpy as np
w = sys.argv[1]
base, frozen, full = (h5py.File(f"{w}/{n}", "r") for n in ("base/last.h5", "frozen/last.h5", "full/last.h5"))
backbone = [k for k in base.keys() if not k.startswith("fc.") and not k.endswith("num_batches_tracked")]
changed = [k for k in backbone if not np.array_equal(base[k][()], frozen[k][()])]
assert not changed, f"--freeze-backbone changed {changed[:5]}"
assert not np.array_equal(base["fc.weight"][()], frozen["fc.weight"][()]), "fc did not train"
moved = [k for k in backbone if not np.array_equal(base[k][()], full[k][()])]
assert len(moved) > len(backbone) // 2, f"full fine-tune moved only {len(moved)} backbone tensors"
print(f"ok: frozen backbone bitwise unchanged ({len(backbone)} tensors), fc trained; full fine-tune moved {len(moved)}")
PY
# Resuming a full fine-tune's checkpoint with --freeze-backbone (momentum for every parameter,
# this run trains two): one clear error and exit 2, on both ranks.
rc=0
"$MPIRUN" -np 2 "$ROOST" train "${COMMON[@]}" --output-dir "$WORK/base" --epochs 2 --resume auto --freeze-backbone \
  > "$WORK/refreeze.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$WORK/refreeze.log"; fail "resume with --freeze-backbone: exit $rc, expected 2"; }
grep -q "error: --resume: checkpoint .* holds momentum for .* (was --freeze-backbone changed?)" "$WORK/refreeze.log" ||
  { cat "$WORK/refreeze.log"; fail "no clear error"; }
echo "ok: resuming with --freeze-backbone changed is a clear error"
