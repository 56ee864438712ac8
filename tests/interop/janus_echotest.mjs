// SPDX-License-Identifier: MIT
// werift (a TypeScript WebRTC stack we did not write) as a client of
// Janus's EchoTest plugin over the Janus HTTP API: create a session, attach
// janus.plugin.echotest, send {audio: true, video: false, data: true} with
// a non-trickle offer (ICE gathering complete, jsep.trickle false: the
// offer holds werift's candidates), take the answer from the long poll,
// open a DataChannel, send MESSAGES binary messages and check each comes
// back unchanged, send one text message (what comes back is reported), send
// Opus-shaped RTP (20 ms packets) for RTP_SECONDS and count what comes back
// and with which SSRC, ask the admin API for the handle's state, then
// detach and destroy. Prints one line of figures and one line
// "facts: {json}" with what Janus did (the answer's a=setup and
// candidates, the echoed RTP's SSRC, sequence numbers and timestamps,
// Janus's connectivity checks, the admin API's view). Exit 0 on success,
// 1 with a reason.
//   node janus_echotest.mjs URL LOCAL_ADDR [MESSAGES] [RTP_SECONDS] [ADMIN_URL ADMIN_SECRET]
// Environment, to probe Janus (docs/janus.md): JANUS_OFFER_SETUP,
// JANUS_OFFER_STRIP, JANUS_OFFER_MID_EXT, JANUS_HOLD_SECONDS (below).
import { RTCPeerConnection, RtpHeader, RtpPacket, useSdesMid } from "werift";
import { sleep, fail, failAfter, messages } from "./werift_msgs.mjs";
import { JanusSession, admin, candidates } from "./janus_lib.mjs";

const [url, localAddr, countArg, rtpArg, adminUrl, adminSecret] = process.argv.slice(2);
if (!url || !localAddr) fail("usage: node janus_echotest.mjs URL LOCAL_ADDR [MESSAGES] [RTP_SECONDS] [ADMIN_URL ADMIN_SECRET]");
const count = Number(countArg ?? 200);
const rtpSeconds = Number(rtpArg ?? 3);
failAfter(60000 + (rtpSeconds + Number(process.env.JANUS_HOLD_SECONDS || 0)) * 1000);

// Janus's ICE connectivity checks to us (binding requests that authenticate)
const checks = { n: 0, useCandidate: 0, controlled: 0, controlling: 0, times: [], from: new Set() };
const pc = new RTCPeerConnection({
  iceServers: [],
  iceInterfaceAddresses: { udp4: localAddr },
  iceUseIpv6: false,
  // JANUS_OFFER_MID_EXT=1: the mid RTP header extension (RFC 8843) offered and sent
  headerExtensions: process.env.JANUS_OFFER_MID_EXT ? { audio: [useSdesMid()] } : undefined,
  iceFilterStunResponse: (msg, addr) => {
    checks.n++;
    checks.times.push(Date.now());
    checks.from.add(`${addr[0]}:${addr[1]}`);
    const keys = msg.attributesKeys;
    if (keys.includes("USE-CANDIDATE")) checks.useCandidate++;
    if (keys.includes("ICE-CONTROLLED")) checks.controlled++;
    if (keys.includes("ICE-CONTROLLING")) checks.controlling++;
    return true;
  },
});
const audio = pc.addTransceiver("audio", { direction: "sendrecv" });
// the echoed RTP: count, SSRCs, payload types; sent RTP's SSRC is werift's
const rtpIn = { n: 0, ssrc: new Set(), pt: new Set(), bytesOk: 0, tsChanged: 0, seqShift: new Set() };
const sentTsSeq = new Map(); // timestamp -> sequence number as sent (werift adds its offsets)
// an Opus packet: TOC 0xf8 (CELT fullband 20 ms, mono, one frame) and
// the two bytes of a silent frame
const payload = Buffer.from([0xf8, 0xff, 0xfe]);
pc.onTrack.subscribe((track) => {
  track.onReceiveRtp.subscribe((rtp) => {
    rtpIn.n++;
    rtpIn.ssrc.add(rtp.header.ssrc);
    rtpIn.pt.add(rtp.header.payloadType);
    if (rtp.payload.equals(payload)) rtpIn.bytesOk++;
    // matched by timestamp: the sequence number's shift
    const seq = sentTsSeq.get(rtp.header.timestamp);
    if (seq === undefined) rtpIn.tsChanged++;
    else rtpIn.seqShift.add((rtp.header.sequenceNumber - seq) & 0xffff);
    if (!rtpIn.first) rtpIn.first = [rtp.header.sequenceNumber, rtp.header.timestamp];
  });
});
// channels Janus opens on its own (DCEP DATA_CHANNEL_OPEN from Janus)
const remoteChannels = [];
pc.onDataChannel.subscribe((ch) => remoteChannels.push(ch.label));
const dc = pc.createDataChannel("janus", { ordered: true });
await pc.setLocalDescription(await pc.createOffer());
while (pc.iceGatheringState !== "complete") await sleep(10);
// JANUS_OFFER_SETUP=active|passive offers that role instead of actpass
const offerSetup = process.env.JANUS_OFFER_SETUP || "actpass";
// JANUS_OFFER_STRIP=NAME,... removes the offer's a=NAME lines (e.g.
// "ssrc,msid,group,rtcp-mux,candidate,end-of-candidates")
const strip = (process.env.JANUS_OFFER_STRIP || "").split(",").filter(Boolean);
const offer = pc.localDescription.sdp.replace(/a=setup:actpass/g, `a=setup:${offerSetup}`)
  .split("\r\n").filter((l) => !strip.some((n) => l === `a=${n}` || l.startsWith(`a=${n}:`) || l.startsWith(`a=${n} `))).join("\r\n");
