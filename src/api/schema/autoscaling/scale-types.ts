// autoscaling/v1 Scale: the body of every …/scale subresource.

import { always, int32, named, opt, req, type Static, str, struct, typeMetaFields } from "../dsl.ts";
import { ObjectMeta } from "../meta.ts";

const AUTOSCALING = "io.k8s.api.autoscaling.v1";

export const ScaleSpec = named(
  `${AUTOSCALING}.ScaleSpec`,
  struct("ScaleSpec describes the attributes of a scale subresource.", {
    replicas: opt(int32(), "replicas is the desired number of instances for the scaled object."),
  }),
);

export const ScaleStatus = named(
  `${AUTOSCALING}.ScaleStatus`,
  struct("ScaleStatus represents the current status of a scale subresource.", {
    replicas: req(int32(), "replicas is the actual number of observed instances of the scaled object."),
    selector: opt(
      str(),
      'selector is the label query over pods that should match the replicas count, in the serialized form of a label selector (e.g. "app=x,tier in (a,b)").',
    ),
  }),
);

export const Scale = named(
  `${AUTOSCALING}.Scale`,
  struct("Scale represents a scaling request for a resource.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object metadata."),
    spec: always(ScaleSpec, "spec defines the behavior of the scale."),
    status: always(ScaleStatus, "status is the current status of the scale. Read-only."),
  }),
);
export type Scale = Static<typeof Scale>;
