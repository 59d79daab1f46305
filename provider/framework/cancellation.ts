/**
 * StopProvider support: every operation gets the current AbortSignal; StopProvider aborts it
 * and starts a fresh one, so operations already running are cancelled and later ones (the
 * same process may serve another command in debug mode) are not.
 */
import { OperationCancelledError } from './errors';

export class Cancellation {
  private controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  stopAll(): void {
    const stopping = this.controller;
    this.controller = new AbortController();
    stopping.abort(new OperationCancelledError());
  }
}
