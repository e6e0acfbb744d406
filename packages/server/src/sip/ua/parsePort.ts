/** Parses a decimal port 1..65535, or returns undefined. */
export function parsePortSafe(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}
