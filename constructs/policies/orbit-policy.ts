/** An Orbit policy: an Aspect that adds error annotations, which make `cdktf synth` fail. */
import { IAspect } from 'cdktf';

export interface OrbitPolicy extends IAspect {
  /** Short name, e.g. "host-capacity". */
  readonly name: string;
}
