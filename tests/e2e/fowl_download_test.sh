#!/usr/bin/env bash
# fowl_download_test.sh — `roost data fowl` against a loopback HTTP server: a fowl-shaped zip
# of real JPEGs is downloaded, unpacked and checked, and the tree then packs into HDF5;
# unreachable hosts, HTTP errors, archives that are not zips or try to escape --out, and
# unusable options each fail with one clear line (exit 1 for download/archive failures,
# 2 for usage) and leave --out without a half-written tree.
source "$(dirname "$0")/common.sh"

"$PYTHON" -c 'import PIL' 2>/dev/null || { echo "SKIP: $PYTHON lacks PIL (python3-pil)"; exit 77; }
mkdir -p "$WORK/site"

# fowl_data/{train,val}/{chicken,turkey}/*.jpg (3 train, 2 val per class) plus macOS cruft,
# and a second archive with an entry that points outside the destination.
"$PYTHON" - "$WORK/site" <<'EOF'
import io, random, sys, zipfile
from PIL import Image, ImageDraw
rng = random.Random(3)
def jpeg():
    im = Image.new("RGB", (rng.randint(40, 90), rng.randint(30, 70)), tuple(rng.randrange(256) for _ in range(3)))
    ImageDraw.Draw(im).ellipse((5, 5, 30, 25), fill=(rng.randrange(256), 40, 90))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()
