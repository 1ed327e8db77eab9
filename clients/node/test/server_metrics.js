'use strict';
// Counts calls as the server saw them: grpc_server_handled_total from a
// service's /metrics (Prometheus text), so the tests do not rely on the
// client's own bookkeeping alone.

// One reading of a /metrics page: the calls started (every method), and
// { 'Refresh OK': 3, 'Sum Unauthenticated': 1, ... } for one gRPC service,
// with the handled calls of every service summed.
async function readOnce(metricsUrl, service) {
  const response = await fetch(metricsUrl);
  if (response.status !== 200) throw new Error(`${metricsUrl}: HTTP ${response.status}`);
  const counts = {};
  let started = 0;
  let handled = 0;
  for (const line of (await response.text()).split('\n')) {
    const match = /^(grpc_server_started_total|grpc_server_handled_total)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (match[1] === 'grpc_server_started_total') {
      started += value;
      continue;
    }
    handled += value;
    const labels = Object.fromEntries(
      [...match[2].matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]),
    );
    if (labels.grpc_service !== service) continue;
    counts[`${labels.grpc_method} ${labels.grpc_code}`] = value;
  }
  return { started, handled, counts };
}

// The handled calls of one service, once every call the server started has
// been counted as handled: a call is counted when it ends on the server,
// just after its reply left, so a reading right after a reply could miss
// it. Gives up waiting after 10 s (the counts then show what is missing).
async function handledCalls(metricsUrl, service) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const reading = await readOnce(metricsUrl, service);
    if (reading.started === reading.handled || Date.now() > deadline) return reading.counts;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// What changed between two handledCalls() readings; unchanged series left out.
function delta(before, after) {
  const changed = {};
  for (const [key, value] of Object.entries(after)) {
    const difference = value - (before[key] || 0);
    if (difference !== 0) changed[key] = difference;
  }
  return changed;
}

module.exports = { handledCalls, delta };
