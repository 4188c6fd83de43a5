// TCP echo server on Node's `net` module; see bench/echo/README.md.
//
//     node node_server.mjs PORT
import net from 'node:net';

const port = Number(process.argv[2]);
if (process.argv.length !== 3 || !Number.isInteger(port)) {
  console.error('usage: node node_server.mjs PORT');
  process.exit(2);
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (d) => socket.write(d));
  socket.on('error', () => {}); // a reset by the client just ends the connection
});
server.on('error', (e) => {
  console.error(`node_server: ${e.message}`);
  process.exit(1);
});
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => console.log('ready'));
