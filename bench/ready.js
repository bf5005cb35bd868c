// The readiness child for PM2's wait_ready, which only a Node process can signal
// (process.send('ready') over PM2's IPC channel): the counterpart of `child notify DELAY_MS`.
// It appends "pid ns" at start and "ready pid ns" when it signals, on CLOCK_MONOTONIC
// (process.hrtime), like child.c, then stays up until killed.
"use strict";
const fs = require("fs");
const delay = Number(process.argv[2] || 500);
const mark = (what) => {
  if (process.env.BENCH_MARK) fs.appendFileSync(process.env.BENCH_MARK, `${what}${process.pid} ${process.hrtime.bigint()}\n`);
};
mark("");
setTimeout(() => {
  process.send("ready");
  mark("ready ");
}, delay);
setInterval(() => {}, 1 << 30);