with zipfile.ZipFile(sys.argv[1] + "/fowl_data.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for split, n in (("train", 3), ("val", 2)):
        for cls in ("chicken", "turkey"):
            for i in range(n):
                z.writestr(f"fowl_data/{split}/{cls}/{cls}{i}.jpg", jpeg())
    z.writestr("__MACOSX/fowl_data/train/._chicken0.jpg", b"resource fork")
    z.writestr("fowl_data/train/chicken/.DS_Store", b"finder")
with zipfile.ZipFile(sys.argv[1] + "/evil.zip", "w") as z:
    z.writestr("fowl_data/train/chicken/a.jpg", jpeg())
    z.writestr("fowl_data/../../escaped.jpg", jpeg())
open(sys.argv[1] + "/notzip.zip", "w").write("<html>a captive portal</html>\n")
EOF

# Serve the archives on a free loopback port.
PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PYTHON" -m http.server "$PORT" --bind 127.0.0.1 --directory "$WORK/site" >"$WORK/http.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
  "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done
URL=http://127.0.0.1:$PORT

# The happy path.
"$ROOST" data fowl --out "$WORK/fowl" --url "$URL/fowl_data.zip" >"$WORK/o" 2>"$WORK/e" ||
  fail "roost data fowl failed: $(cat "$WORK/e")"
grep -q "100%" "$WORK/e" || fail "no progress percentage on stderr: $(cat "$WORK/e")"
grep -q "6 train + 4 val images of 2 classes" "$WORK/o" || fail "unexpected summary: $(cat "$WORK/o")"
for split_count in train:3 val:2; do
  split=${split_count%:*} n=${split_count#*:}
  for cls in chicken turkey; do
    got=$(find "$WORK/fowl/$split/$cls" -name '*.jpg' | wc -l)
    [ "$got" -eq "$n" ] || fail "$split/$cls has $got images, expected $n"
  done
done
[ "$(ls -A "$WORK/fowl")" = "$(printf 'train\nval')" ] || fail "leftovers in --out: $(ls -A "$WORK/fowl")"
[ ! -e "$WORK/fowl/train/chicken/.DS_Store" ] || fail "hidden file extracted"
cmp -s <(cd "$WORK/fowl" && find . -type f | sort) <(cd "$WORK/fowl" && find . -name '*.jpg' | sort) ||
  fail "non-JPEG files in the tree"

# The tree packs into HDF5, and the pack holds what the tree holds.
"$ROOST" pack --data-dir "$WORK/fowl" --out "$WORK/fowl.h5" >"$WORK/o" 2>"$WORK/e" ||
  fail "roost pack failed: $(cat "$WORK/e")"
grep -q "6 train + 4 val images, encoded" "$WORK/o" || fail "unexpected pack summary: $(cat "$WORK/o")"
if "$PYTHON" -c 'import h5py' 2>/dev/null; then
  "$PYTHON" - "$WORK/fowl.h5" <<'EOF' || fail "the pack's layout is not as documented"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["format"] in (b"roost-pack-1", "roost-pack-1"), f.attrs["format"]
    assert list(f.attrs["class_names"]) == ["chicken", "turkey"], list(f.attrs["class_names"])
    for split, n in (("train", 6), ("val", 4)):
        g = f[split]
        assert g["labels"].shape == (n,) and g["offsets"].shape == (n + 1,)
        assert list(g["labels"][:]) == [0] * (n // 2) + [1] * (n // 2)
        first = bytes(g["data"][g["offsets"][0]:g["offsets"][1]])
        assert first[:3] == b"\xff\xd8\xff", first[:3]
EOF
fi
expect_pack_rc2() {
  local rc=0
  "$ROOST" pack "$@" >/dev/null 2>"$WORK/e" || rc=$?
  [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORK/e")" -eq 1 ] || fail "roost pack $* exited $rc: $(cat "$WORK/e")"
}
expect_pack_rc2 --data-dir "$WORK/nowhere" --out "$WORK/x.h5"
expect_pack_rc2 --data-dir "$WORK/fowl" --out "$WORK/x.h5" --format zip
expect_pack_rc2 --data-dir "$WORK/fowl" --out "$WORK/x.h5" --resize-short big

# Failures: exit code, exactly one error line on stderr naming the problem (after the
# progress lines of a download that worked), nothing left in --out.
expect_fail() {  # rc, expected-substring, out-dir, then the remaining roost arguments
  local want_rc=$1 want=$2 out=$3; shift 3
  local rc=0
  "$ROOST" data fowl --out "$out" "$@" >"$WORK/o" 2>"$WORK/all" || rc=$?
  grep -v '^downloading ' "$WORK/all" >"$WORK/e" || true
  [ "$rc" -eq "$want_rc" ] || fail "roost data fowl $* exited $rc, expected $want_rc: $(cat "$WORK/all")"
  [ "$(wc -l <"$WORK/e")" -eq 1 ] || fail "roost data fowl $*: expected one error line, got: $(cat "$WORK/all")"
  grep -q -- "$want" "$WORK/e" || fail "roost data fowl $*: stderr lacks '$want': $(cat "$WORK/e")"
  if [ -d "$out" ] && [ "$out" != "$WORK/fowl" ]; then
    [ -z "$(ls -A "$out")" ] || fail "roost data fowl $* left files in $out: $(ls -A "$out")"
  fi
}
expect_fail 1 "http://127.0.0.1:1/x.zip" "$WORK/f1" --url http://127.0.0.1:1/x.zip
[ "$(wc -l <"$WORK/all")" -eq 1 ] || fail "unreachable host: more than the error line: $(cat "$WORK/all")"
grep -qi "connect" "$WORK/e" || fail "unreachable host error does not say so: $(cat "$WORK/e")"
[ ! -e "$WORK/f1" ] || fail "a failed download left the --out folder it created"
mkdir -p "$WORK/kept"
expect_fail 1 "http://127.0.0.1:1/x.zip" "$WORK/kept" --url http://127.0.0.1:1/x.zip
[ -d "$WORK/kept" ] || fail "a failed download removed an --out folder that existed before"
expect_fail 1 "404" "$WORK/f2" --url "$URL/missing.zip"
expect_fail 1 "not a zip" "$WORK/f3" --url "$URL/notzip.zip"
grep -q "$URL/notzip.zip" "$WORK/e" || fail "the archive error does not name the URL: $(cat "$WORK/e")"
expect_fail 1 "refusing" "$WORK/f4" --url "$URL/evil.zip"
[ ! -e "$WORK/escaped.jpg" ] && [ ! -e "$WORK/f4/../escaped.jpg" ] || fail "an entry escaped --out"
expect_fail 2 "already holds train/" "$WORK/fowl" --url "$URL/fowl_data.zip"
expect_fail 2 "gopher" "$WORK/f5" --url gopher://127.0.0.1/x.zip
rc=0
"$ROOST" data fowl --url "$URL/fowl_data.zip" 2>"$WORK/e" || rc=$?
[ "$rc" -eq 2 ] && grep -q "out is required" "$WORK/e" || fail "missing --out: exit $rc, $(cat "$WORK/e")"
echo "ok: fowl download, unpack, pack and 10 failure cases"
