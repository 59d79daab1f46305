/**
 * Keeps `asSshSession` honest: compiles the COLO primitives with every `SshSession` parameter
 * replaced by PrimitiveSession (in memory; the source files are not touched). If a primitive starts
 * using another member of SshSession (say `session.username`), this fails, and PrimitiveSession
 * and LocalSession must grow that member before the agent may pass a LocalSession.
 */
import * as path from 'path';
import * as ts from 'typescript';

jest.setTimeout(60_000);

const PRIMITIVES = ['colo/colo-failover', 'colo/colo-reprotect', 'colo/colo-pair', 'colo/colo-pair-record', 'colo/colo-host', 'qemu/qemu-process', 'qemu/qmp-over-ssh'];
// Both folders sit next to provider/ssh and provider/monitor: one import line fits them all.
const IMPORT = "import { SshSession } from '../ssh/ssh-session';";
const NARROW = "import { PrimitiveSession as SshSession } from '../monitor/local-session';";

function compileNarrowed(narrowedImport: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.resolve(__dirname, '../../tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const host = ts.createCompilerHost({ ...config.options, noEmit: true });
  const rewritten = new Set(PRIMITIVES.map((p) => path.resolve(__dirname, '..', `${p}.ts`)));
  const readFile = host.readFile.bind(host);
  let replaced = 0;
  host.readFile = (file) => {
    const text = readFile(file);
    if (text === undefined || !rewritten.has(path.resolve(file))) return text;
    if (text.includes(IMPORT)) replaced++;
    return text.replace(IMPORT, narrowedImport);
  };
  const program = ts.createProgram([...rewritten], { ...config.options, noEmit: true }, host);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (replaced < PRIMITIVES.length - 1) diagnostics.push(`only ${replaced} files had the SshSession import to replace`);
  return diagnostics;
}

describe('PrimitiveSession covers what the COLO primitives use of SshSession', () => {
  it('the primitives compile with SshSession narrowed to PrimitiveSession', () => {
    expect(compileNarrowed(NARROW)).toEqual([]);
  });

  it('the check has teeth: a narrower type (without readFile) does not compile', () => {
    const tooNarrow = "type SshSession = Omit<import('../monitor/local-session').PrimitiveSession, 'readFile'>;";
    expect(compileNarrowed(tooNarrow).join('\n')).toContain("Property 'readFile' does not exist");
  });
});
