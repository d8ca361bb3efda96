import { describe, expect, it } from 'vitest';
import { natsServersAndAuth } from './credentials.ts';

describe('NATS URLs with credentials', () => {
  it('when a URL carries a user and password, then they become connection options and leave the URL', () => {
    expect(natsServersAndAuth('nats://ems:s3cr%40t%3Ax@nats:4222')).toEqual({ servers: ['nats://nats:4222'], user: 'ems', pass: 's3cr@t:x' });
  });
  it('when a URL carries a token, then it becomes the token option', () => {
    expect(natsServersAndAuth(['tls://t0ken@a:4222', 'tls://t0ken@b:4222'])).toEqual({ servers: ['tls://a:4222', 'tls://b:4222'], token: 't0ken' });
  });
  it('when a URL carries none, then it is left as it is', () => {
    expect(natsServersAndAuth(['nats://127.0.0.1:4222'])).toEqual({ servers: ['nats://127.0.0.1:4222'] });
  });
  it("when a cluster's URLs disagree, then it is refused", () => {
    expect(() => natsServersAndAuth(['nats://a:1@x:4222', 'nats://a:2@y:4222'])).toThrow(/different credentials/);
  });
});
