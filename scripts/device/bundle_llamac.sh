#!/usr/bin/env bash
# Bundles llamac for the device machine, which has no LLVM/MLIR: a llamac
# linked statically against MLIR and LLVM (build dir build-static/,
# configured with -DLLAMAC_LINK_MLIR_DYLIB=OFF), stripped, with its runtime
# archives and the shared libraries that it and the executables it links
# need beyond the C/C++ runtime (SentencePiece, PCRE2, ...), into
# OUT (default build-llamac-bundle/, carried with `run --carry build-llamac-bundle`).
# On the device:  source build-llamac-bundle/env.sh; llamac compile ...
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/build-llamac-bundle}"
BUILD="${BUILD_DIR:-$ROOT/build-static}"
if [ ! -f "$BUILD/build.ninja" ]; then
  BUILD_DIR="$BUILD" "$ROOT/scripts/configure.sh" -DLLAMAC_LINK_MLIR_DYLIB=OFF \
    -DLLAMAC_ENABLE_UNITTESTS=OFF
fi
ninja -C "$BUILD" llamac llamac_rt llamac_rt_main

rm -rf "$OUT" && mkdir -p "$OUT/bin" "$OUT/lib"
cp "$BUILD/bin/llamac" "$OUT/bin/llamac"
strip --strip-all "$OUT/bin/llamac"
cp "$BUILD/lib/libllamac_rt.a" "$BUILD/lib/libllamac_rt_main.a" "$OUT/lib/"

# Shared libraries: what llamac loads, plus what `-lsentencepiece -lpcre2-8`
# resolve to when llamac links an executable there (an unversioned name
# for the link, the versioned one for the loader).
copy_lib() {
  local path="$1" base
  base="$(basename "$path")"
  case "$base" in
    libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|ld-linux*|libpthread.so*|libdl.so*|librt.so*) return ;;
  esac
  [ -e "$OUT/lib/$base" ] || cp -L "$path" "$OUT/lib/$base"
}
while read -r path; do copy_lib "$path"; done < <(ldd "$BUILD/bin/llamac" | awk '/=> \// {print $3}')
for soname in libsentencepiece.so.0 libpcre2-8.so.0; do
  path="$(ldconfig -p | awk -v n="$soname" '$1 == n && !found {print $NF; found = 1}')"
  copy_lib "$path"
  ln -sf "$soname" "$OUT/lib/${soname%.0}"
done

# The carry is limited to 64 MiB: files over 1 MiB are xz-compressed
# (libLLVM.so: 150 MB -> ~29 MB) and env.sh unpacks them on first use.
find "$OUT" -type f -size +1M -print0 | xargs -0 -n1 xz -T2 -6

cat > "$OUT/env.sh" <<'EOF'
# Source this on the device machine: llamac on PATH, its libraries found by
# the loader (llamac, and the executables it writes) and by the linker.
LLAMAC_BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for packed in "$LLAMAC_BUNDLE"/bin/*.xz "$LLAMAC_BUNDLE"/lib/*.xz; do
  [ -e "$packed" ] || continue
  python3 -c 'import lzma, shutil, sys
with lzma.open(sys.argv[1]) as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)' "$packed" "${packed%.xz}" && rm "$packed"
done
chmod +x "$LLAMAC_BUNDLE/bin/llamac"
export PATH="$LLAMAC_BUNDLE/bin:$PATH"
export LD_LIBRARY_PATH="$LLAMAC_BUNDLE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LIBRARY_PATH="$LLAMAC_BUNDLE/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
EOF
du -sh "$OUT"
