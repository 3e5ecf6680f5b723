// The CSR approver (upstream pkg/controller/certificates/approver, "csrapproving"): approves the
// certificate requests nodes make for themselves, through /approval like an operator would.
//
// - kubernetes.io/kube-apiserver-client-kubelet, "nodeclient": a bootstrap token asks for a node client
//   certificate (joining); "selfnodeclient": a node renews its own (CN = its user name). The request must
//   be a node client certificate (CN system:node:<name>, O [system:nodes], usages digital signature
//   [+ key encipherment] + client auth, no SANs), and the requester must be allowed to create
//   certificatesigningrequests/nodeclient (or /selfnodeclient) in certificates.k8s.io — asked with a
//   SubjectAccessReview like upstream when the API serves them, else by the bootstrap policy's groups
//   (system:bootstrappers, system:nodes; system:masters may do anything).
// - kubernetes.io/kubelet-serving: upstream leaves these to an operator. Deckhand approves them when the
//   requester is that very node and every SAN is one of its Node's addresses; anything else stays pending
//   for `kubectl certificate approve`.
//
// Denying is never automatic: a request that does not qualify is left alone.

import { isNotFound } from "../../api/client/errors.ts";
import type { CertificateSigningRequest } from "../../api/schema/certificates/csr.ts";
import {
  csrCondition,
  KUBELET_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  requestPem,
} from "../../api/schema/certificates/csr-helpers.ts";
import type { Node } from "../../api/schema/core/node-types.ts";
import { type ParsedCsr, parseCsr } from "../../pki/index.ts";
import {
  kubeletClientProblem,
  kubeletServingProblem,
  NODE_USER_PREFIX,
  NODES_GROUP,
  sanOutsideNode,
} from "./csr-kubelet.ts";
import { type ControllerContext, RESOURCES } from "./machinery/context.ts";
import { ControllerLoop, type SyncResult } from "./machinery/controller.ts";
import type { Informer } from "./machinery/informer.ts";
import { keyOf } from "./machinery/keys.ts";

const COMPONENT = "csrapproving-controller";
const BOOTSTRAPPERS = "system:bootstrappers";
const MASTERS = "system:masters";

export type Permission = "nodeclient" | "selfnodeclient";

export type ApprovalPlan =
  | { kind: "skip"; why: string }
  | { kind: "check"; permission: Permission; message: string }
  | { kind: "serving"; node: string; message: string };

/** What the approver would do with a request (pure; the permission check and the write come after). */
export function planApproval(csr: CertificateSigningRequest, parsed: ParsedCsr): ApprovalPlan {
  const spec = csr.spec;
  const usages = spec?.usages ?? [];
  if (spec?.signerName === KUBELET_CLIENT_SIGNER) {
    const problem = kubeletClientProblem(parsed, usages);
    if (problem) return { kind: "skip", why: problem };
    if (spec.username === parsed.commonName) {
      return {
        kind: "check",
        permission: "selfnodeclient",
        message: "Auto approving self kubelet client certificate after SubjectAccessReview.",
      };
    }
    return {
      kind: "check",
      permission: "nodeclient",
      message: "Auto approving kubelet client certificate after SubjectAccessReview.",
    };
  }
  if (spec?.signerName === KUBELET_SERVING_SIGNER) {
    const problem = kubeletServingProblem(parsed, usages);
    if (problem) return { kind: "skip", why: problem };
    if (spec.username !== parsed.commonName || !(spec.groups ?? []).includes(NODES_GROUP)) {
      return {
        kind: "skip",
        why: "a serving certificate requested by someone other than the node itself needs manual approval",
      };
    }
    return {
      kind: "serving",
      node: parsed.commonName.slice(NODE_USER_PREFIX.length),
      message:
        "Auto approving kubelet serving certificate: the node requested it and its names are the Node's addresses.",
    };
  }
  return { kind: "skip", why: `signer ${spec?.signerName ?? ""} is not approved automatically` };
}

/** The bootstrap policy's answer when the API serves no SubjectAccessReviews. */
export function groupsAllow(permission: Permission, groups: readonly string[]): boolean {
  if (groups.includes(MASTERS)) return true;
  return permission === "nodeclient" ? groups.includes(BOOTSTRAPPERS) : groups.includes(NODES_GROUP);
}

