import * as fs from 'fs';
import * as os from 'os';
import { BenchResult } from './bench-result';

/**
 * `npm run bench [-- name...]`: runs the benchmark modules (bench/<name>.bench.ts, each
 * exporting `run()`), prints one table with the machine it ran on, and writes
 * bench/results/latest.json.
 */

const ALL = ['lab', 'provider', 'migration', 'restart', 'image', 'real-os-boot', 'colo', 'failover'];

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL;
  const unknown = names.filter((n) => !ALL.includes(n));
  if (unknown.length > 0) throw new Error(`Unknown benchmark ${unknown.join(', ')}; available: ${ALL.join(', ')}.`);
  const results: Array<BenchResult & { bench: string }> = [];
  for (const name of names) {
    console.error(`running ${name} ...`);
    const mod = (await import(`./${name}.bench`)) as { run: () => Promise<BenchResult[]> };
    for (const r of await mod.run()) results.push({ bench: name, ...r });
  }
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`\nMachine: ${machine()}`);
  for (const r of results) console.log(`${r.bench.padEnd(9)} ${r.name.padEnd(width)}  ${String(Math.round(r.value * 10) / 10).padStart(9)} ${r.unit.padEnd(4)} ${r.note ?? ''}`);
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/latest.json', JSON.stringify({ machine: machine(), at: new Date().toISOString(), results }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
