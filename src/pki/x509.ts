// @peculiar/x509 (with reflect-metadata, tsyringe and a dozen ASN.1 schema packages: ~4 MiB of heap, ~20 MiB
// RSS) is loaded the first time something builds a certificate or request or parses a CSR: a node agent that
// only inspects certificates (node:crypto's X509Certificate does that) never loads it.
import type * as X509 from "@peculiar/x509";

export type X509Module = typeof X509;

let loading: Promise<X509Module> | undefined;

/** The @peculiar/x509 module, loaded once and set up to use Node's WebCrypto. */
export function loadX509(): Promise<X509Module> {
  loading ??= (async () => {
    // The library resolves its ASN.1 serializers through tsyringe, which needs the Reflect metadata API: the
    // polyfill must be evaluated before the library.
    await import("reflect-metadata");
    const x509 = await import("@peculiar/x509");
    x509.cryptoProvider.set(globalThis.crypto);
    return x509;
  })();
  return loading;
}
