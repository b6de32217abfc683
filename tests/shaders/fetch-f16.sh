#!/bin/sh
# Installs what the f16 shader tests need into DEST (default: $M2W_CACHE or
# build/cache): Mesa lavapipe 25 from bookworm-backports (Debian 12's own
# lavapipe is refused by Dawn; 25 reports shader-f16) unpacked privately
# with the libdrm it needs and the Vulkan loader, and Dawn for Node (npm
# `webgpu`).  The system's Mesa is not touched.  Pinned versions, sha256
# checked; reruns are no-ops.  The apt source is derived from this machine's
# own Debian entry, so no host is written here.
#
# usage: fetch-f16.sh [DEST]
set -eu
dest=${1:-${M2W_CACHE:-build/cache}}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
lvp="$dest/lavapipe"
wgpu="$dest/webgpu-node"

if [ ! -f "$lvp/.done" ]; then
	apt_dir="$dest/apt-backports"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
	uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
	[ -n "$uri" ] || { echo "fetch-f16: no Debian apt source found" >&2; exit 1; }
	printf 'deb %s bookworm main\ndeb %s bookworm-backports main\n' "$uri" "$uri" > "$apt_dir/sources.list"
	O="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/dev/null
	   -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o APT::Get::List-Cleanup=0"
	# shellcheck disable=SC2086
	apt-get $O update >/dev/null
	(cd "$apt_dir/debs" && apt-get $O download \
		mesa-vulkan-drivers=25.0.7-2~bpo12+1 libdrm2=2.4.123-1~bpo12+1 \
		libdrm-amdgpu1=2.4.123-1~bpo12+1 libvulkan1=1.3.239.0-1)
	(cd "$apt_dir/debs" && sha256sum -c - <<'SUMS'
3899f1800424c60a05df5d6913076a526ca8fdbabec43672cd397563d1ca3263  mesa-vulkan-drivers_25.0.7-2~bpo12+1_amd64.deb
9cc2f341964286295124a32d3625edb76730500625e54a1e682761f883064d7b  libdrm2_2.4.123-1~bpo12+1_amd64.deb
334e2ae389af0e9cb607c2ccfbbf7ae9feb34131ff998550baeffeeae6cda296  libdrm-amdgpu1_2.4.123-1~bpo12+1_amd64.deb
622f28b807ba55a1f5ad1622ff83aa2c5b11fedbec074850e04c10a8f28b43d3  libvulkan1_1.3.239.0-1_amd64.deb
SUMS
	)
	rm -rf "$lvp"
	mkdir -p "$lvp"
	for d in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$d" "$lvp"; done
	lib="$lvp/usr/lib/x86_64-linux-gnu"
	printf '{ "file_format_version": "1.0.0", "ICD": { "api_version": "1.4.305", "library_path": "%s" } }\n' \
		"$lib/libvulkan_lvp.so" > "$lvp/lvp_icd.json"
	touch "$lvp/.done"
fi

if [ ! -f "$wgpu/.done" ]; then
	mkdir -p "$wgpu"
	(cd "$wgpu" && printf '{ "private": true }\n' > package.json &&
		npm install --no-audit --no-fund --ignore-scripts webgpu@0.6.2 >/dev/null)
	echo "ab18a659f8325e874ea45c80347b64336d7f748601102753d2bc669fdecfd710  $wgpu/node_modules/webgpu/dist/linux-x64/dawn.node" |
		sha256sum -c -
	touch "$wgpu/.done"
fi
echo "fetch-f16: lavapipe in $lvp, Dawn for Node in $wgpu"
