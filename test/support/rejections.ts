import { OrbitError } from '../../provider/framework/errors';

/** The reason `promise` rejects with; fails the test when it resolves. */
export const rejection = (promise: Promise<unknown>): Promise<any> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );

/** The OrbitError `promise` rejects with; fails the test when it resolves or rejects with anything else. */
export async function orbitErrorOf(promise: Promise<unknown>): Promise<OrbitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OrbitError);
  return error as OrbitError;
}
