// SPDX-License-Identifier: MIT
// werift (a TypeScript WebRTC stack we did not write) as the offering peer:
// writes its SDP offer (setup:actpass) to OFFER, waits for our answer in
// ANSWER (whose setup decides the DTLS roles), opens a DataChannel, sends
// COUNT messages of mixed sizes, checks every echo byte for byte and in
// order, closes. Exit 0 on success, 1 with a reason.
//   node werift_offerer.mjs OFFER ANSWER COUNT
import { RTCPeerConnection } from "werift";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { sleep, failAfter, messages } from "./werift_msgs.mjs";

const [offerPath, answerPath, countArg] = process.argv.slice(2);
const count = Number(countArg || 1000);
failAfter(60000);

const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ["127.0.0.1"] });
const dc = pc.createDataChannel("agents", { ordered: true });
await pc.setLocalDescription(await pc.createOffer());
while (pc.iceGatheringState !== "complete") await sleep(20);
writeFileSync(offerPath + ".tmp", pc.localDescription.sdp);
await import("node:fs").then((fs) => fs.renameSync(offerPath + ".tmp", offerPath));
while (!existsSync(answerPath)) await sleep(20);
await sleep(20);
await pc.setRemoteDescription({ type: "answer", sdp: readFileSync(answerPath, "utf8") });

const { make, check } = messages(count);
let echoed = 0;
const t0 = Date.now();
const done = new Promise((resolve) => {
  dc.onMessage.subscribe((data) => {
    check(data, echoed);
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
