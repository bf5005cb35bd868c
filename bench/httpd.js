// httpd.c's counterpart for PM2's cluster mode, which runs Node programs only (PM2's God daemon
// is the cluster primary: it accepts and hands connections to the workers).
//   node httpd.js        one server on 127.0.0.1:$PORT (under PM2 cluster mode: one worker)
//   node httpd.js N      Node's own cluster module, N workers, no manager: the reference for PM2
// Every request gets a 2-byte 200 with Content-Length on a keep-alive connection, as httpd.c.
//
// SIGINT (what PM2 sends on reload and stop) and SIGTERM: the same graceful drain as httpd.c, so
// the app is not what differs: stop listening, answer whatever still arrives on an open
// connection with `Connection: close`, close idle keep-alive connections after 1 s, exit once
// none is left (at the latest after 3 s).
'use strict';
const cluster = require('cluster');
const http = require('http');
const net = require('net');

const workers = Number(process.argv[2] || 0);
if (workers > 0 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    cluster.on('exit', () => { if (Object.keys(cluster.workers).length === 0) process.exit(0); });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  let draining = false;
  const server = http.createServer((req, res) => {
    const headers = { 'Content-Type': 'text/plain', 'Content-Length': 2 };
    if (draining) headers.Connection = 'close';
    res.writeHead(200, headers);
    res.end('ok');
  });
  server.listen(Number(process.env.PORT), '127.0.0.1');
  const drain = () => {
    if (draining) return;
    draining = true;
    // net.Server's close, not http.Server's: since Node 19 the latter also closes every idle
    // keep-alive connection at once, racing a request the client may be sending on it (a failed
    // request that would be the app's fault, not the manager's). Idle ones go after 1 s, as in httpd.c.
    // HTTPD_CLOSE=http: the handler PM2's graceful-shutdown docs show, server.close(), to measure
    // what that race costs during a reload.
    if (process.env.HTTPD_CLOSE === 'http') server.close(() => process.exit(0));
    else net.Server.prototype.close.call(server, () => process.exit(0));
    setTimeout(() => server.closeIdleConnections(), 1000).unref();
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', drain);
  process.on('SIGTERM', drain);
}
