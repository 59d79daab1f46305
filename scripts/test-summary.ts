/**
 * The end of `npm test`'s output: every failed test with the first lines of its failure, then
 * "orbit: N passed, N failed". CI keeps only part of a long log, and the tail is the part it
 * keeps: a red run must name its failure there. Reads jest's --json results from a directory.
 * Usage: test-summary.ts <results dir> <exit status of the run so far>
 */
import * as fs from 'fs';
import * as path from 'path';

/** Lines of a failure message shown per failed test (the message and the top of its stack). */
const FAILURE_LINES = 12;

interface JestResults {
  numPassedTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  testResults: Array<{
    name: string;
    message: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

const [dir, runStatus] = process.argv.slice(2);
const repo = path.resolve(__dirname, '..');
let passed = 0;
let failed = 0;
const failures: string[] = [];
for (const file of fs.readdirSync(dir).sort()) {
  const results = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as JestResults;
  passed += results.numPassedTests;
  failed += results.numFailedTests + results.numRuntimeErrorTestSuites;
  for (const suite of results.testResults) {
    const where = path.relative(repo, suite.name);
    const failedTests = suite.assertionResults.filter((t) => t.status === 'failed');
    for (const t of failedTests) failures.push(`✕ ${where} › ${t.fullName}\n${excerpt(t.failureMessages.join('\n'))}`);
    // A suite that failed outside its tests (it did not compile, beforeAll threw).
    if (failedTests.length === 0 && suite.message.trim()) failures.push(`✕ ${where}\n${excerpt(suite.message)}`);
  }
}

function excerpt(message: string): string {
  const lines = message
    // eslint-disable-next-line no-control-regex -- terminal colour codes
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => l.trim());
  const shown = lines.slice(0, FAILURE_LINES).map((l) => `    ${l}`);
  if (lines.length > FAILURE_LINES) shown.push(`    ... (${lines.length - FAILURE_LINES} more lines in the jest output above)`);
  return shown.join('\n');
}

if (failures.length > 0) console.log(`== failed\n${failures.join('\n')}`);
if (runStatus !== '0' && failed === 0) failed = 1;
console.log(`orbit: ${passed} passed, ${failed} failed`);
