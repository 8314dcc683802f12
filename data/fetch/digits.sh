#!/usr/bin/env bash
# scikit-learn's digits: 1,797 8x8 images (pixels 0-16, then the label) as a gzip'd CSV, taken from the
# arch-independent Debian package python3-sklearn (BSD-3; 2 MB, not installed) rather than a 10 MB
# platform wheel. The file is the UCI optdigits test set that scikit-learn ships.
source "$(dirname "$0")/lib.sh"
dataset digits data/digits
fetch_deb python3-sklearn
mkdir -p "$OUT/data/digits"
cp "$(deb_root python3-sklearn)/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz" "$OUT/data/digits/"
finish
