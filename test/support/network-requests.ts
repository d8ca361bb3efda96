import diagnostics_channel from 'node:diagnostics_channel';

/**
 * Every request this process sends over the network from now until `stop`, as "METHOD /path" (undici's channel:
 * fetch's requests as they are written to a socket). A request that goes into a server without a socket
 * (platform's injectTransport) is not among them.
 */
export function networkRequests(): { seen: string[]; stop: () => void } {
  const seen: string[] = [];
  const sent = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string } };
    seen.push(`${request.method} ${request.path.split('?')[0]}`);
  };
  diagnostics_channel.subscribe('undici:client:sendHeaders', sent);
  return { seen, stop: () => diagnostics_channel.unsubscribe('undici:client:sendHeaders', sent) };
}
