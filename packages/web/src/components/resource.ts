import { useCallback, useEffect, useRef, useState } from 'react';
import { useLiveUpdates, type LiveUpdate } from './live.ts';

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (keeps showing the old data meanwhile). */
  reload: () => void;
}

/**
 * Data a page shows: loaded when the page opens and whenever `deps` change; with `live`, loaded again when
 * the server says something the page shows changed (an update for which `live` answers true).
 */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], live?: (u: LiveUpdate) => boolean): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    loadRef.current(ctl.signal).then(
      (d) => {
        if (ctl.signal.aborted) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setError(err);
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useLiveUpdates(
    useCallback(
      (u: LiveUpdate) => {
        if (live?.(u)) reload();
      },
      [live, reload],
    ),
  );
  return { data, error, loading, reload };
}
