// @peculiar/x509 resolves its ASN.1 serializers through tsyringe, which needs the Reflect metadata API:
// the polyfill must be evaluated before the library, so every module of src/pki imports the library from here.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
