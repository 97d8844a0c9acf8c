/**
 * A delivery failed because the receiver could not be reached or dropped the connection
 * (refused, reset, closed), as opposed to one that answered and refused or did not answer in
 * time. After this, any probe the receiver answers means it is back: delivery resumes at
 * once instead of after the backoff.
 */
export class ReceiverGone extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReceiverGone';
  }
}
