// SPDX-License-Identifier: MIT
// CLIENTS werift peer connections join Janus's EchoTest from this one Node
// process, all started at once: each creates a Janus session, attaches
// janus.plugin.echotest, sends {audio: true, video: false, data: true} with
// a non-trickle offer (audio m-line sendrecv, DataChannel), takes the
// answer from its long poll and waits for its DataChannel to open. A join
// is create -> DataChannel open. Then all are held HOLD seconds (their
// long polls keep the sessions alive; Janus's session count is read from
// the admin API half way), and a session counts as held when one 64-byte
// message still comes back at the end. Then detach + destroy. Prints one
// line of key=value figures (bench/target/janus_werift.sh takes medians).
//   node janus_werift.mjs URL LOCAL_ADDR CLIENTS HOLD ADMIN_URL ADMIN_SECRET RUN
import { RTCPeerConnection } from "werift";
import { sleep, fail, failAfter } from "./werift_msgs.mjs";
import { JanusSession, admin } from "./janus_lib.mjs";

const [url, localAddr, clientsArg, holdArg, adminUrl, adminSecret, runArg] = process.argv.slice(2);
const clients = Number(clientsArg || 50);
const hold = Number(holdArg || 10);
if (!url || !localAddr || !(clients > 0) || !(hold >= 0)) fail("usage: node janus_werift.mjs URL LOCAL_ADDR CLIENTS HOLD ADMIN_URL ADMIN_SECRET RUN");
failAfter(120000 + hold * 1000);
// JANUS_OFFER_SETUP=active: werift offers a=setup:active (it is the DTLS
// client, Janus answers passive) instead of actpass (Janus answers active)
const offerSetup = process.env.JANUS_OFFER_SETUP || "actpass";
const now = () => performance.now();
const within = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`${what}: not within ${ms} ms`); })]);

async function join(c) {
  c.t0 = now();
  c.s = await JanusSession.create(url);
  c.h = await c.s.attach("janus.plugin.echotest");
  c.pc = new RTCPeerConnection({ iceServers: [], iceInterfaceAddresses: { udp4: localAddr }, iceUseIpv6: false });
  c.pc.addTransceiver("audio", { direction: "sendrecv" });
  c.dc = c.pc.createDataChannel("bench", { ordered: true });
  const opened = new Promise((resolve) => c.dc.stateChanged.subscribe((st) => { if (st === "open") resolve(); }));
  await c.pc.setLocalDescription(await c.pc.createOffer());
  while (c.pc.iceGatheringState !== "complete") await sleep(5);
  c.tg = now();
  const sdp = c.pc.localDescription.sdp.replace(/a=setup:actpass/g, `a=setup:${offerSetup}`);
  await c.h.message({ audio: true, video: false, data: true }, { type: "offer", sdp, trickle: false });
  const ev = await c.h.next((e) => e.jsep, 30000);
  c.ta = now();
  await c.pc.setRemoteDescription({ type: "answer", sdp: ev.jsep.sdp });
  await within(opened, 30000, "DataChannel open");
  c.t1 = now();
}

async function echo(c) {
  const p = Buffer.alloc(64, c.i & 0xff);
  const back = new Promise((resolve) => c.dc.onMessage.subscribe((d) => { if (Buffer.isBuffer(d) && d.equals(p)) resolve(); }));
  c.dc.send(p);
  await within(back, 5000, "echo");
}

const cs = Array.from({ length: clients }, (_, i) => ({ i }));
const tStart = now();
const joins = await Promise.allSettled(cs.map(join));
const tJoined = now();
const ok = cs.filter((c, k) => joins[k].status === "fulfilled");
const errors = joins.filter((j) => j.status === "rejected").map((j) => j.reason.message);
const ms = ok.map((c) => c.t1 - c.t0).sort((a, b) => a - b);
const pct = (q) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] : 0);
// the median of each stage: create + attach + offer + gathering, offer
// sent -> answer, answer -> DataChannel open
const p50 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const stages = [p50(ok.map((c) => c.tg - c.t0)), p50(ok.map((c) => c.ta - c.tg)), p50(ok.map((c) => c.t1 - c.ta))];
const lastOpen = ok.length ? Math.max(...ok.map((c) => c.t1)) : tJoined;

await sleep((hold * 1000) / 2);
let janusSessions = -1;
if (adminUrl && adminSecret) janusSessions = (await admin(adminUrl, adminSecret, "list_sessions")).sessions.length;
await sleep((hold * 1000) / 2);
const held = (await Promise.allSettled(ok.map(echo))).filter((r) => r.status === "fulfilled").length;
const pollErrors = cs.filter((c) => c.s && c.s.pollError).length;

const tDown = now();
await Promise.allSettled(cs.filter((c) => c.s).map(async (c) => {
  if (c.h) await c.h.detach();
  await c.s.destroy();
}));
const downMs = now() - tDown;
await Promise.allSettled(cs.filter((c) => c.pc).map((c) => c.pc.close()));

const f = (x) => x.toFixed(1);
const cpu = process.cpuUsage();
console.log(`run=${runArg || 1} clients=${clients} joined=${ok.length} failed=${clients - ok.length} ` +
  `joins_per_s=${f(ok.length / ((lastOpen - tStart) / 1000))} join_wall_ms=${f(lastOpen - tStart)} ` +
  `join_p50_ms=${f(pct(0.5))} stage_p50_ms=${stages.map(f).join('/')} join_p95_ms=${f(pct(0.95))} join_max_ms=${f(ms.length ? ms[ms.length - 1] : 0)} ` +
  `setup=${offerSetup} hold_s=${hold} werift_cpu_s=${f((cpu.user + cpu.system) / 1e6)} janus_sessions=${janusSessions} held=${held} poll_errors=${pollErrors} teardown_ms=${f(downMs)}`);
if (errors.length) console.error(`janus_werift: ${errors.length} joins failed, first: ${errors[0]}`);
process.exit(0);
