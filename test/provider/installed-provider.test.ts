/**
 * The installed provider, as users get it: `npm run provider:install` (into a temporary
 * directory), terraform init through the filesystem mirror, schema, validate, the offline
 * lock flow cdktf uses, and the process itself: handshake, AutoMTLS, Shutdown.
 */
import { X509Certificate } from 'crypto';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeMsgpack } from '../../provider/protocol/msgpack-codec';
import { blockValueType } from '../../provider/protocol/schema';
import { orbitProviderSchema } from '../../provider/provider';
import { call, clientCertificate, connect, startPlugin } from '../support/plugin-client';
import { runCdktf } from '../support/cdktf';
import { requiredProviders, Workspace } from '../support/terraform';

jest.setTimeout(300_000);

const REPO = path.resolve(__dirname, '../..');

function install(dir: string): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', path.join(REPO, 'scripts/provider-install.ts'), '--dir', dir], {
    cwd: REPO,
    encoding: 'utf8',
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

function exportsFrom(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.match(/^export ([A-Z_a-z]+)=(.*)$/)!)
      .map((m) => [m[1], m[2].replace(/^'(.*)'$/, '$1')]),
  );
}

describe('installed provider', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-install-'));
  let env: Record<string, string>;
  let launcher: string;
  const cacheEnv = { XDG_CACHE_HOME: path.join(dir, 'cache') };
  const workspaces: Workspace[] = [];
  const workspace = () => {
    const ws = Workspace.create({ env });
    workspaces.push(ws);
    ws.write('main.tf', `${requiredProviders}\nprovider "orbit" {}\n`);
    return ws;
  };

  beforeAll(() => {
    const result = install(dir);
    if (result.status !== 0) throw new Error(`provider:install failed:\n${result.stderr}`);
    env = exportsFrom(result.stdout);
    launcher = path.join(dir, 'mirror/registry.terraform.io/orbit/orbit/0.1.0/linux_amd64/terraform-provider-orbit_v0.1.0');
  });

  afterAll(() => {
    for (const ws of workspaces) ws.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('provider:install prints only export lines on stdout', () => {
    expect(Object.keys(env)).toEqual(['TF_CLI_CONFIG_FILE', 'TF_CLI_ARGS_providers_lock']);
    expect(env.TF_CLI_CONFIG_FILE).toBe(path.join(dir, 'orbit.tfrc'));
    expect(fs.readFileSync(env.TF_CLI_CONFIG_FILE, 'utf8')).toContain('filesystem_mirror');
    expect(fs.statSync(launcher).mode & 0o111).not.toBe(0);
    expect(fs.readdirSync(path.dirname(launcher))).toEqual(['terraform-provider-orbit_v0.1.0']);
  });

  test('terraform init installs from the mirror, offline, and writes a lock file', async () => {
    const ws = workspace();
    const init = await ws.run(['init']);
    expect(init.output).toContain('Installed orbit/orbit v0.1.0 (unauthenticated)');
    expect(init.code).toBe(0);
    expect(fs.readFileSync(path.join(ws.dir, '.terraform.lock.hcl'), 'utf8')).toMatch(/h1:[A-Za-z0-9+/=]+/);
  });

  test('providers schema -json shows the provider configuration schema', async () => {
    const ws = workspace();
    expect((await ws.run(['init'])).code).toBe(0);
    const result = await ws.run(['providers', 'schema', '-json']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout).provider_schemas['registry.terraform.io/orbit/orbit'].provider.block;
    expect(Object.keys(schema.block_types).sort()).toEqual(['etcd', 'hosts', 'monitor']);
    const host = schema.block_types.hosts.block.attributes;
    expect(host.private_key).toMatchObject({ sensitive: true, write_only: true, optional: true });
    expect(host.name).toMatchObject({ required: true });
    expect(host.port).toMatchObject({ optional: true });
    expect(host.port.computed).toBeUndefined();
    const monitor = schema.block_types.monitor;
    expect(monitor.nesting_mode).toBe('single');
    expect(monitor.block.attributes.signing_key_path).toMatchObject({ required: true });
    expect(monitor.block.attributes.service_manager).toMatchObject({ optional: true });
  });

  test('validate and plan run the provider and shut it down cleanly', async () => {
    const ws = workspace();
    expect((await ws.run(['init'])).code).toBe(0);
    const validate = await ws.run(['validate']);
    expect(validate.output).toContain('Success! The configuration is valid.');
    const plan = await ws.run(['plan'], { env: { TF_LOG: 'debug' } });
    expect(plan.code).toBe(0);
    expect(plan.stderr).toContain('using plugin: version=6');
    expect(plan.stderr).toContain('plugin exited');
    expect(plan.stderr).not.toContain('plugin failed to exit gracefully');
    // hclog JSON lines keep their level and message in terraform's log
    expect(plan.stderr).toMatch(/\[DEBUG\] provider\.terraform-provider-orbit_v0\.1\.0: RPC done: .*rpc=GetProviderSchema/);
  });

  test('terraform providers lock (what cdktf runs on a first deploy) reads the mirror offline', async () => {
    const ws = workspace();
    const lock = await ws.run(['providers', 'lock', '-platform=linux_amd64']);
    expect(lock.output).toContain('Terraform has updated the lock file');
    expect(lock.code).toBe(0);
    const init = await ws.run(['init']);
    expect(init.code).toBe(0);
    expect((await ws.run(['plan'])).code).toBe(0);
  });

  test('re-installing is idempotent and keeps existing lock files valid, also across rebuilds', async () => {
    const ws = workspace();
    expect((await ws.run(['init'])).code).toBe(0);
    const launcherBefore = fs.readFileSync(launcher);
    const again = install(dir);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('unchanged');
    expect(fs.readFileSync(launcher)).toEqual(launcherBefore);
    // a rebuild changes the code behind the launcher, never the package directory terraform hashes
    const mainJs = path.join(dir, 'provider/current/provider/main.js');
    fs.appendFileSync(mainJs, '\n// rebuilt\n');
    const plan = await ws.run(['plan']);
    expect(plan.output).not.toContain('checksums');
    expect(plan.code).toBe(0);
    expect((await ws.run(['init'])).code).toBe(0);
  });

  test('cdktf deploy works offline on its first run and again after a rebuild', async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'orbit-cdktf-'));
    try {
      fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(app, 'node_modules'));
      fs.writeFileSync(path.join(app, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: 'node main.js', terraformProviders: [], sendCrashReports: 'false' }));
      // a stack that uses the provider without generated bindings (those are another task's)
      fs.writeFileSync(
        path.join(app, 'main.js'),
        `const { App, TerraformStack, TerraformProvider, TerraformOutput } = require('cdktf');
class Orbit extends TerraformProvider {
  constructor(scope, id) {
    super(scope, id, { terraformResourceType: 'orbit', terraformProviderSource: 'orbit/orbit', terraformGeneratorMetadata: { providerName: 'orbit', providerVersionConstraint: '0.1.0' } });
  }
  synthesizeAttributes() { return {}; }
}
class Demo extends TerraformStack {
  constructor(scope, id) { super(scope, id); new Orbit(this, 'orbit'); new TerraformOutput(this, 'ok', { value: 'yes' }); }
}
const app = new App(); new Demo(app, 'demo'); app.synth();
`,
      );
      const deploy = () => runCdktf(app, ['deploy', '--auto-approve'], { ...env, ...cacheEnv, TF_PLUGIN_CACHE_DIR: path.join(app, '.plugin-cache') });
      const first = await deploy();
      expect(first.output).not.toContain('Could not retrieve providers for locking');
      expect(first.code).toBe(0);
      expect(fs.existsSync(path.join(app, 'cdktf.out/stacks/demo/.terraform.lock.hcl'))).toBe(true);
      fs.appendFileSync(path.join(dir, 'provider/current/provider/main.js'), '\n// rebuilt again\n');
      const second = await deploy();
      expect(second.output).not.toContain('checksums');
      expect(second.code).toBe(0);
    } finally {
      fs.rmSync(app, { recursive: true, force: true });
    }
  });

  describe('the provider process', () => {
    test('refuses to run by hand, and says how to use it', async () => {
      const child = spawn(launcher, [], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...cacheEnv, TF_PLUGIN_MAGIC_COOKIE: '' } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain('Terraform starts it; it is not run by hand');
      expect(stderr).toContain('npm run provider:install');
    });

    test('AutoMTLS handshake, schema over mutual TLS, Shutdown exits and removes the socket', async () => {
      const client = await clientCertificate();
      const plugin = await startPlugin(launcher, [], { clientCertPem: client.certPem, env: cacheEnv });
      const { handshake } = plugin;
      expect([handshake.core, handshake.app, handshake.network, handshake.protocol]).toEqual(['1', '6', 'unix', 'grpc']);
      expect(handshake.certificate).not.toContain('=');
      const der = Buffer.from(handshake.certificate, 'base64');
      expect(new X509Certificate(der).subjectAltName).toBe('DNS:localhost');
      expect(fs.existsSync(handshake.address)).toBe(true);

      const clients = connect(handshake, client);
      const schema = await call(clients.provider, 'GetProviderSchema');
      expect(schema.server_capabilities.plan_destroy).toBe(true);
      expect(schema.provider.block.block_types.map((b: { type_name: string }) => b.type_name)).toEqual(['hosts', 'etcd', 'monitor']);

      // provider configuration errors name the host, the attribute and the fix
      const config = encodeMsgpack(blockValueType(orbitProviderSchema.block), {
        hosts: [{ name: 'db-1', address: '10.0.0.5', private_key_path: '/nonexistent' }],
      });
      const validated = await call(clients.provider, 'ValidateProviderConfig', { config: { msgpack: Buffer.from(config) } });
      expect(validated.diagnostics).toHaveLength(1);
      expect(validated.diagnostics[0].summary).toBe('Host "db-1" has no pinned host key');
      expect(validated.diagnostics[0].detail).toContain('Fix: set host_key');
      expect(validated.diagnostics[0].attribute.steps).toEqual([
        { attribute_name: 'hosts', selector: 'attribute_name' },
        { element_key_int: 0, selector: 'element_key_int' },
      ]);

      await call(clients.controller, 'Shutdown');
      expect(await plugin.exited).toBe(0);
      clients.close();
      expect(fs.existsSync(path.dirname(handshake.address))).toBe(false);
    });

    test("mutual TLS is enforced: a client without terraform's certificate is refused", async () => {
      const client = await clientCertificate();
      const stranger = await clientCertificate();
      const plugin = await startPlugin(launcher, [], { clientCertPem: client.certPem, env: cacheEnv });
      const clients = connect(plugin.handshake, stranger);
      await expect(call(clients.provider, 'GetProviderSchema', {}, 3000)).rejects.toThrow();
      clients.close();
      plugin.child.kill('SIGTERM');
      expect(await plugin.exited).toBe(0);
      expect(fs.existsSync(path.dirname(plugin.handshake.address))).toBe(false);
    });
  });
});
