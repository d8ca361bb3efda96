/** Nearest-rank percentile (p in 0..100) of unsorted values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function distribution(values: readonly number[]): Distribution {
  const q = (p: number) => {
    const v = percentile(values, p);
    return v === undefined ? null : Math.round(v);
  };
  return { count: values.length, p50: q(50), p95: q(95), p99: q(99), max: q(100) };
}
