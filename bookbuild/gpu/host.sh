#!/usr/bin/env bash
# On an offline GPU host, from the repository root, after bookbuild/gpu/prepare.sh's two parts
# have arrived there (see bookbuild/gpu/README.md):
#
#   bookbuild/gpu/host.sh install   install .gpu/wheels into $SITE, and a python3 kernel
#   bookbuild/gpu/host.sh probe     run the pages that need no data or weights, and report
#                                    every error and stderr output
#   bookbuild/gpu/host.sh build     build the whole book with CNNBOOK_REQUIRE_GPU=1, run the
#                                    checks that need no browser, and write logs and archives
#                                    to $OUT
#
# The host's own python3 provides torch; everything else comes from .gpu/ (no network).
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/../.."

SITE=${SITE:-/tmp/cnnbook-site}
OUT=$(realpath -m "${OUT:-.gpu/out}")
PYTHON=${PYTHON:-python3}
REQUIRE_GPU=${REQUIRE_GPU:-1}  # 0 only to rehearse the script on a machine without a GPU
# The kernel's spec goes into $SITE too, found through JUPYTER_PATH: nothing is written to $HOME.
export PYTHONPATH=$SITE PATH="$SITE/bin:$PATH" JUPYTER_PATH=$SITE/share/jupyter PYTHONUNBUFFERED=1

install() {
  (cd .gpu/wheels && sha256sum --check --quiet SHA256SUMS)
  rm -rf "$SITE"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
    --no-compile --target "$SITE" .gpu/wheels/*.whl
  "$PYTHON" -m ipykernel install --prefix "$SITE" --name python3 --display-name "Python 3"
  "$PYTHON" -c 'import cnnbook, jupyter_book, myst_nb, torch
print("installed: cnnbook", cnnbook.__version__, "jupyter-book", jupyter_book.__version__,
      "myst-nb", myst_nb.__version__, "torch", torch.__version__,
      "cuda" if torch.cuda.is_available() else "NO CUDA")'
}

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

# What `make book` runs, with the host's Python (the export of notebooks aside).
book() {
  "$PYTHON" -m bookbuild.cache &&
    "$PYTHON" -m bookbuild.preexecute &&
    jupyter-book build . --builder html --warningiserror --keep-going
}

# Before the data arrives: run every page that needs neither Fashion-MNIST nor the weights.
probe() {
  CNNBOOK_REQUIRE_GPU=$REQUIRE_GPU "$PYTHON" -m bookbuild.gpu.run_pages \
    --skip book/training-a-cnn book/pretrained-network
}

build() {
  if [[ ! -d $SITE ]]; then install; fi
  mkdir -p "$OUT"
  : >"$OUT/summary.txt"
  (cd .gpu/data && sha256sum --check --quiet SHA256SUMS)
  export CNNBOOK_REQUIRE_GPU=$REQUIRE_GPU CNNBOOK_DATA=$PWD/.gpu/data
  "$PYTHON" -c 'import sys; from pathlib import Path; from bookbuild.weights import provision_mobilenet_v2
print("weights:", provision_mobilenet_v2(Path(sys.argv[1])))' .gpu/data/mobilenet_v2-*.pth
  # summary.txt: the date, the environment, then one line per stage
  date -u +%FT%TZ >>"$OUT/summary.txt"
  "$PYTHON" -c 'import json, cnnbook
print(json.dumps(cnnbook.build_environment(["jupyter-book", "myst-nb", "sphinx"]), indent=1))' \
    >>"$OUT/summary.txt"
  rm -rf _build
  local built=0
  stage book book || built=$?
  tar -czf "$OUT/html.tar.gz" -C _build html
  tar -czf "$OUT/jupyter_cache.tar.gz" -C _build .jupyter_cache
  stage check-site timeout 60 "$PYTHON" -m pytest checks/test_site.py -p no:cacheprovider -q || true
  if ((built != 0)); then
    stage diagnose timeout 150 "$PYTHON" -m bookbuild.gpu.run_pages --not-cached || true
  fi
  # In parallel where pytest-xdist is there; pytest-benchmark, if installed, would warn about
  # that, and the project's filterwarnings=error turns a warning into a failure.
  local pytest_opts=(-p no:cacheprovider -p no:benchmark -q)
  if "$PYTHON" -c 'import xdist' 2>/dev/null; then pytest_opts+=(-n 12); fi
  stage tests timeout 90 "$PYTHON" -m pytest tests "${pytest_opts[@]}" \
    --ignore=tests/test_workflows.py || true
  stage check-run timeout 150 "$PYTHON" -m pytest checks/test_snippets.py \
    checks/test_notebooks.py "${pytest_opts[@]}" || true
  return "$built"
}

case ${1:-} in
  install) install ;;
  build) build ;;
  probe) probe ;;
  *) echo "usage: $0 install|probe|build" >&2; exit 2 ;;
esac
