export type PkiErrorCode =
  | "PKI_INVALID_PEM"
  | "PKI_UNSUPPORTED_KEY"
  | "PKI_CSR_SIGNATURE_INVALID"
  | "PKI_INVALID_REQUEST";

export class PkiError extends Error {
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PkiError";
    this.code = code;
  }
}

export function isPkiError(error: unknown, code?: PkiErrorCode): error is PkiError {
  return error instanceof PkiError && (code === undefined || error.code === code);
}
