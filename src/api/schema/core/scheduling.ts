// core/v1 scheduling constraints: node selectors, node and pod (anti-)affinity, tolerations, topology spread.

import {
  atomicList,
  int32,
  int64,
  mapList,
  named,
  opt,
  req,
  type Static,
  str,
  struct,
  Type,
} from "../dsl.ts";
import { LabelSelector } from "../meta.ts";

const CORE = "io.k8s.api.core.v1";

export const NODE_SELECTOR_OPERATORS = ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"] as const;

export const NodeSelectorRequirement = named(
  `${CORE}.NodeSelectorRequirement`,
  struct(
    "A node selector requirement is a selector that contains values, a key, and an operator that relates the key and values.",
    {
      key: req(str(), "The label key that the selector applies to."),
      operator: req(
        str(),
        "Represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists, DoesNotExist. Gt, and Lt.",
      ),
      values: opt(
        atomicList(str()),
        "An array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. If the operator is Gt or Lt, the values array must have a single element, which will be interpreted as an integer.",
      ),
    },
  ),
);
export type NodeSelectorRequirement = Static<typeof NodeSelectorRequirement>;

export const NodeSelectorTerm = named(
  `${CORE}.NodeSelectorTerm`,
  Type.Object(
    {
      matchExpressions: opt(
        atomicList(NodeSelectorRequirement),
        "A list of node selector requirements by node's labels.",
      ),
      matchFields: opt(
        atomicList(NodeSelectorRequirement),
        "A list of node selector requirements by node's fields.",
      ),
    },
    {
      description:
        "A null or empty node selector term matches no objects. The requirements of them are ANDed. The TopologySelectorTerm type implements a subset of the NodeSelectorTerm.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);
export type NodeSelectorTerm = Static<typeof NodeSelectorTerm>;

export const NodeSelector = named(
  `${CORE}.NodeSelector`,
  Type.Object(
    {
      nodeSelectorTerms: req(
        atomicList(NodeSelectorTerm),
        "Required. A list of node selector terms. The terms are ORed.",
      ),
    },
    {
      description:
        "A node selector represents the union of the results of one or more label queries over a set of nodes; that is, it represents the OR of the selectors represented by the node selector terms.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);

export const PreferredSchedulingTerm = named(
  `${CORE}.PreferredSchedulingTerm`,
  struct(
    "An empty preferred scheduling term matches all objects with implicit weight 0 (i.e. it's a no-op). A null preferred scheduling term matches no objects (i.e. is also a no-op).",
    {
      weight: req(
        int32(),
        "Weight associated with matching the corresponding nodeSelectorTerm, in the range 1-100.",
      ),
      preference: req(NodeSelectorTerm, "A node selector term, associated with the corresponding weight.", {
        default: {},
      }),
    },
  ),
);

export const NodeAffinity = named(
  `${CORE}.NodeAffinity`,
  struct("Node affinity is a group of node affinity scheduling rules.", {
    requiredDuringSchedulingIgnoredDuringExecution: opt(
      NodeSelector,
      "If the affinity requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node. If the affinity requirements specified by this field cease to be met at some point during pod execution (e.g. due to an update), the system may or may not try to eventually evict the pod from its node.",
    ),
    preferredDuringSchedulingIgnoredDuringExecution: opt(
      atomicList(PreferredSchedulingTerm),
      "The scheduler will prefer to schedule pods to nodes that satisfy the affinity expressions specified by this field, but it may choose a node that violates one or more of the expressions.",
    ),
  }),
);

export const PodAffinityTerm = named(
  `${CORE}.PodAffinityTerm`,
  struct(
    "Defines a set of pods (namely those matching the labelSelector relative to the given namespace(s)) that this pod should be co-located (affinity) or not co-located (anti-affinity) with, where co-located is defined as running on a node whose value of the label with key <topologyKey> matches that of any node on which a pod of the set of pods is running",
    {
      labelSelector: opt(
        LabelSelector,
        "A label query over a set of resources, in this case pods. If it's null, this PodAffinityTerm matches with no Pods.",
      ),
      namespaces: opt(
        atomicList(str()),
        'namespaces specifies a static list of namespace names that the term applies to. null or empty namespaces list and null namespaceSelector means "this pod\'s namespace".',
      ),
      topologyKey: req(
        str(),
        "This pod should be co-located (affinity) or not co-located (anti-affinity) with the pods matching the labelSelector in the specified namespaces, where co-located is defined as running on a node whose value of the label with key topologyKey matches that of any node on which any of the selected pods is running. Empty topologyKey is not allowed.",
      ),
      namespaceSelector: opt(
        LabelSelector,
        "A label query over the set of namespaces that the term applies to.",
      ),
      matchLabelKeys: opt(
        atomicList(str()),
        "MatchLabelKeys is a set of pod label keys to select which pods will be taken into consideration.",
      ),
      mismatchLabelKeys: opt(
        atomicList(str()),
        "MismatchLabelKeys is a set of pod label keys to select which pods will be taken into consideration.",
      ),
    },
  ),
);

export const WeightedPodAffinityTerm = named(
  `${CORE}.WeightedPodAffinityTerm`,
  struct(
    "The weights of all of the matched WeightedPodAffinityTerm fields are added per-node to find the most preferred node(s)",
    {
      weight: req(
        int32(),
        "weight associated with matching the corresponding podAffinityTerm, in the range 1-100.",
      ),
      podAffinityTerm: req(
        PodAffinityTerm,
        "Required. A pod affinity term, associated with the corresponding weight.",
        {
          default: {},
        },
      ),
    },
  ),
);

export const PodAffinity = named(
  `${CORE}.PodAffinity`,
  struct("Pod affinity is a group of inter pod affinity scheduling rules.", {
    requiredDuringSchedulingIgnoredDuringExecution: opt(
      atomicList(PodAffinityTerm),
      "If the affinity requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node.",
    ),
    preferredDuringSchedulingIgnoredDuringExecution: opt(
      atomicList(WeightedPodAffinityTerm),
      "The scheduler will prefer to schedule pods to nodes that satisfy the affinity expressions specified by this field, but it may choose a node that violates one or more of the expressions.",
    ),
  }),
);

export const PodAntiAffinity = named(
  `${CORE}.PodAntiAffinity`,
  struct("Pod anti affinity is a group of inter pod anti affinity scheduling rules.", {
    requiredDuringSchedulingIgnoredDuringExecution: opt(
      atomicList(PodAffinityTerm),
      "If the anti-affinity requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node.",
    ),
    preferredDuringSchedulingIgnoredDuringExecution: opt(
      atomicList(WeightedPodAffinityTerm),
      "The scheduler will prefer to schedule pods to nodes that satisfy the anti-affinity expressions specified by this field, but it may choose a node that violates one or more of the expressions.",
    ),
  }),
);

export const Affinity = named(
  `${CORE}.Affinity`,
  struct("Affinity is a group of affinity scheduling rules.", {
    nodeAffinity: opt(NodeAffinity, "Describes node affinity scheduling rules for the pod."),
    podAffinity: opt(
      PodAffinity,
      "Describes pod affinity scheduling rules (e.g. co-locate this pod in the same node, zone, etc. as some other pod(s)).",
    ),
    podAntiAffinity: opt(
      PodAntiAffinity,
      "Describes pod anti-affinity scheduling rules (e.g. avoid putting this pod in the same node, zone, etc. as some other pod(s)).",
    ),
  }),
);
export type Affinity = Static<typeof Affinity>;

export const Toleration = named(
  `${CORE}.Toleration`,
  struct(
    "The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect> using the matching operator <operator>.",
    {
      key: opt(
        str(),
        "Key is the taint key that the toleration applies to. Empty means match all taint keys. If the key is empty, operator must be Exists; this combination means to match all values and all keys.",
      ),
      operator: opt(
        str(),
        "Operator represents a key's relationship to the value. Valid operators are Exists and Equal. Defaults to Equal. Exists is equivalent to wildcard for value, so that a pod can tolerate all taints of a particular category.",
      ),
      value: opt(
        str(),
        "Value is the taint value the toleration matches to. If the operator is Exists, the value should be empty, otherwise just a regular string.",
      ),
      effect: opt(
        str(),
        "Effect indicates the taint effect to match. Empty means match all taint effects. When specified, allowed values are NoSchedule, PreferNoSchedule and NoExecute.",
      ),
      tolerationSeconds: opt(
        int64(),
        "TolerationSeconds represents the period of time the toleration (which must be of effect NoExecute, otherwise this field is ignored) tolerates the taint. By default, it is not set, which means tolerate the taint forever (do not evict).",
      ),
    },
  ),
);
export type Toleration = Static<typeof Toleration>;

export const TopologySpreadConstraint = named(
  `${CORE}.TopologySpreadConstraint`,
  struct("TopologySpreadConstraint specifies how to spread matching pods among the given topology.", {
    maxSkew: req(int32(), "MaxSkew describes the degree to which pods may be unevenly distributed."),
    topologyKey: req(
      str(),
      "TopologyKey is the key of node labels. Nodes that have a label with this key and identical values are considered to be in the same topology.",
    ),
    whenUnsatisfiable: req(
      str(),
      "WhenUnsatisfiable indicates how to deal with a pod if it doesn't satisfy the spread constraint: DoNotSchedule (default) or ScheduleAnyway.",
    ),
    labelSelector: opt(LabelSelector, "LabelSelector is used to find matching pods."),
    minDomains: opt(int32(), "MinDomains indicates a minimum number of eligible domains."),
    nodeAffinityPolicy: opt(
      str(),
      "NodeAffinityPolicy indicates how we will treat Pod's nodeAffinity/nodeSelector when calculating pod topology spread skew: Honor or Ignore.",
    ),
    nodeTaintsPolicy: opt(
      str(),
      "NodeTaintsPolicy indicates how we will treat node taints when calculating pod topology spread skew: Honor or Ignore.",
    ),
    matchLabelKeys: opt(
      atomicList(str()),
      "MatchLabelKeys is a set of pod label keys to select the pods over which spreading will be calculated.",
    ),
  }),
);

export const topologySpreadList = () =>
  mapList(TopologySpreadConstraint, ["topologyKey", "whenUnsatisfiable"], "topologyKey");
