/**
 * Where in a configuration a value lives: `['hosts', 1, 'host_key']` is `hosts[1].host_key`.
 * A string step names an attribute or block, a number indexes a list, `{ key }` selects a
 * map element. Set elements have no address on the wire, so paths stop at the set.
 */
export type PathStep = string | number | { readonly key: string };
export type AttributePath = readonly PathStep[];

/** `hosts[1].host_key`, `tags["env"]`: the way terraform prints a path. */
export function formatPath(path: AttributePath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'string') out += out === '' ? step : `.${step}`;
    else if (typeof step === 'number') out += `[${step}]`;
    else out += `[${JSON.stringify(step.key)}]`;
  }
  return out;
}

export interface ProtoAttributePath {
  steps: Array<{ attribute_name?: string; element_key_string?: string; element_key_int?: number }>;
}

export function pathToProto(path: AttributePath): ProtoAttributePath {
  return {
    steps: path.map((step) => (typeof step === 'string' ? { attribute_name: step } : typeof step === 'number' ? { element_key_int: step } : { element_key_string: step.key })),
  };
}
