#!/bin/sh
# Stages what the shader tests and the matmul benchmark need on the lent GPU
# machine (no network, no Node there) into an ignored folder to carry:
# Node (xz), Dawn for Node's linux-x64 build, the Vulkan/GL loader .debs,
# the generated shaders.ts, and run.sh, which unpacks them there and runs
# run-node.mjs against the NVIDIA Vulkan ICD.
#
# usage: stage-device.sh BUILD_DIR [OUT_DIR]   (after fetch-f16.sh)
#   then: run(command: "sh OUT_DIR/run.sh", carry: [OUT_DIR])
set -eu
build=$1
out=${2:-build-shader-gpu}
mkdir -p "$out/debs"
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"
tar -C "$build/cache/webgpu-node/node_modules" -cJf "$out/webgpu.tar.xz" \
	webgpu/index.js webgpu/package.json webgpu/dist/linux-x64
(cd "$out/debs" && apt-get download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2)
cp "$build/tests/shaders/shaders.ts" "$out/shaders.ts"
cat > "$out/run.sh" <<RUN
#!/bin/sh
set -e
G=$out
T=/tmp/m2wgpu
mkdir -p \$T/wgpu/node_modules \$T/libs
xz -dc \$G/node.xz > \$T/node && chmod +x \$T/node
tar -C \$T/wgpu/node_modules -xJf \$G/webgpu.tar.xz
for d in \$G/debs/*.deb; do dpkg -x \$d \$T/libs; done
export LD_LIBRARY_PATH=\$T/libs/usr/lib/x86_64-linux-gnu
export VK_DRIVER_FILES=\$(ls /usr/local/nvidia/share/vulkan/icd.d/*.json | head -1)
\$T/node tests/shaders/run-node.mjs \$G/shaders.ts --webgpu \$T/wgpu "\$@" 2>&1 | grep -v '^Warning: max'
\$T/node tests/shaders/run-node.mjs \$G/shaders.ts --webgpu \$T/wgpu --bench --sizes \${SIZES:-512,1024,2048,4096} 2>&1 |
	grep -v '^Warning: max'
RUN
du -sh "$out"