export class CsrApprovingController {
  readonly loop: ControllerLoop;
  private readonly ctx: ControllerContext;
  private readonly csrs: Informer<CertificateSigningRequest>;
  private readonly nodes: Informer<Node>;
  /** undefined until the first SubjectAccessReview tells whether the API serves them. */
  private sarServed: boolean | undefined;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.csrs = ctx.informers.get("certificateSigningRequests");
    this.nodes = ctx.informers.get("nodes");
    this.loop = new ControllerLoop({
      name: COMPONENT,
      log: ctx.log.child({ controller: COMPONENT }),
      clock: ctx.clock,
      sync: (key) => this.sync(key),
    });
    this.csrs.addHandler({
      add: (csr) => this.loop.enqueue(keyOf(csr)),
      update: (_old, csr) => this.loop.enqueue(keyOf(csr)),
    });
    // A serving request may arrive before its Node reports the addresses it names.
    this.nodes.addHandler({
      add: () => this.requeueServing(),
      update: (old, node) => {
        if (JSON.stringify(old.status?.addresses) !== JSON.stringify(node.status?.addresses))
          this.requeueServing();
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private requeueServing(): void {
    for (const csr of this.csrs.list()) {
      if (csr.spec?.signerName === KUBELET_SERVING_SIGNER && !csr.status?.conditions?.length) {
        this.loop.enqueue(keyOf(csr));
      }
    }
  }

  private async sync(name: string): Promise<SyncResult | undefined> {
    const csr = this.csrs.get(name);
    if (!csr || csr.status?.certificate) return undefined;
    if (csrCondition(csr, "Approved") || csrCondition(csr, "Denied")) return undefined;
    const signer = csr.spec?.signerName;
    if (signer !== KUBELET_CLIENT_SIGNER && signer !== KUBELET_SERVING_SIGNER) return undefined;
    const log = this.ctx.log.child({ controller: COMPONENT, csr: name });
    let parsed: ParsedCsr;
    try {
      parsed = await parseCsr(requestPem(csr));
    } catch (error) {
      log.info({ err: (error as Error).message }, "certificate request left pending: it cannot be parsed");
      return undefined;
    }
    const plan = planApproval(csr, parsed);
    if (plan.kind === "skip") {
      log.debug({ why: plan.why }, "certificate request left for manual approval");
      return undefined;
    }
    if (plan.kind === "serving") {
      const node = this.nodes.get(plan.node);
      if (!node) {
        log.debug({ node: plan.node }, "serving certificate request waits for its Node");
        return undefined;
      }
      const outside = sanOutsideNode(parsed, node);
      if (outside !== undefined) {
        log.info(
          { node: plan.node, name: outside },
          "serving certificate request names an address its Node does not report; left for manual approval",
        );
        return undefined;
      }
    } else if (!(await this.allowed(csr, plan.permission))) {
      log.info(
        { user: csr.spec?.username, permission: plan.permission },
        "requester may not create this kind of certificate request; left pending",
      );
      return undefined;
    }
    await this.approve(csr, plan.message);
    log.info({ user: csr.spec?.username, signer }, "certificate request approved");
    return undefined;
  }

  private async allowed(csr: CertificateSigningRequest, permission: Permission): Promise<boolean> {
    const spec = csr.spec;
    const groups = spec?.groups ?? [];
    if (this.sarServed !== false) {
      try {
        const review = await this.ctx.client.create(
          { group: "authorization.k8s.io", version: "v1", resource: "subjectaccessreviews" },
          {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
              user: spec?.username,
              uid: spec?.uid,
              groups,
              extra: spec?.extra,
              resourceAttributes: {
                group: "certificates.k8s.io",
                resource: "certificatesigningrequests",
                verb: "create",
                subresource: permission,
              },
            },
          },
        );
        this.sarServed = true;
        return (review as { status?: { allowed?: boolean } }).status?.allowed === true;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.sarServed = false;
      }
    }
    return groupsAllow(permission, groups);
  }

  private async approve(csr: CertificateSigningRequest, message: string): Promise<void> {
    const now = new Date(this.ctx.clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
    const next = structuredClone(csr);
    next.status ??= {};
    next.status.conditions = [
      ...(next.status.conditions ?? []),
      {
        type: "Approved",
        status: "True",
        reason: "AutoApproved",
        message,
        lastUpdateTime: now,
        lastTransitionTime: now,
      },
    ];
    await this.ctx.client.update(
      { ...RESOURCES.certificateSigningRequests, name: csr.metadata?.name, subresource: "approval" },
      next,
    );
  }
}
