// HTTP/1.1 JSON server on Node's `http` module; see bench/http/README.md.
//
//     node node_server.mjs PORT
//
// Every request gets {"message":"Hello, World!"} from JSON.stringify, Content-Type
// application/json and an explicit Content-Length; Node adds Date and keeps connections alive.
import http from 'node:http';

const args = process.argv.slice(2);
const port = Number(args[0]);
if (args.length !== 1 || !Number.isInteger(port)) {
  console.error('usage: node node_server.mjs PORT');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  const body = JSON.stringify({ message: 'Hello, World!' });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
server.on('connection', (socket) => socket.setNoDelay(true));
server.on('error', (e) => {
  console.error(`node_server: ${e.message}`);
  process.exit(1);
});
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => console.log('ready'));
