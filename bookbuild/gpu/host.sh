#!/usr/bin/env bash
# On an offline GPU host, from the repository root, once the parts that `make bundle`
# wrote have arrived in $PARTS (default .gpu; see bookbuild/gpu/README.md):
#
#   bookbuild/gpu/host.sh build   unpack the parts; install from the bundle (`make` with
#                                 OFFLINE_BUNDLE); build the book cold with
#                                 CNNBOOK_REQUIRE_GPU=1; check the built site; write
#                                 logs and archives to $OUT
#
# The host's own Python ($PYTHON) provides torch; everything else comes from the bundle,
# installed into $VENV with no network (bookbuild/offline.py). Nothing is written to $HOME
# but the caches that a build on any machine fills.
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/../.."

PARTS=${PARTS:-.gpu}
OUT=$(realpath -m "${OUT:-.gpu/out}")
PYTHON=${PYTHON:-python3}
VENV=$(realpath -m "${VENV:-/tmp/cnnbook-venv}")
REQUIRE_GPU=${REQUIRE_GPU:-1}  # 0 only to rehearse the script on a machine without a GPU
export PYTHONUNBUFFERED=1

# Run "$@" with its output in $OUT/$name.log and on stdout; report its exit status and time.
stage() {
  local name=$1 start=$SECONDS status
  shift
  set +e
  "$@" 2>&1 | tee "$OUT/$name.log"
  status=${PIPESTATUS[0]}
  set -e
  echo "$name: exit $status in $((SECONDS - start)) s" | tee -a "$OUT/summary.txt"
  return "$status"
}

# The bundle's folder, after unpacking every part found in $PARTS.
unpack() {
  local parts=("$PARTS"/cnnbook-offline-py*.part*of*.tar) folders
  if [[ ! -e ${parts[0]} ]]; then
    echo "no bundle parts (cnnbook-offline-py*.part*of*.tar) in $PARTS" >&2
    return 1
  fi
  for part in "${parts[@]}"; do tar -xf "$part" -C "$PARTS"; done
  folders=("$PARTS"/cnnbook-offline-py*/)
  if ((${#folders[@]} != 1)); then
    echo "expected one bundle in $PARTS, found: ${folders[*]}" >&2
    return 1
  fi
  realpath "${folders[0]}"
}

build() {
  local bundle built=0
  bundle=$(unpack)
  mkdir -p "$OUT"
  : >"$OUT/summary.txt"
  export CNNBOOK_REQUIRE_GPU=$REQUIRE_GPU
  local make_args=(OFFLINE_BUNDLE="$bundle" PYTHON="$PYTHON" VENV="$VENV")
  # summary.txt: the date, the environment, then one line per stage
  date -u +%FT%TZ >>"$OUT/summary.txt"
  stage install make "$VENV/.cnnbook-installed" "${make_args[@]}"
  "$VENV/bin/python" -c 'import json, cnnbook
print(json.dumps(cnnbook.build_environment(["jupyter-book", "myst-nb", "sphinx"]), indent=1))' \
    >>"$OUT/summary.txt"
  rm -rf _build
  stage book make book "${make_args[@]}" || built=$?
  tar -czf "$OUT/html.tar.gz" -C _build html
  tar -czf "$OUT/jupyter_cache.tar.gz" -C _build .jupyter_cache
  stage check-site timeout 60 "$VENV/bin/python" -m pytest checks/test_site.py \
    -p no:cacheprovider -q || true
  if ((built != 0)); then
    stage diagnose timeout 150 "$VENV/bin/python" -m bookbuild.gpu.run_pages --not-cached \
      || true
  fi
  return "$built"
}

case ${1:-} in
  build) build ;;
  *) echo "usage: $0 build" >&2; exit 2 ;;
esac
