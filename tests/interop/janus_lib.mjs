// SPDX-License-Identifier: MIT
// A client of Janus's HTTP API (janus_echotest.mjs and the benchmark
// bench/target/janus_werift.mjs use it): requests and their answers, one
// long poll per session that queues the session's events by handle, the
// admin API.
//   const s = await JanusSession.create(url);
//   const h = await s.attach("janus.plugin.echotest");
//   await h.message({ audio: true }, { type: "offer", sdp, trickle: false });
//   const ev = await h.next((e) => e.jsep);  // the event with the answer
//   await h.detach(); await s.destroy();

let txn = 0;
const tx = () => `sg${process.pid}-${++txn}`;

// POST BODY (a transaction added) to URL and return the parsed answer;
// throws on an HTTP error, a Janus error or an answer of another
// transaction.
export async function post(url, body) {
  const t = tx();
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...body, transaction: t }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} ${body.janus}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const j = JSON.parse(text);
  if (j.janus === "error") throw new Error(`POST ${url} ${body.janus}: Janus error ${j.error.code} ${j.error.reason}`);
  if (j.transaction !== t) throw new Error(`POST ${url} ${body.janus}: answer of transaction ${j.transaction}, want ${t}`);
  return j;
}

export class JanusHandle {
  constructor(session, id) {
    this.session = session;
    this.id = id;
    this.url = `${session.url}/${id}`;
    this.events = []; // events not taken yet
    this.waiters = []; // [pred, resolve]
    this.log = []; // every event's janus kind, in order (e.g. "event", "webrtcup", "media")
  }

  // Sends a plugin message (BODY, optional JSEP); resolves with Janus's
  // immediate answer ("ack" when the plugin answers with an event).
  message(body, jsep) {
    return post(this.url, jsep ? { janus: "message", body, jsep } : { janus: "message", body });
  }

  // Resolves with the first event (taken or still to come) for which PRED
  // holds; rejects after MS.
  next(pred, ms = 10000) {
    const i = this.events.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = [pred, resolve];
      this.waiters.push(w);
      setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) {
          this.waiters.splice(k, 1);
          reject(new Error(`handle ${this.id}: no such event within ${ms} ms (events so far: ${this.log.join(",")})`));
        }
      }, ms).unref();
    });
  }

  deliver(ev) {
    this.log.push(ev.janus);
    const i = this.waiters.findIndex(([pred]) => pred(ev));
    if (i >= 0) this.waiters.splice(i, 1)[0][1](ev);
    else this.events.push(ev);
  }

  detach() {
    this.session.handles.delete(this.id);
    return post(this.url, { janus: "detach" });
  }
}

export class JanusSession {
  constructor(base, id) {
    this.base = base;
    this.id = id;
    this.url = `${base}/${id}`;
    this.handles = new Map();
    this.polling = true;
    this.polls = 0; // long polls answered
    this.keepalives = 0; // long polls answered with {"janus":"keepalive"}
    this.other = []; // events for no handle of ours
    this.pollError = null;
    this.abort = new AbortController(); // ends the long poll in flight
    this.poller = this.poll();
  }

  static async create(base) {
    const j = await post(base, { janus: "create" });
    return new JanusSession(base, j.data.id);
  }

  async attach(plugin) {
    const j = await post(this.url, { janus: "attach", plugin });
    const h = new JanusHandle(this, j.data.id);
    this.handles.set(h.id, h);
    return h;
  }

  // The long poll: GET the session (up to 10 events per answer) until
  // destroy() (which aborts the GET in flight); Janus answers within 30 s,
  // with a keepalive when it has nothing; a failed GET ends the polling
  // (pollError).
  async poll() {
    while (this.polling) {
      let evs;
      try {
        const res = await fetch(`${this.url}?maxev=10&rid=${Date.now()}`, { signal: this.abort.signal });
        if (!this.polling) return;
        if (!res.ok) throw new Error(`GET ${this.url}: HTTP ${res.status}`);
        evs = await res.json();
      } catch (e) {
        if (!this.polling) return;
        this.pollError = e;
        return;
      }
      this.polls++;
      for (const ev of Array.isArray(evs) ? evs : [evs]) {
        if (ev.janus === "keepalive") { this.keepalives++; continue; }
        const h = this.handles.get(ev.sender);
        if (h) h.deliver(ev);
        else this.other.push(ev);
      }
    }
  }

  keepalive() {
    return post(this.url, { janus: "keepalive" });
  }

  async destroy() {
    const j = await post(this.url, { janus: "destroy" });
    this.polling = false;
    this.abort.abort();
    return j;
  }
}

// The admin API: admin(ADMIN_URL, SECRET, request, path) POSTs
// {janus: request, admin_secret} to ADMIN_URL/path.
export function admin(adminUrl, secret, request, path = "") {
  return post(path ? `${adminUrl}/${path}` : adminUrl, { janus: request, admin_secret: secret });
}

// The a=candidate lines of SDP.
export const candidates = (sdp) => sdp.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:"));
