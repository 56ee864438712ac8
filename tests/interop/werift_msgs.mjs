// SPDX-License-Identifier: MIT
// What the werift scripts (werift_offerer.mjs, werift_whip.mjs) share: how
// they wait and fail, and the messages they send and check echoed: COUNT
// of mixed sizes (mostly < 4 KiB, every 100th ~64 KiB), message i starting
// with i (32 bits, big-endian) and filled with a pattern of i.
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const fail = (why) => { console.error(`werift: ${why}`); process.exit(1); };

// The script fails with "timed out" after ms.
export const failAfter = (ms) => setTimeout(() => fail("timed out"), ms).unref();

// The COUNT messages: their sizes, make(i) builds message i, check(data, i)
// fails the script unless data is message i byte for byte.
export function messages(count) {
  const sizes = [];
  let seed = 12345;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    sizes.push(4 + (seed % 4000) + (i % 100 === 0 ? 60000 : 0));
  }
  const make = (i) => {
    const b = Buffer.alloc(sizes[i]);
    b.writeUInt32BE(i, 0);
    for (let k = 4; k < b.length; k++) b[k] = (i * 31 + k) & 0xff;
    return b;
  };
  const check = (data, i) => {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!b.equals(make(i))) fail(`echo ${i} differs (${b.length} bytes, want ${sizes[i]})`);
  };
  return { sizes, make, check };
}
