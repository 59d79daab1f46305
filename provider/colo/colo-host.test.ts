import { ramCopyModeFor } from './colo-host';

describe('ramCopyModeFor', () => {
  test('the lab build (patch 0005) copies RAM while the guest runs', () => {
    expect(ramCopyModeFor('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18, Orbit COLO f3cea885950a)')).toBe('while-running');
  });

  test("a stock QEMU (Debian's 7.2) stops the guest for the copy", () => {
    expect(ramCopyModeFor('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)')).toBe('guest-stopped');
    expect(ramCopyModeFor('')).toBe('guest-stopped');
  });
});
