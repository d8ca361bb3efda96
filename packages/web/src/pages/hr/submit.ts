import { useRef, useState } from 'react';
import { newIdempotencyKey, Problem } from '../../api/client.ts';

/**
 * One submit of a form: its Idempotency-Key is kept while the person retries the same request (after a
 * network error the server may have done it: the retry is then answered as the same request), and a new
 * one is taken when what they send changes or once it succeeded.
 */
export function useSubmit<T>() {
  const key = useRef<{ fingerprint: string; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (body: unknown, send: (idempotencyKey: string) => Promise<T>): Promise<T | undefined> => {
    const fingerprint = JSON.stringify(body);
    if (key.current?.fingerprint !== fingerprint) key.current = { fingerprint, key: newIdempotencyKey() };
    setBusy(true);
    setError(undefined);
    try {
      const result = await send(key.current.key);
      key.current = null;
      return result;
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, setError };
}

/** The server's message for a field (`body.start`), or for the whole request when its problem type concerns that field. */
export function fieldError(error: unknown, path: string, types: readonly string[] = []): string | undefined {
  if (!(error instanceof Problem)) return undefined;
  return error.field(path) ?? (types.includes(error.type) ? error.detail : undefined);
}

/** The error to show at the form rather than by a field: anything not already shown by one. */
export function formError(error: unknown, shownByField: boolean): unknown {
  return shownByField ? undefined : error;
}
