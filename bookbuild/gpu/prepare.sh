#!/usr/bin/env bash
# On a connected machine: write what an offline GPU host needs to build the book, in two parts
# that each travel to the host in one transfer of at most 64 MiB (see bookbuild/gpu/README.md).
#
#   .gpu/wheels/  the book toolchain for the host's Python (HOST_PYTHON, default 3.12) and a
#                 cnnbook wheel, without what the host already has (HOST_HAS)
#   .gpu/data/    Fashion-MNIST's four idx files and torchvision's MobileNetV2 weights
#
# Each part has a SHA256SUMS file that bookbuild/gpu/host.sh checks. Run from the repository
# root after `make book` (which provides .venv and the weights); CNNBOOK_DATA may name the
# Fashion-MNIST folder, else Debian's /usr/share/datasets/fashion-mnist is used.
set -euo pipefail
cd "$(dirname "$0")/../.."

HOST_PYTHON=${HOST_PYTHON:-3.12}
PYTHON=${PYTHON:-.venv/bin/python}
LIMIT_MIB=60  # each part, leaving room for the working tree in a 64 MiB transfer
# Distributions the GPU host provides (torch, the scientific stack, pytest and friends).
HOST_HAS='^(torch|torchvision|triton|nvidia-.*|cuda-.*|numpy|scipy|matplotlib|pillow|contourpy|cycler|fonttools|kiwisolver|pyparsing|python-dateutil|six|psutil|tqdm|pyyaml|jinja2|markupsafe|pygments|packaging|requests|urllib3|idna|certifi|charset-normalizer|typing-extensions|setuptools|filelock|fsspec|sympy|mpmath|networkx|pytest|pluggy|iniconfig)$'

rm -rf .gpu/wheels .gpu/data
mkdir -p .gpu/wheels .gpu/data

# 1. Wheels: the book's own requirement lines (versions as in requirements.txt; captum for
#    the attribution chapter), a kernel, and the HTML parser of the site checks, resolved
#    for the host's Python on manylinux x86_64, at the versions requirements.lock pins
#    (the lock is resolved for Python 3.11, so its pins serve as constraints rather than
#    as a hashed list: a package the host's Python needs and the lock lacks still
#    resolves).
requirements=$(mktemp)
constraints=$(mktemp)
trap 'rm -f "$requirements" "$constraints"' EXIT
book='jupyter-book|myst-nb|sphinx-book-theme|sphinx-mathjax-offline|beautifulsoup4|captum'
grep -E "^($book)\b" requirements.txt | sed 's/[[:space:]]*#.*//' >"$requirements"
echo ipykernel >>"$requirements"
sed -nE 's/^([A-Za-z0-9][A-Za-z0-9._-]*==[^[:space:]\\]+).*/\1/p' requirements.lock >"$constraints"
platforms=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_26 manylinux_2_24 manylinux_2_17 \
           manylinux2014 manylinux1 manylinux_2_5; do
  platforms+=(--platform "${tag}_x86_64")
done
"$PYTHON" -m pip download --quiet --only-binary=:all: --python-version "$HOST_PYTHON" \
  --implementation cp "${platforms[@]}" --dest .gpu/wheels --requirement "$requirements" \
  --constraint "$constraints"
for wheel in .gpu/wheels/*.whl; do
  name=$(basename "$wheel" | cut -d- -f1 | tr 'A-Z_' 'a-z-')
  if [[ $name =~ $HOST_HAS ]]; then rm "$wheel"; fi
done
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir .gpu/wheels .

# 2. Data: Fashion-MNIST as found locally, and the weights from torch's cache (make book put
#    them there), under torchvision's file name so that the host can check the hash prefix.
data_dir=${CNNBOOK_DATA:-/usr/share/datasets/fashion-mnist}
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
            t10k-labels-idx1-ubyte; do
  cp "$data_dir/$name.gz" .gpu/data/
done
weights=$("$PYTHON" -c 'import bookbuild.weights as w; print(w.provision_mobilenet_v2() or "")')
if [[ -z $weights ]]; then
  echo "MobileNetV2 weights not found: run make book first" >&2
  exit 1
fi
cp "$weights" .gpu/data/

for part in .gpu/wheels .gpu/data; do
  (cd "$part" && sha256sum -- * >SHA256SUMS)
  size=$(du -sm "$part" | cut -f1)
  echo "$part: $(find "$part" -type f | wc -l) files, $size MiB"
  if ((size > LIMIT_MIB)); then
    echo "$part is over $LIMIT_MIB MiB: it will not travel in one transfer" >&2
    exit 1
  fi
done
