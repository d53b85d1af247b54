/**
 * A Hub request that failed for a reason a person can act on: the repo does not exist, is gated,
 * the token is wrong, the network is down, a download broke off. Plain fields only, so it survives
 * the worker boundary (register it with registerErrorClass('HubError', HubError)).
 */
export class HubError extends Error {
  override name = 'HubError';
  /** "org/name" */
  readonly repo: string;
  /** HTTP status when the Hub answered, else 0. */
  readonly status: number;

  constructor(repo: string, message: string, status = 0) {
    super(message);
    this.repo = repo;
    this.status = status;
  }
}
