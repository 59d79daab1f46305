import { createLogger, hclogTimestamp, levelFromEnvironment } from './logger';

describe('hclog JSON logging', () => {
  test('lines carry @level, @message, @module and a microsecond @timestamp', () => {
    const lines: string[] = [];
    createLogger({ level: 'trace', write: (l) => lines.push(l), module: 'provider.orbit' }).info('hello', { rpc: 'PlanResourceChange' });
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ '@level': 'info', '@message': 'hello', '@module': 'provider.orbit', rpc: 'PlanResourceChange' });
    expect(entry['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lines[0].endsWith('\n')).toBe(true);
  });

  test('levels below the threshold are dropped', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    logger.debug('no');
    logger.error('yes');
    expect(lines).toHaveLength(1);
    expect(logger.enabled('debug')).toBe(false);
  });

  test('field names that look like secrets are masked', () => {
    const lines: string[] = [];
    createLogger({ level: 'trace', write: (l) => lines.push(l) })
      .child({ private_key: 'k' })
      .info('x', { password: 'p', token: 't', host: 'a' });
    expect(JSON.parse(lines[0])).toMatchObject({ private_key: '[redacted]', password: '[redacted]', token: '[redacted]', host: 'a' });
  });

  test('the level follows TF_LOG_PROVIDER_ORBIT, TF_LOG_PROVIDER, TF_LOG', () => {
    expect(levelFromEnvironment({})).toBe('warn');
    expect(levelFromEnvironment({ TF_LOG: 'DEBUG' })).toBe('debug');
    expect(levelFromEnvironment({ TF_LOG: 'JSON' })).toBe('trace');
    expect(levelFromEnvironment({ TF_LOG: 'DEBUG', TF_LOG_PROVIDER: 'error' })).toBe('error');
    expect(levelFromEnvironment({ TF_LOG_PROVIDER_ORBIT: 'off', TF_LOG: 'trace' })).toBe('off');
  });

  test('timestamps have exactly six fraction digits (hclog layout)', () => {
    expect(hclogTimestamp(new Date('2025-01-02T03:04:05.678Z'))).toBe('2025-01-02T03:04:05.678000Z');
  });
});
