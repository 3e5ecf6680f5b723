// core/v1 Binding: ties a pod to a node (the scheduler's write).

import { always, named, req, type Static, struct, typeMetaFields } from "../dsl.ts";
import { ObjectMeta } from "../meta.ts";
import { ObjectReference } from "./refs.ts";

export const Binding = named(
  "io.k8s.api.core.v1.Binding",
  struct("Binding ties one object to another; for example, a pod is bound to a node by a scheduler.", {
    ...typeMetaFields(),
    metadata: always(ObjectMeta, "Standard object's metadata."),
    target: req(ObjectReference, "The target object that you want to bind to the standard object.", {
      default: {},
    }),
  }),
);
export type BindingObject = Static<typeof Binding>;
