// What stands in front of several nodes in production: a proxy that receives
// requests addressed to the issuer and hands them to one node, keeping the
// Host the client used. Tests reach a given node through its own gateway.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Gateway {
  url: string;
  close(): Promise<void>;
}

export async function startGateway(target: string, issuer: string): Promise<Gateway> {
  const to = new URL(target);
  const host = new URL(issuer).host;
  const server: Server = createServer((req, res) => {
    const upstream = request({ hostname: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
