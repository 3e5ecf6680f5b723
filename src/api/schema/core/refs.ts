// core/v1 reference and selector types shared by many kinds.

import { bool, named, opt, req, type Static, str, Type } from "../dsl.ts";
import { Quantity } from "../meta.ts";

const CORE = "io.k8s.api.core.v1";

export const LocalObjectReference = named(
  `${CORE}.LocalObjectReference`,
  Type.Object(
    {
      name: opt(
        str(),
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty.",
        { default: "" },
      ),
    },
    {
      description:
        "LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);
export type LocalObjectReference = Static<typeof LocalObjectReference>;

export const ObjectReference = named(
  `${CORE}.ObjectReference`,
  Type.Object(
    {
      kind: opt(str(), "Kind of the referent."),
      namespace: opt(str(), "Namespace of the referent."),
      name: opt(str(), "Name of the referent."),
      uid: opt(str(), "UID of the referent."),
      apiVersion: opt(str(), "API version of the referent."),
      resourceVersion: opt(str(), "Specific resourceVersion to which this reference is made, if any."),
      fieldPath: opt(
        str(),
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
      ),
    },
    {
      description:
        "ObjectReference contains enough information to let you inspect or modify the referred object.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);
export type ObjectReference = Static<typeof ObjectReference>;

export const ObjectFieldSelector = named(
  `${CORE}.ObjectFieldSelector`,
  Type.Object(
    {
      apiVersion: opt(str(), 'Version of the schema the FieldPath is written in terms of, defaults to "v1".'),
      fieldPath: req(str(), "Path of the field to select in the specified API version."),
    },
    {
      description: "ObjectFieldSelector selects an APIVersioned field of an object.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);

export const ResourceFieldSelector = named(
  `${CORE}.ResourceFieldSelector`,
  Type.Object(
    {
      containerName: opt(str(), "Container name: required for volumes, optional for env vars"),
      resource: req(str(), "Required: resource to select"),
      divisor: opt(Quantity, 'Specifies the output format of the exposed resources, defaults to "1"'),
    },
    {
      description:
        "ResourceFieldSelector represents container resources (cpu, memory) and their output format",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);

export const ConfigMapKeySelector = named(
  `${CORE}.ConfigMapKeySelector`,
  Type.Object(
    {
      name: opt(str(), "Name of the referent.", { default: "" }),
      key: req(str(), "The key to select."),
      optional: opt(bool(), "Specify whether the ConfigMap or its key must be defined"),
    },
    { description: "Selects a key from a ConfigMap.", "x-kubernetes-map-type": "atomic" },
  ),
);

export const SecretKeySelector = named(
  `${CORE}.SecretKeySelector`,
  Type.Object(
    {
      name: opt(str(), "Name of the referent.", { default: "" }),
      key: req(str(), "The key of the secret to select from.  Must be a valid secret key."),
      optional: opt(bool(), "Specify whether the Secret or its key must be defined"),
    },
    { description: "SecretKeySelector selects a key of a Secret.", "x-kubernetes-map-type": "atomic" },
  ),
);

export const TypedLocalObjectReference = named(
  `${CORE}.TypedLocalObjectReference`,
  Type.Object(
    {
      apiGroup: opt(str(), "APIGroup is the group for the resource being referenced."),
      kind: req(str(), "Kind is the type of resource being referenced"),
      name: req(str(), "Name is the name of resource being referenced"),
    },
    {
      description:
        "TypedLocalObjectReference contains enough information to let you locate the typed referenced object inside the same namespace.",
      "x-kubernetes-map-type": "atomic",
    },
  ),
);

/** map[ResourceName]Quantity */
export const ResourceList = () =>
  Type.Unsafe<Record<string, string>>({ type: "object", additionalProperties: Quantity });
