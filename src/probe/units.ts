/**
 * One unit for every memory figure the probe shows: GiB (2^30 bytes), one decimal. The catalog's download sizes
 * are in GB (10^9 bytes, as the Hub shows them); they are converted here, never shown in GB.
 */

export const BYTES_PER_GIB = 1024 ** 3;
export const BYTES_PER_MIB = 1024 ** 2;

export function bytesToGiB(bytes: number): number {
  return bytes / BYTES_PER_GIB;
}

export function gbToBytes(gb: number): number {
  return gb * 1e9;
}

/** `21.9 GiB`; rounds down so "free" figures never promise more than there is. */
export function formatGiB(gib: number): string {
  const floored = Math.floor(gib * 10) / 10;
  return `${floored.toFixed(1)} GiB`;
}

/** Like formatGiB but rounds up: for requirements ("needs 4.7 GiB"), never understate a need. */
export function formatNeedGiB(gib: number): string {
  const ceiled = Math.ceil(gib * 10 - 1e-9) / 10;
  return `${ceiled.toFixed(1)} GiB`;
}

/** Rounds a GiB figure to 2 decimals for the JSON report (stable, readable). */
export function roundGiB(gib: number): number {
  return Math.round(gib * 100) / 100;
}

/** `5 s`, `0.4 s`: timeouts as people read them. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${seconds >= 1 ? Math.round(seconds * 10) / 10 : Math.round(seconds * 100) / 100} s`;
}
