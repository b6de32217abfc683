// plot.mjs RESULTS_JSON OUT_STEM — inference time of each m2w package
// against its peers, one group of bars per model, from the RESULT lines
// that carry "plot": "<model>" (see record.py).  Writes OUT_STEM.svg and,
// when playwright-core and /usr/bin/chromium are there, OUT_STEM.png (a
// screenshot of the SVG in headless Chromium).
import fs from 'node:fs';
import { createRequire } from 'node:module';

const [resultsPath, stem] = process.argv.slice(2);
const recs = JSON.parse(fs.readFileSync(resultsPath, 'utf8'));
const groups = new Map(); // model -> Map(label -> ms)
let machine = '';
for (const r of recs) {
  for (const x of r.results) {
    if (!x.plot || !x.m2w) continue;
    machine = r.machine;
    const key = `${x.plot}  (${r.machine.split(':')[0]}${x.adapter ? ', ' + x.adapter : ''})`;
    const g = groups.get(key) ?? new Map();
    groups.set(key, g);
    g.set('m2w', x.m2w.median);
    if (x.peer) g.set(x.peer.name, x.peer.median);
  }
}
if (!groups.size) {
  console.log('plot.mjs: no RESULT lines with "plot": nothing to draw');
  process.exit(0);
}
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const W = 900, left = 300, barH = 22, gap = 8, groupGap = 26;
let y = 60;
const body = [];
const max = Math.max(...[...groups.values()].flatMap((g) => [...g.values()]));
const scale = (v) => ((W - left - 120) * Math.log10(1 + v)) / Math.log10(1 + max);
for (const [model, g] of groups) {
  body.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(model)}</text>`);
  y += 24;
  for (const [label, v] of g) {
    const mine = label.startsWith('m2w');
    const short = label.length > 40 ? label.slice(0, 39) + '…' : label;
    body.push(`<text x="20" y="${y + 15}">${esc(short)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, scale(v)).toFixed(1)}" height="${barH}" fill="${mine ? '#1a7f37' : '#8c959f'}"/>`,
      `<text x="${left + scale(v) + 6}" y="${y + 15}">${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms</text>`);
    y += barH + gap;
  }
  y += groupGap;
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 30}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="16" font-weight="bold">ms per inference, median (log scale; shorter is better)</text>
<text x="10" y="44" fill="#57606a">${esc([...new Set(recs.map((r) => r.machine))].join('; '))}</text>
${body.join('\n')}
<text x="10" y="${y + 10}" fill="#57606a">Each group: m2w and its peers measured in one run on one host (browser groups: the same headless Chromium).</text>
</svg>
`;
fs.writeFileSync(`${stem}.svg`, svg);
console.log(`plot.mjs: wrote ${stem}.svg`);
try {
  const require = createRequire(import.meta.url);
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'] });
  const page = await browser.newPage({ viewport: { width: W, height: y + 30 } });
  await page.setContent(svg);
  await page.screenshot({ path: `${stem}.png` });
  await browser.close();
  console.log(`plot.mjs: wrote ${stem}.png`);
} catch (e) {
  console.log(`plot.mjs: no PNG (${e.message.split('\n')[0]})`);
}
