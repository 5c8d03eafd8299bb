/** One benchmark figure, optionally with a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineName?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function formatResult(result: BenchResult): string {
  const value = `${round(result.value)} ${result.unit}`;
  if (result.baseline === undefined) return `${result.name}: ${value}`;
  const ratio = result.baseline === 0 ? 'n/a' : `${round(result.value / result.baseline)}x`;
  return `${result.name}: ${value} vs ${round(result.baseline)} ${result.unit} (${result.baselineName ?? 'baseline'}) = ${ratio}`;
}

function round(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}
