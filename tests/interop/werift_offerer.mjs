// SPDX-License-Identifier: MIT
// werift (a TypeScript WebRTC stack we did not write) as the offering peer:
// writes its SDP offer (setup:actpass) to OFFER, waits for our answer in
// ANSWER (whose setup decides the DTLS roles), opens a DataChannel, sends
// COUNT messages of mixed sizes, checks every echo byte for byte and in
// order, closes. Exit 0 on success, 1 with a reason.
//   node werift_offerer.mjs OFFER ANSWER COUNT
import { RTCPeerConnection } from "werift";
import { readFileSync, writeFileSync, existsSync } from "node:fs";

const [offerPath, answerPath, countArg] = process.argv.slice(2);
const count = Number(countArg || 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fail = (why) => { console.error(`werift: ${why}`); process.exit(1); };
setTimeout(() => fail("timed out"), 60000).unref();

const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ["127.0.0.1"] });
const dc = pc.createDataChannel("agents", { ordered: true });
await pc.setLocalDescription(await pc.createOffer());
while (pc.iceGatheringState !== "complete") await sleep(20);
writeFileSync(offerPath + ".tmp", pc.localDescription.sdp);
await import("node:fs").then((fs) => fs.renameSync(offerPath + ".tmp", offerPath));
while (!existsSync(answerPath)) await sleep(20);
await sleep(20);
await pc.setRemoteDescription({ type: "answer", sdp: readFileSync(answerPath, "utf8") });

const sizes = [];
let seed = 12345;
for (let i = 0; i < count; i++) {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  sizes.push(4 + (seed % 4000) + (i % 100 === 0 ? 60000 : 0)); // mostly < 4 KiB, every 100th ~64 KiB
}
const make = (i) => {
  const b = Buffer.alloc(sizes[i]);
  b.writeUInt32BE(i, 0);
  for (let k = 4; k < b.length; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
};
let echoed = 0;
const t0 = Date.now();
const done = new Promise((resolve) => {
  dc.onMessage.subscribe((data) => {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!b.equals(make(echoed))) fail(`echo ${echoed} differs (${b.length} bytes, want ${sizes[echoed]})`);
    echoed++;
    if (echoed === count) resolve();
  });
});
dc.stateChanged.subscribe((s) => {
  if (s === "open") for (let i = 0; i < count; i++) dc.send(make(i));
});
await done;
console.log(`werift: ${count} messages echoed byte for byte in ${Date.now() - t0} ms`);
await pc.close();
process.exit(0);
