import { AttributePath, formatPath } from './attribute-path';

/** A value does not fit its declared type; `path` says where. */
export class ValueTypeError extends Error {
  constructor(
    readonly path: AttributePath,
    readonly problem: string,
  ) {
    super(path.length > 0 ? `${formatPath(path)}: ${problem}` : problem);
    this.name = 'ValueTypeError';
  }
}
