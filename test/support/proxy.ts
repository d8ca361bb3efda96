import net from 'node:net';

/**
 * A TCP proxy in front of a service, so a test can take the service "down" (nothing listens), or
 * lose its answers (the request arrives and is acted on, the reply never reaches the caller).
 */
export interface Proxy {
  url: string;
  port: number;
  /** Connections refused: the service looks down. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** The next n requests reach the service, but the caller's connection is cut as the answer starts. */
  loseAnswers(n: number): void;
  /** Connections that reached the service while answers were being lost. */
  lostAnswers(): number;
  stop(): Promise<void>;
}

export async function startProxy(targetPort: () => number, port: number): Promise<Proxy> {
  let toLose = 0;
  let lost = 0;
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(targetPort(), '127.0.0.1');
        sockets.add(client).add(upstream);
        client.on('data', (d) => upstream.write(d));
        upstream.on('data', (d) => {
          // Decided per answer, not per connection: callers reuse keep-alive connections.
          if (toLose > 0) {
            toLose--;
            lost++;
            client.destroy();
            upstream.destroy();
            return;
          }
          client.write(d);
        });
        const close = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('close', close).on('error', close);
        upstream.on('close', close).on('error', close);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    down: close,
    up: async () => {
      if (!server) await listen();
    },
    loseAnswers: (n) => {
      toLose = n;
    },
    lostAnswers: () => lost,
    stop: close,
  };
}
