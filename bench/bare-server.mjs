// The physical limit: a bare node:http server answering constant JSON bodies.
// Forked by bench/http.mjs (own process, so it does not share the load generator's
// event loop). It receives the bodies over IPC, so each one has exactly the size of
// the service's real response, and reports the port it listens on.
import { createServer } from 'node:http';

process.once('message', ({ bodies }) => {
  // path -> pre-encoded body, so each request costs only the write.
  const routes = new Map(Object.entries(bodies).map(([path, body]) => [path, Buffer.from(body)]));

  const server = createServer((request, response) => {
    const body = routes.get(request.url);
    if (!body) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    response.end(body);
  });

  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  // Exit with the parent: when it closes the IPC channel, or on SIGTERM.
  process.once('disconnect', () => process.exit(0));
  process.once('SIGTERM', () => process.exit(0));
});
