// core/v1 ConfigMap and Secret.

import {
  always,
  bool,
  byteString,
  named,
  opt,
  type Static,
  str,
  stringMap,
  struct,
  Type,
  typeMetaFields,
} from "../dsl.ts";
import { ObjectMeta } from "../meta.ts";

const CORE = "io.k8s.api.core.v1";

export const ConfigMap = named(
  `${CORE}.ConfigMap`,
  struct("ConfigMap holds configuration data for pods to consume.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    immutable: opt(
      bool(),
      "Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil.",
    ),
    data: opt(
      stringMap(),
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field.",
    ),
    binaryData: opt(
      Type.Unsafe<Record<string, string>>({ type: "object", additionalProperties: byteString() }),
      "BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'. BinaryData can contain byte sequences that are not in the UTF-8 range.",
    ),
  }),
);
export type ConfigMap = Static<typeof ConfigMap>;

export const Secret = named(
  `${CORE}.Secret`,
  struct(
    "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      immutable: opt(
        bool(),
        "Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified).",
      ),
      data: opt(
        Type.Unsafe<Record<string, string>>({ type: "object", additionalProperties: byteString() }),
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here.",
      ),
      stringData: opt(
        stringMap(),
        "stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values. The stringData field is never output when reading from the API.",
      ),
      type: opt(
        str(),
        "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
      ),
    },
  ),
);
export type Secret = Static<typeof Secret>;
