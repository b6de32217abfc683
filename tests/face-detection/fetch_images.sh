#!/bin/sh
# fetch_images.sh DIR: the three test photos, from Debian packages fetched
# with apt-get download into DIR and unpacked there (hash-checked); prints
# NAME=PATH for each.  Exit 77 when the packages can't be had.
set -eu
dir=$1
mkdir -p "$dir"
unpack() { # PACKAGE SUBDIR
  [ -d "$dir/$2" ] && return 0
  deb=$(ls "$dir"/"$1"_*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$deb" ]; then
    (cd "$dir" && apt-get download "$1" >/dev/null 2>&1) || { echo "skip: apt-get download $1 failed" >&2; exit 77; }
    deb=$(ls "$dir"/"$1"_*.deb | head -n 1)
  fi
  dpkg-deb -x "$deb" "$dir/$2.tmp" && mv "$dir/$2.tmp" "$dir/$2"
}
unpack python3-imageio imageio
unpack python3-skimage skimage
io=$dir/imageio/usr/lib/python3/dist-packages/imageio/resources/images
sk=$dir/skimage/usr/lib/python3/dist-packages/skimage/data
sha256sum -c --quiet >&2 <<SUMS
b6d8f15b9103f9f9368608886d396d9ce92b10989aee1539a1e37dd1a415b9dd  $io/astronaut.png
97403c9c171d1aedd2026c7515e20208ef865eaab56d462c3c2eefade9b7d779  $io/chelsea.png
b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a  $sk/camera.png
SUMS
echo "astronaut=$io/astronaut.png chelsea=$io/chelsea.png camera=$sk/camera.png"
