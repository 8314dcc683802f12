#!/usr/bin/env bash
# Fashion-MNIST (Xiao et al. 2017), 60,000 + 10,000 28x28 grey images, 10 classes, gzip'd IDX files as shipped
# by Debian `dataset-fashion-mnist` (MIT).
source "$(dirname "$0")/lib.sh"
dataset fashion-mnist data/fashion-mnist
fetch_deb dataset-fashion-mnist
mkdir -p "$OUT/data/fashion-mnist"
for file in {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz; do
    cp "$(deb_root dataset-fashion-mnist)/usr/share/datasets/fashion-mnist/$file" "$OUT/data/fashion-mnist/"
done
finish