if (candidates(offer).length === 0 && !strip.includes("candidate")) fail("werift's offer holds no candidate");

const t0 = Date.now();
let s, h;
try {
  s = await JanusSession.create(url);
  h = await s.attach("janus.plugin.echotest");
} catch (e) {
  fail(e.message);
}
const tOffer = Date.now();
const ack = await h.message({ audio: true, video: false, data: true }, { type: "offer", sdp: offer, trickle: false }).catch((e) => fail(e.message));
const ev = await h.next((e) => e.jsep).catch((e) => fail(e.message));
const answerMs = Date.now() - tOffer;
const answer = ev.jsep.sdp;
if (ev.jsep.type !== "answer") fail(`jsep of type ${ev.jsep.type}`);
const result = ev.plugindata?.data?.result;
const facts = {
  message_ack: ack.janus,
  offer_setup: offerSetup,
  offer_stripped: strip,
  answer_ms: answerMs,
  answer_jsep_keys: Object.keys(ev.jsep),
  answer_setup: (answer.match(/a=setup:(\w+)/) || [])[1],
  answer_candidates: candidates(answer),
  answer_end_of_candidates: /a=end-of-candidates/.test(answer),
  answer_ice_lite: /a=ice-lite/.test(answer),
  answer_ice_options: (answer.match(/a=ice-options:(.*)/) || [])[1] || null,
  answer_bundle: (answer.match(/a=group:BUNDLE (.*)/) || [])[1] || null,
  answer_rtcp_mux: /a=rtcp-mux/.test(answer),
  answer_mids: [...answer.matchAll(/a=mid:(\S+)/g)].map((m) => m[1]),
  answer_ssrc: [...new Set([...answer.matchAll(/a=ssrc:(\d+)/g)].map((m) => Number(m[1])))],
  answer_audio_direction: (answer.split("m=")[1]?.match(/a=(sendrecv|sendonly|recvonly|inactive)/) || [])[1],
  answer_dc_max_message_size: Number((answer.match(/a=max-message-size:(\d+)/) || [])[1]) || null,
  plugin_result: result,
};
await pc.setRemoteDescription({ type: "answer", sdp: answer });

await new Promise((resolve) => {
  if (dc.readyState === "open") resolve();
  dc.stateChanged.subscribe((st) => { if (st === "open") resolve(); });
});
const tOpen = Date.now();
const webrtcup = await h.next((e) => e.janus === "webrtcup", 5000).then(() => true, () => false);

