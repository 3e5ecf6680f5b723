// Errors the node API answers with. Like kubelet, it answers plain text (clients and the API server show
// the text as the reason); the HTTP status says what kind of failure it was.

export class NodeApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NodeApiError";
    this.status = status;
  }
}

export function badRequest(message: string): NodeApiError {
  return new NodeApiError(400, message);
}

export function notFound(message: string): NodeApiError {
  return new NodeApiError(404, message);
}

export function unprocessable(message: string): NodeApiError {
  return new NodeApiError(422, message);
}

export function internalError(message: string, cause?: unknown): NodeApiError {
  return new NodeApiError(500, message, cause === undefined ? undefined : { cause });
}

/** The status and text to answer an error with: NodeApiErrors as they are, anything else as a 500. */
export function describeError(error: unknown): { status: number; message: string } {
  if (error instanceof NodeApiError) return { status: error.status, message: error.message };
  return { status: 500, message: error instanceof Error ? error.message : String(error) };
}

export const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  422: "Unprocessable Entity",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
