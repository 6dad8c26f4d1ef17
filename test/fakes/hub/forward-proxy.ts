import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A forward proxy on loopback, as HTTP_PROXY / HTTPS_PROXY name one: plain `http://` requests arrive in absolute
 * form (`GET http://host/path`) and are relayed; `https://` ones arrive as `CONNECT host:443` and are tunnelled.
 * It records every target it relays, so a test can tell which traffic went through it and which did not.
 */
export interface ForwardProxy {
  /** The value for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  /** Every relayed target: the absolute URL of a plain request, `host:port` of a CONNECT. */
  relayed: string[];
  close(): Promise<void>;
}

export async function startForwardProxy(): Promise<ForwardProxy> {
  const relayed: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const target = req.url ?? '';
    if (!/^https?:\/\//.test(target)) {
      res.statusCode = 400;
      res.end('not a proxy request');
      return;
    }
    relayed.push(target);
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req, client: Socket, head) => {
    const target = req.url ?? '';
    relayed.push(target);
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host ?? '', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    relayed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
