/** A refused push or recorder request; the REST layer answers it with `status`. */
export class EgressError extends Error {
  override readonly name = 'EgressError';
  readonly status: 400 | 404 | 409;
  constructor(status: 400 | 404 | 409, message: string) {
    super(message);
    this.status = status;
  }
}
