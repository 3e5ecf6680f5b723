// core/v1 Event: what `kubectl describe` lists and `kubectl get events` prints.

import { always, int32, named, opt, req, type Static, str, struct, typeMetaFields } from "../dsl.ts";
import { type FieldError, invalid, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { MicroTime, ObjectMeta, Time } from "../meta.ts";
import { isDNS1123Label, nameIsPathSegment } from "../names.ts";
import { column, NAME_COLUMN, since } from "../printing.ts";
import { ObjectReference } from "./refs.ts";

const CORE = "io.k8s.api.core.v1";

export const EventSource = named(
  `${CORE}.EventSource`,
  struct("EventSource contains information for an event.", {
    component: opt(str(), "Component from which the event is generated."),
    host: opt(str(), "Node name on which the event is generated."),
  }),
);

export const EventSeries = named(
  `${CORE}.EventSeries`,
  struct(
    "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
    {
      count: opt(int32(), "Number of occurrences in this series up to the last heartbeat time"),
      lastObservedTime: opt(MicroTime, "Time of the last occurrence observed"),
    },
  ),
);

export const Event = named(
  `${CORE}.Event`,
  struct("Event is a report of an event somewhere in the cluster.", {
    ...typeMetaFields(),
    metadata: req(ObjectMeta, "Standard object's metadata.", { default: {} }),
    involvedObject: req(ObjectReference, "The object that this event is about.", { default: {} }),
    reason: opt(
      str(),
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    message: opt(str(), "A human-readable description of the status of this operation."),
    source: always(
      EventSource,
      "The component reporting this event. Should be a short machine understandable string.",
    ),
    firstTimestamp: opt(
      Time,
      "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    lastTimestamp: opt(Time, "The time at which the most recent occurrence of this event was recorded."),
    count: opt(int32(), "The number of times this event has occurred."),
    type: opt(str(), "Type of this event (Normal, Warning), new types could be added in the future"),
    eventTime: opt(MicroTime, "Time when this Event was first observed."),
    series: opt(
      EventSeries,
      "Data about the Event series this event represents or nil if it's a singleton Event.",
    ),
    action: opt(str(), "What action was taken/failed regarding to the Regarding object."),
    related: opt(ObjectReference, "Optional secondary object for more complex actions."),
    reportingComponent: opt(
      str(),
      "Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.",
      {
        default: "",
      },
    ),
    reportingInstance: opt(str(), "ID of the controller instance, e.g. `kubelet-xyzf`.", { default: "" }),
  }),
);
export type Event = Static<typeof Event>;

function sourceText(e: Event): string {
  const join = (component: string, instance: string) => (instance ? `${component}, ${instance}` : component);
  if (e.source?.component) return join(e.source.component, e.source.host ?? "");
  return join(e.reportingComponent ?? "", e.reportingInstance ?? "");
}

/** LAST SEEN, FIRST SEEN and COUNT as upstream's printEvent derives them. */
export function eventTimes(e: Event, now: Date): { first: string; last: string; count: number } {
  const first = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  return { first, last, count };
}

export const events = defineKind<Event>({
  group: "",
  version: "v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
  shortNames: ["ev"],
  schema: Event,
  nameValidator: nameIsPathSegment,
  validate(e) {
    const errs: FieldError[] = [];
    const ns = e.metadata?.namespace ?? "";
    const involvedNs = e.involvedObject?.namespace ?? "";
    if (involvedNs && ns && involvedNs !== ns) {
      errs.push(invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    }
    if (!e.reportingComponent && e.eventTime) errs.push(required("reportingComponent"));
    if (e.reason && e.reason.length > 128)
      errs.push(invalid("reason", e.reason, "can have at most 128 characters"));
    if (e.type && !["Normal", "Warning"].includes(e.type)) {
      errs.push({
        reason: "FieldValueNotSupported",
        field: "type",
        message: `Unsupported value: ${JSON.stringify(e.type)}: supported values: "Normal", "Warning"`,
      });
    }
    if (involvedNs)
      for (const msg of isDNS1123Label(involvedNs))
        errs.push(invalid("involvedObject.namespace", involvedNs, msg));
    return errs;
  },
  table: {
    columns: [
      column("Last Seen", "Time since the event was last seen."),
      column("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
      column("Reason", "A short, machine understandable reason for this event."),
      column("Object", "The object this event is about."),
      column("Subobject", "The field of the object the event is about.", 1),
      column("Source", "The component reporting this event.", 1),
      column("Message", "A human-readable description of the status of this operation."),
      column("First Seen", "Time since the event was first seen.", 1),
      column("Count", "The number of times this event has occurred.", 1),
      { ...NAME_COLUMN, priority: 1 },
    ],
    row(e, now = new Date()) {
      const { first, last, count } = eventTimes(e, now);
      const obj = e.involvedObject ?? {};
      const kind = (obj.kind ?? "").toLowerCase();
      const target = obj.name ? `${kind}/${obj.name}` : kind;
      return [
        last,
        e.type ?? "",
        e.reason ?? "",
        target,
        obj.fieldPath ?? "",
        sourceText(e),
        (e.message ?? "").trim(),
        first,
        count,
        e.metadata?.name ?? "",
      ];
    },
  },
  fieldSelectors: {
    "involvedObject.kind": (e) => e.involvedObject?.kind ?? "",
    "involvedObject.namespace": (e) => e.involvedObject?.namespace ?? "",
    "involvedObject.name": (e) => e.involvedObject?.name ?? "",
    "involvedObject.uid": (e) => e.involvedObject?.uid ?? "",
    "involvedObject.apiVersion": (e) => e.involvedObject?.apiVersion ?? "",
    "involvedObject.resourceVersion": (e) => e.involvedObject?.resourceVersion ?? "",
    "involvedObject.fieldPath": (e) => e.involvedObject?.fieldPath ?? "",
    reason: (e) => e.reason ?? "",
    reportingComponent: (e) => e.reportingComponent ?? "",
    source: (e) => e.source?.component || e.reportingComponent || "",
    type: (e) => e.type ?? "",
  },
});
