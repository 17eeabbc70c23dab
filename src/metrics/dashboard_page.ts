/**
 * The page of `/_dashboard`: HTML, CSS and script in one string, nothing from elsewhere. The
 * script polls `/_dashboard/data` every second, keeps the last five minutes of samples, and draws
 * request rate, latency percentiles (from the latency buckets' differences), open connections,
 * responses by status class, requests per mount, and every counter of the counter table.
 *
 * @module
 */

/** The dashboard's HTML. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>ferry dashboard</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1f2328}
header{display:flex;gap:1rem;align-items:baseline;padding:.8rem 1.2rem;background:#1f2937;color:#fff}
header h1{font-size:1.1rem;margin:0}header span{color:#9ca3af;font-size:.85rem}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem;padding:1rem 1.2rem}
section{background:#fff;border-radius:8px;padding:.8rem 1rem;box-shadow:0 1px 3px #0002}
h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#6b7280;margin:0 0 .4rem}
.big{font-size:2rem;font-weight:600;font-variant-numeric:tabular-nums}.unit{color:#6b7280;font-size:.9rem}
.row{display:flex;gap:1.2rem}.row div{flex:1}svg{width:100%;height:70px;display:block;margin-top:.4rem}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:.2rem .3rem;text-align:right}td:first-child,th:first-child{text-align:left}
.bar{height:10px;border-radius:3px;background:#3b82f6}.c2{background:#16a34a}.c3{background:#0ea5e9}.c4{background:#f59e0b}.c5{background:#dc2626}
</style></head>
<body>
<header><h1>ferry</h1><span id="meta">connecting…</span></header>
<main>
<section><h2>Requests / s</h2><div class="big" id="rate">–</div><div class="unit">total <span id="total">0</span></div>
<svg id="rate-chart" viewBox="0 0 300 70" preserveAspectRatio="none"></svg></section>
<section><h2>Latency (last second, ms)</h2><div class="row">
<div><div class="unit">p50</div><div class="big" id="p50">–</div></div>
<div><div class="unit">p95</div><div class="big" id="p95">–</div></div>
<div><div class="unit">p99</div><div class="big" id="p99">–</div></div></div>
<svg id="latency-chart" viewBox="0 0 300 70" preserveAspectRatio="none"></svg></section>
<section><h2>Open connections</h2><div class="big" id="conns">–</div><div class="unit" id="conns-split"></div>
<svg id="conns-chart" viewBox="0 0 300 70" preserveAspectRatio="none"></svg></section>
<section><h2>Responses / s by status</h2><table id="status"></table></section>
<section><h2>Requests / s by mount</h2><table id="mounts"></table></section>
<section><h2>Counters</h2><table id="counters"></table></section>
<section id="acme-section" hidden><h2>Certificates (automatic HTTPS)</h2><table id="acme"></table></section>
</main>
<script>
"use strict";
const WINDOW = 300; // samples kept: five minutes at one a second
const samples = [];
const $ = (id) => document.getElementById(id);
function fmt(n, digits) { return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits); }
function quantile(bounds, counts, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (seen + counts[i] >= q * total) {
      const lo = i === 0 ? 0 : bounds[i - 1];
      const hi = i < bounds.length ? bounds[i] : bounds[bounds.length - 1] * 2;
      return (lo + (hi - lo) * ((q * total - seen) / counts[i])) * 1000;
    }
    seen += counts[i];
  }
  return NaN;
}
function spark(svg, values, color) {
  const max = Math.max(1e-9, ...values.filter(Number.isFinite));
  const step = 300 / Math.max(1, WINDOW - 1);
  const off = WINDOW - values.length;
  const pts = values.map((v, i) => ((off + i) * step).toFixed(1) + "," + (68 - (Number.isFinite(v) ? v / max : 0) * 64).toFixed(1));
  svg.innerHTML = '<polyline fill="none" stroke="' + color + '" stroke-width="2" points="' + pts.join(" ") + '"/>';
}
function perSecond(a, b, f) { const dt = (b.t - a.t) / 1000; return dt > 0 ? (f(b) - f(a)) / dt : 0; }
function draw() {
  if (samples.length < 2) return;
  const a = samples[samples.length - 2], b = samples[samples.length - 1];
  const rate = perSecond(a, b, (s) => s.requests);
  $("rate").textContent = fmt(rate, 1);
  $("total").textContent = String(b.requests);
  $("conns").textContent = String(b.connections);
  $("conns-split").textContent = "HTTP/2 " + b.http2 + ", HTTP/1.1 " + (b.connections - b.http2);
  $("meta").textContent = "version " + b.version + " · up " + b.uptime + " s · updated " + new Date(b.t).toLocaleTimeString();
  const deltas = b.bounds.map(() => 0).concat([0]);
  for (const [name, m] of Object.entries(b.mounts)) {
    const prev = a.mounts[name];
    m.buckets.forEach((n, i) => deltas[i] += n - (prev ? prev.buckets[i] : 0));
  }
  const p = [0.5, 0.95, 0.99].map((q) => quantile(b.bounds, deltas, q));
  b.p = p;
  ["p50", "p95", "p99"].forEach((id, i) => $(id).textContent = Number.isFinite(p[i]) ? fmt(p[i], 2) : "–");
  const rates = [];
  for (let i = 1; i < samples.length; i++) rates.push(perSecond(samples[i - 1], samples[i], (s) => s.requests));
  spark($("rate-chart"), rates, "#2563eb");
  spark($("latency-chart"), samples.map((s) => s.p ? s.p[1] : NaN), "#d97706");
  spark($("conns-chart"), samples.map((s) => s.connections), "#059669");
  const classes = ["2xx", "3xx", "4xx", "5xx"];
  const cr = classes.map((c) => perSecond(a, b, (s) => s.responses[c] || 0));
  const cmax = Math.max(1, ...cr);
  $("status").innerHTML = classes.map((c, i) =>
    '<tr><td>' + c + '</td><td style="width:60%"><div class="bar c' + c[0] + '" style="width:' + (100 * cr[i] / cmax).toFixed(1) + '%"></div></td><td id="status-' + c + '">' + fmt(cr[i], 1) + '</td></tr>').join("");
  $("mounts").innerHTML = '<tr><th>mount</th><th>req/s</th><th>total</th></tr>' + Object.entries(b.mounts).map(([name, m]) =>
    '<tr><td>' + name.replace(/[<&]/g, "") + '</td><td>' + fmt(perSecond(a, b, (s) => s.mounts[name] ? s.mounts[name].count : 0), 1) + '</td><td>' + m.count + '</td></tr>').join("");
  $("counters").innerHTML = Object.entries(b.counters).map(([name, c]) =>
    '<tr><td title="' + c.help.replace(/[<&"]/g, "") + '">' + name + '</td><td>' + c.value + '</td></tr>').join("");
  const acme = b.acme || [];
  $("acme-section").hidden = acme.length === 0;
  const esc = (t) => String(t).replace(/[<&"]/g, "");
  $("acme").innerHTML = '<tr><th>name</th><th>issuer</th><th>days left</th><th>orders</th><th>failures</th></tr>' + acme.map((c) =>
    '<tr><td>' + esc(c.name) + '</td><td>' + esc(c.issuer) + '</td><td>' + (c.notAfter ? fmt((c.notAfter - b.t) / 86400000, 1) : "–") + '</td><td>' + c.orders + '</td><td title="' + esc(c.lastError) + '">' + c.failures + '</td></tr>').join("");
}
async function poll() {
  try {
    const r = await fetch("data", { cache: "no-store" });
    if (r.ok) {
      samples.push(await r.json());
      if (samples.length > WINDOW) samples.shift();
      draw();
    } else $("meta").textContent = "data: " + r.status;
  } catch (e) { $("meta").textContent = "disconnected: " + e; }
  setTimeout(poll, 1000);
}
poll();
</script>
</body></html>
`;
