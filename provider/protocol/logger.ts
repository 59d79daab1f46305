/**
 * Logging to stderr as JSON lines in hclog's format (`@level`, `@message`, `@module`,
 * `@timestamp`), which terraform's plugin client parses so that provider logs keep their
 * level under TF_LOG. The level comes from TF_LOG_PROVIDER_ORBIT, TF_LOG_PROVIDER or TF_LOG
 * (TRACE, DEBUG, INFO, WARN, ERROR, JSON = TRACE, OFF); the default is WARN.
 *
 * A tiny writer rather than pino: hclog needs a microsecond timestamp layout and level
 * names that pino would need custom hooks for, and pino costs ~25 ms of start-up in every
 * provider process (terraform starts several per command). Values of attributes are never
 * logged; field names that look like secrets are masked as a second line of defence.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
type Threshold = LogLevel | 'off';

const ORDER: Record<Threshold, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };
const SECRET_FIELD = /(private_?key|secret|password|passphrase|token|credential)/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  module?: string;
  level?: Threshold;
  write?: (line: string) => void;
}

export function levelFromEnvironment(env: NodeJS.ProcessEnv = process.env): Threshold {
  const raw = (env.TF_LOG_PROVIDER_ORBIT || env.TF_LOG_PROVIDER || env.TF_LOG || '').trim().toLowerCase();
  if (raw === 'json') return 'trace';
  return raw in ORDER ? (raw as Threshold) : 'warn';
}

/** hclog's timestamp layout: 2006-01-02T15:04:05.000000Z07:00 (exactly six fraction digits). */
export function hclogTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? levelFromEnvironment()];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const module = options.module ?? 'provider.terraform-provider-orbit';
  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields?: LogFields) => {
      if (ORDER[level] < threshold) return;
      const entry: LogFields = { '@level': level, '@message': message, '@module': module, '@timestamp': hclogTimestamp() };
      for (const [key, value] of Object.entries({ ...base, ...fields })) {
        entry[key] = SECRET_FIELD.test(key) ? '[redacted]' : value instanceof Error ? value.message : value;
      }
      write(`${JSON.stringify(entry, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`);
    };
    return {
      trace: (m, f) => log('trace', m, f),
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
      enabled: (level) => ORDER[level] >= threshold,
    };
  };
  return make({});
}
