// SPDX-License-Identifier: MIT
// werift (a TypeScript WebRTC stack we did not write) as an external peer of
// a running swarm: POSTs its offer to the WHIP URL, applies the answer,
// opens a DataChannel to the simulated agent, sends COUNT messages of mixed
// sizes (every 100th ~64 KiB), checks every echo byte for byte and in
// order, then PINGS more 64-byte messages one at a time (the round trip
// each takes), DELETEs the session's Location and closes. MODE route: the
// messages are not echoed (the swarm injects them into the mesh); werift
// waits until they are all acknowledged (bufferedAmount 0). Prints one line
// with the figures. Exit 0 on success, 1 with a reason.
//   node werift_whip.mjs URL COUNT LOCAL_ADDR [echo|route] [PINGS]
import { RTCPeerConnection } from "werift";
import { sleep, fail, failAfter, messages } from "./werift_msgs.mjs";

const [url, countArg, localAddr, modeArg, pingsArg] = process.argv.slice(2);
const count = Number(countArg || 1000);
const mode = modeArg || "echo";
const pings = mode === "echo" ? Number(pingsArg || 0) : 0;
failAfter(90000);

const pc = new RTCPeerConnection({
  iceServers: [],
  // one host candidate on the kernel end of the external port
  iceInterfaceAddresses: localAddr ? { udp4: localAddr } : undefined,
  iceUseIpv6: false,
});
const dc = pc.createDataChannel("whip", { ordered: true });
await pc.setLocalDescription(await pc.createOffer());
while (pc.iceGatheringState !== "complete") await sleep(20);

const t0 = Date.now();
let res;
try {
  res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: pc.localDescription.sdp });
} catch (e) {
  fail(`POST ${url}: ${e.message}`);
}
const answer = await res.text();
if (res.status !== 201) fail(`POST ${url}: ${res.status} ${answer.trim()}`);
const location = res.headers.get("location");
if (!location) fail("201 without a Location header");
if (!(res.headers.get("content-type") || "").startsWith("application/sdp")) fail("answer is not application/sdp");
const setup = (answer.match(/a=setup:(\w+)/) || [])[1];
if (!/a=ice-lite/.test(answer)) fail("answer without a=ice-lite");
await pc.setRemoteDescription({ type: "answer", sdp: answer });

const { sizes, make, check } = messages(count);
let echoed = 0, tOpen = 0;
let onPing = null;
const done = new Promise((resolve) => {
  dc.onMessage.subscribe((data) => {
    if (mode !== "echo") fail(`a message came back in ${mode} mode`);
    if (echoed === count) {
      const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (onPing) onPing(b);
      else fail("an echo too many");
      return;
    }
    check(data, echoed);
    echoed++;
    if (echoed === count) resolve();
  });
});
const opened = new Promise((resolve) => dc.stateChanged.subscribe((s) => { if (s === "open") resolve(); }));
await opened;
tOpen = Date.now();
for (let i = 0; i < count; i++) dc.send(make(i));
if (mode === "echo") {
  await done;
} else {
  while (dc.bufferedAmount > 0) await sleep(20);
  await sleep(500); // the last SACK
}
const tDone = Date.now();
const rtt = [];
for (let i = 0; i < pings; i++) {
  const p = Buffer.alloc(64, i & 0xff);
  const t = process.hrtime.bigint();
  const back = await new Promise((resolve) => { onPing = resolve; dc.send(p); });
  rtt.push(Number(process.hrtime.bigint() - t) / 1e3);
  if (!back.equals(p)) fail(`ping ${i} differs`);
}
rtt.sort((a, b) => a - b);
const pct = (q) => rtt[Math.min(rtt.length - 1, Math.floor(q * rtt.length))].toFixed(0);
const del = await fetch(new URL(location, url), { method: "DELETE" });
if (del.status !== 200) fail(`DELETE ${location}: ${del.status}`);
const bytes = sizes.reduce((a, b) => a + b, 0);
console.log(`werift: answer setup:${setup}, channel open ${tOpen - t0} ms after the POST, ` +
  `${count} messages (${(bytes / 1048576).toFixed(1)} MiB) ${mode === "echo" ? "echoed byte for byte" : "sent and acknowledged"} ` +
  `in ${tDone - tOpen} ms` + (pings ? `, ${pings} pings of 64 bytes: round trip p50 ${pct(0.5)} us, p99 ${pct(0.99)} us` : "") +
  `, DELETE ${del.status}`);
await pc.close();
process.exit(0);
