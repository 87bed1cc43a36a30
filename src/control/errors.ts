// Why an operation on a running router was refused, in the router's own
// terms. The API turns the kind into an HTTP status; the router itself knows
// nothing of HTTP.
export type Refusal = 'invalid' | 'not-found' | 'conflict' | 'too-large';

export class OperationError extends Error {
  constructor(readonly refusal: Refusal, message: string) {
    super(message);
  }
}