// binary messages, echoed in order
const { sizes, make, check } = messages(count);
let echoed = 0;
let onText = null;
const done = new Promise((resolve) => {
  dc.onMessage.subscribe((data) => {
    if (typeof data === "string") {
      if (onText) onText(data);
      else fail(`an unexpected text message: ${data.slice(0, 80)}`);
      return;
    }
    if (echoed === count) fail("a binary echo too many");
    check(data, echoed);
    if (++echoed === count) resolve();
  });
});
for (let i = 0; i < count; i++) dc.send(make(i));
await done;
const tEchoed = Date.now();
// one text message: what comes back
const text = "hello janus";
facts.text_sent = text;
facts.text_back = await Promise.race([
  new Promise((resolve) => { onText = resolve; dc.send(text); }),
  sleep(3000).then(() => null),
]);

// JANUS_HOLD_SECONDS=N: the connection idle for N s (to watch Janus's
// keepalives and consent checks)
await sleep(Number(process.env.JANUS_HOLD_SECONDS || 0) * 1000);

// RTP: 50 packets a second for rtpSeconds
const sender = audio.sender;
let rtpOut = 0;
for (let i = 0; i < rtpSeconds * 50; i++) {
  const header = new RtpHeader({ sequenceNumber: (30000 + i) & 0xffff, timestamp: (1000000 + i * 960) >>> 0, payloadType: 111, marker: i === 0 });
  await sender.sendRtp(new RtpPacket(header, payload));
  sentTsSeq.set(header.timestamp, header.sequenceNumber); // sendRtp wrote the values sent
  rtpOut++;
  await sleep(20);
}
await sleep(300);
facts.rtp_sent_ssrc = sender.ssrc;
facts.rtp_echo_ssrc = [...rtpIn.ssrc];
facts.rtp_echo_pt = [...rtpIn.pt];
facts.rtp_echo_same_ssrc = rtpIn.ssrc.size === 1 && rtpIn.ssrc.has(sender.ssrc);
facts.rtp_echo_payload_unchanged = rtpIn.bytesOk;
facts.rtp_echo_timestamp_changed = rtpIn.tsChanged;
facts.rtp_echo_seq_shift = [...rtpIn.seqShift];
facts.rtp_first_sent = [...sentTsSeq].slice(0, 1).map(([ts, seq]) => [seq, ts])[0];
facts.rtp_first_echoed = rtpIn.first;
facts.webrtcup_event = webrtcup;
facts.channels_opened_by_janus = remoteChannels;

// the admin API's view of our handle
if (adminUrl && adminSecret) {
  try {
    const sessions = (await admin(adminUrl, adminSecret, "list_sessions")).sessions;
    const handles = (await admin(adminUrl, adminSecret, "list_handles", `${s.id}`)).handles;
    const info = (await admin(adminUrl, adminSecret, "handle_info", `${s.id}/${h.id}`)).info;
    facts.admin = {
      session_listed: sessions.includes(s.id),
      handles,
      plugin: info.plugin,
      ice_state: info.webrtc?.ice?.state,
      dtls_role: info.webrtc?.dtls?.["dtls-role"],
      info_keys: Object.keys(info),
      info,
    };
  } catch (e) {
    fail(`admin API: ${e.message}`);
  }
}
facts.janus_checks = {
  n: checks.n,
  use_candidate: checks.useCandidate,
  ice_controlled: checks.controlled,
  ice_controlling: checks.controlling,
  from: [...checks.from],
  gaps_ms: checks.times.slice(1).map((t, i) => t - checks.times[i]),
};

await h.detach().catch((e) => fail(`detach: ${e.message}`));
const destroyed = await s.destroy().catch((e) => fail(`destroy: ${e.message}`));
facts.destroy = destroyed.janus;
facts.events = h.log;
facts.long_polls = s.polls;
const bytes = sizes.reduce((a, b) => a + b, 0);
console.log(`werift: janus session ${s.id} handle ${h.id}: answer setup:${facts.answer_setup}, ` +
  `${facts.answer_candidates.length} candidate(s) in the answer, channel open ${tOpen - t0} ms after create, ` +
  `${count} binary messages (${(bytes / 1048576).toFixed(1)} MiB) echoed byte for byte in ${tEchoed - tOpen} ms, ` +
  `RTP ${rtpOut} sent (ssrc ${sender.ssrc}), ${rtpIn.n} echoed (ssrc ${[...rtpIn.ssrc].join(",")}), ` +
  `${checks.n} connectivity checks from Janus, detach + destroy ${destroyed.janus}`);
console.log(`facts: ${JSON.stringify(facts)}`);
await pc.close();
process.exit(0);
