// Stage 3: admission. Plugins see every write after decoding and before storage; mutating plugins run
// first (admit), validating plugins last (validate) after the kind's own defaulting and validation, as
// upstream orders them. A plugin rejects a request by throwing an ApiError.

import type { KubeObject } from "../../../api/resource.ts";
import type { ServedResource } from "../resources.ts";
import type { UserInfo } from "./authentication.ts";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  resource: ServedResource;
  subresource: string;
  namespace: string;
  name: string;
  /** The object being written (mutable in admit); undefined for DELETE and CONNECT. */
  object?: KubeObject;
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  readonly name: string;
  admit?(attributes: AdmissionAttributes): Promise<void> | void;
  validate?(attributes: AdmissionAttributes): Promise<void> | void;
}

export class AdmissionChain {
  private readonly plugins: readonly AdmissionPlugin[];

  constructor(plugins: readonly AdmissionPlugin[]) {
    this.plugins = plugins;
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(attributes);
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(attributes);
  }
}
