// The floor under bench/service.ts's latency figures: a bare node:http server that answers every
// request with the same bytes the service sent for the benchmarked policy (no routing, no
// validation, no store, no cache lookup), loaded by the same autocannon over the same connections.
// What it measures is what Node's HTTP stack and the co-located load generator cost on this machine.
//
//   node bench/floor-server.ts <body file> <content type>     prints {"url": ...} once listening
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [bodyFile, contentType] = process.argv.slice(2);
if (!bodyFile || !contentType) {
  process.stderr.write('usage: node bench/floor-server.ts <body file> <content type>\n');
  process.exit(2);
}
const body = readFileSync(bodyFile);
const headers = { 'content-type': contentType, 'content-length': String(body.length) };
const server = http.createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}/` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
