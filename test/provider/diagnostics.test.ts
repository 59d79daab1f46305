/**
 * Errors as the user sees them in terraform's output: what, where (the configuration line),
 * the bad value, what is allowed, and the fix.
 */
import { InProcessProvider, serveInProcess } from '../support/in-process-provider';
import { requiredProviders, Workspace } from '../support/terraform';
import { createTestProvider, TestStore } from '../support/test-provider';

jest.setTimeout(120_000);

describe('diagnostics in terraform output', () => {
  let provider: InProcessProvider;
  let ws: Workspace;

  beforeAll(async () => {
    provider = await serveInProcess(createTestProvider(new TestStore()));
    ws = Workspace.create({ reattach: provider.reattach });
  });

  afterAll(async () => {
    ws.remove();
    await provider.stop();
  });

  /** terraform wraps long lines; assertions read the output with whitespace collapsed. */
  const validate = async () => {
    const result = await ws.run(['validate']);
    return { code: result.code, text: result.stderr.replace(/\s+/g, ' ') };
  };

  test('an attribute validator names the attribute, the bad value, the allowed values and the fix', async () => {
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_item" "bad" {
  name = "web"
  mode = "turbo"
}
`,
    );
    const result = await validate();
    expect(result.code).toBe(1);
    expect(result.text).toContain('Error: Invalid value for mode');
    expect(result.text).toContain('on main.tf line 9, in resource "orbit_test_item" "bad":');
    expect(result.text).toContain('mode = "turbo"');
    expect(result.text).toContain('Attribute: mode');
    expect(result.text).toContain('Value: "turbo"');
    expect(result.text).toContain('Allowed: "safe", "fast"');
    expect(result.text).toContain('Fix: set mode to one of "safe", "fast"');
  });

  test('errors inside nested blocks point at the element', async () => {
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_item" "bad" {
  name = "web"
  rule {
    port = 22
  }
  rule {
    port = 70000
  }
}
`,
    );
    const result = await validate();
    expect(result.code).toBe(1);
    expect(result.text).toContain('Error: rule[1].port is out of range');
    expect(result.text).toContain('port = 70000');
    expect(result.text).toContain('Allowed: a number from 1 to 65535');
  });

  test('a resource-level check reports through OrbitError', async () => {
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_item" "bad" {
  name           = "web"
  secret_version = 2
}
`,
    );
    const result = await validate();
    expect(result.code).toBe(1);
    expect(result.text).toContain('Error: secret_version is set but secret is not');
    expect(result.text).toContain('secret_version = 2');
    expect(result.text).toContain('Fix: set secret as well, or remove secret_version');
  });

  test('provider configuration: a host without a pinned key is named, with the fix', async () => {
    ws.write(
      'main.tf',
      `${requiredProviders}
provider "orbit" {
  hosts {
    name             = "db-1"
    address          = "10.0.0.5"
    private_key_path = "/etc/hostname"
  }
  hosts {
    name             = "db-2"
    address          = "10.0.0.6"
    private_key_path = "/etc/hostname"
    host_key         = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
  }
  hosts {
    name             = "db-3"
    address          = "10.0.0.7"
    private_key_path = "/etc/hostname"
    host_key         = "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
  }
}
resource "orbit_test_item" "ok" {
  name = "web"
}
`,
    );
    const result = await validate();
    expect(result.code).toBe(1);
    expect(result.text).toContain('Error: Host "db-1" has no pinned host key');
    expect(result.text).toContain('Attribute: hosts[0]');
    expect(result.text).toContain("Fix: set host_key to the host's key");
    expect(result.text).toContain('ssh-keyscan -t ed25519 10.0.0.5');
    expect(result.text).not.toContain('db-2');
    expect(result.text).toContain('Error: Invalid host key');
    expect(result.text).toContain('the key data is for "ssh-ed25519", not "ssh-rsa"');
  });

  test('a value out of range for JavaScript numbers is refused, not rounded', async () => {
    ws.write(
      'main.tf',
      `${requiredProviders}
resource "orbit_test_item" "big" {
  name           = "web"
  secret         = "x"
  secret_version = 9007199254740993
}
`,
    );
    const result = await validate();
    expect(result.code).toBe(1);
    expect(result.text).toContain('Error: Invalid value for secret_version');
    expect(result.text).toContain('9007199254740993 is larger than Orbit handles exactly');
  });
});
