// TCP echo server on Node's `net` module, or with --tls on its `tls` module; see
// bench/echo/README.md.
//
//     node node_server.mjs PORT [--tls CERT KEY]
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const args = process.argv.slice(2);
const port = Number(args[0]);
const tlsMode = args.length === 4 && args[1] === '--tls';
if ((args.length !== 1 && !tlsMode) || !Number.isInteger(port)) {
  console.error('usage: node node_server.mjs PORT [--tls CERT KEY]');
  process.exit(2);
}

const onConnection = (socket) => {
  socket.setNoDelay(true);
  socket.on('data', (d) => socket.write(d));
  socket.on('error', () => {}); // a reset by the client just ends the connection
};
const server = tlsMode
  ? tls.createServer({ cert: fs.readFileSync(args[2]), key: fs.readFileSync(args[3]) }, onConnection)
  : net.createServer(onConnection);
server.on('error', (e) => {
  console.error(`node_server: ${e.message}`);
  process.exit(1);
});
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => console.log('ready'));
