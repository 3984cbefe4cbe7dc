/** What an agent should do after an error (SPEC §1). */
export type Recovery = {
  retryable: boolean;
  /** Stable snake_case verb, e.g. `restart_challenge`, `fix_request`, `retry_later`. */
  next_action: string;
  summary?: string;
  preserve?: string[];
  discard?: string[];
  retry_after_seconds?: number;
  docs_url?: string;
  reference_url?: string;
};

export type AppErrorOptions = {
  details?: Record<string, unknown>;
  recovery?: Recovery;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  /** Extra top-level fields of the error body (the 402 `payment` object). */
  extra?: Record<string, unknown>;
};

/**
 * The one error type services throw. Rendered as the SPEC error envelope by the error plugin.
 * The message is shown to the caller: never put a secret, SQL or a private URL in it.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;
  readonly recovery?: Recovery;
  readonly headers?: Record<string, string>;
  readonly extra?: Record<string, unknown>;

  constructor(status: number, code: string, message: string, options: AppErrorOptions = {}) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.recovery = options.recovery;
    this.headers = options.headers;
    this.extra = options.extra;
  }
}

/** Shorthand for the common recoveries. */
export const recover = {
  fixRequest: (summary: string, extra: Partial<Recovery> = {}): Recovery => ({
    retryable: false,
    next_action: 'fix_request',
    summary,
    ...extra,
  }),
  retryLater: (summary: string, retryAfterSeconds?: number): Recovery => ({
    retryable: true,
    next_action: 'retry_later',
    summary,
    ...(retryAfterSeconds === undefined ? {} : { retry_after_seconds: retryAfterSeconds }),
  }),
  action: (next_action: string, summary: string, extra: Partial<Recovery> = {}): Recovery => ({
    retryable: false,
    next_action,
    summary,
    ...extra,
  }),
};
