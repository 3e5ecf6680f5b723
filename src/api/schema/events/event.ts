// events.k8s.io/v1 Event, and its conversion to and from core/v1 Event (the same objects upstream: both
// APIs read and write the one events store).

import type { KubeObject } from "../../resource.ts";
import type { Event as CoreEvent } from "../core/event.ts";
import { EventSource } from "../core/event.ts";
import { ObjectReference } from "../core/refs.ts";
import { always, int32, named, opt, req, type Static, str, struct, typeMetaFields } from "../dsl.ts";
import { type FieldError, invalid, notSupported, required } from "../field-errors.ts";
import { defineKind } from "../kind.ts";
import { MicroTime, ObjectMeta, Time } from "../meta.ts";
import { nameIsPathSegment } from "../names.ts";
import { column, NAME_COLUMN, since } from "../printing.ts";

const EVENTS = "io.k8s.api.events.v1";

export const EventSeries = named(
  `${EVENTS}.EventSeries`,
  struct(
    "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
    {
      count: req(int32(), "count is the number of occurrences in this series up to the last heartbeat time."),
      lastObservedTime: req(
        MicroTime,
        "lastObservedTime is the time when last Event from the series was seen before last heartbeat.",
      ),
    },
  ),
);

export const Event = named(
  `${EVENTS}.Event`,
  struct(
    "Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system. Events have a limited retention time and triggers and messages may evolve with time.",
    {
      ...typeMetaFields(),
      metadata: always(ObjectMeta, "Standard object's metadata."),
      eventTime: req(MicroTime, "eventTime is the time when this Event was first observed. It is required."),
      series: opt(
        EventSeries,
        "series is data about the Event series this event represents or nil if it's a singleton Event.",
      ),
      reportingController: opt(
        str(),
        "reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.",
      ),
      reportingInstance: opt(
        str(),
        "reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`.",
      ),
      action: opt(str(), "action is what action was taken/failed regarding to the regarding object."),
      reason: opt(str(), "reason is why the action was taken. It is human-readable."),
      regarding: always(ObjectReference, "regarding contains the object this Event is about."),
      related: opt(ObjectReference, "related is the optional secondary object for more complex actions."),
      note: opt(str(), "note is a human-readable description of the status of this operation."),
      type: opt(
        str(),
        "type is the type of this event (Normal, Warning), new types could be added in the future.",
      ),
      deprecatedSource: always(
        EventSource,
        "deprecatedSource is the deprecated field assuring backward compatibility with core.v1 Event type.",
      ),
      deprecatedFirstTimestamp: opt(
        Time,
        "deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.",
      ),
      deprecatedLastTimestamp: opt(
        Time,
        "deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type.",
      ),
      deprecatedCount: opt(
        int32(),
        "deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type.",
      ),
    },
  ),
);
export type EventsV1Event = Static<typeof Event>;

/** core/v1 → events.k8s.io/v1 (upstream's field mapping). */
export function toEventsV1(e: CoreEvent): EventsV1Event {
  const out: EventsV1Event = {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: structuredClone(e.metadata ?? {}),
    eventTime: e.eventTime ?? "",
    regarding: structuredClone(e.involvedObject ?? {}),
    deprecatedSource: structuredClone(e.source ?? {}),
  };
  if (e.series)
    out.series = { count: e.series.count ?? 0, lastObservedTime: e.series.lastObservedTime ?? "" };
  if (e.reportingComponent) out.reportingController = e.reportingComponent;
  if (e.reportingInstance) out.reportingInstance = e.reportingInstance;
  if (e.action) out.action = e.action;
  if (e.reason) out.reason = e.reason;
  if (e.related) out.related = structuredClone(e.related);
  if (e.message) out.note = e.message;
  if (e.type) out.type = e.type;
  if (e.firstTimestamp) out.deprecatedFirstTimestamp = e.firstTimestamp;
  if (e.lastTimestamp) out.deprecatedLastTimestamp = e.lastTimestamp;
  if (e.count) out.deprecatedCount = e.count;
  if (!out.eventTime) delete (out as Partial<EventsV1Event>).eventTime;
  return out;
}

/** events.k8s.io/v1 → core/v1. */
export function toCoreEvent(e: EventsV1Event): CoreEvent {
  const out: CoreEvent = {
    apiVersion: "v1",
    kind: "Event",
    metadata: structuredClone(e.metadata ?? {}),
    involvedObject: structuredClone(e.regarding ?? {}),
    source: structuredClone(e.deprecatedSource ?? {}),
    reportingComponent: e.reportingController ?? "",
    reportingInstance: e.reportingInstance ?? "",
  };
  if (e.eventTime) out.eventTime = e.eventTime;
  if (e.series) out.series = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  if (e.action) out.action = e.action;
  if (e.reason) out.reason = e.reason;
  if (e.related) out.related = structuredClone(e.related);
  if (e.note) out.message = e.note;
  if (e.type) out.type = e.type;
  if (e.deprecatedFirstTimestamp) out.firstTimestamp = e.deprecatedFirstTimestamp;
  if (e.deprecatedLastTimestamp) out.lastTimestamp = e.deprecatedLastTimestamp;
  if (e.deprecatedCount) out.count = e.deprecatedCount;
  return out;
}

export const eventsV1 = defineKind<EventsV1Event>({
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
  shortNames: ["ev"],
  schema: Event,
  nameValidator: nameIsPathSegment,
  // One events store, as upstream: both APIs read and write the core/v1 objects.
  storedAs: {
    group: "",
    plural: "events",
    toStored: (e) => toCoreEvent(e) as unknown as KubeObject,
    fromStored: (e) => toEventsV1(e as unknown as CoreEvent),
  },
  validate(e) {
    const errs: FieldError[] = [];
    if (!e.eventTime) errs.push(required("eventTime"));
    if (!e.reportingController) errs.push(required("reportingController"));
    if (!e.reportingInstance) errs.push(required("reportingInstance"));
    if (!e.action) errs.push(required("action"));
    if (!e.reason) errs.push(required("reason"));
    if (e.type && !["Normal", "Warning"].includes(e.type))
      errs.push(notSupported("type", e.type, ["Normal", "Warning"]));
    if ((e.note ?? "").length > 1024) errs.push(invalid("note", "", "can have at most 1024 characters"));
    return errs;
  },
  table: {
    columns: [
      column("Last Seen", "Time since the event was last seen."),
      column("Type", "Type of this event (Normal, Warning)."),
      column("Reason", "Why the action was taken."),
      column("Object", "The object this event is about."),
      column("Message", "A human-readable description of the status of this operation."),
      { ...NAME_COLUMN, priority: 1 },
    ],
    row(e, now = new Date()) {
      const last = e.series?.lastObservedTime ?? e.deprecatedLastTimestamp ?? e.eventTime;
      const kind = (e.regarding?.kind ?? "").toLowerCase();
      const target = e.regarding?.name ? `${kind}/${e.regarding.name}` : kind;
      return [
        since(last, now),
        e.type ?? "",
        e.reason ?? "",
        target,
        (e.note ?? "").trim(),
        e.metadata?.name ?? "",
      ];
    },
  },
  fieldSelectors: {
    "regarding.kind": (e) => e.regarding?.kind ?? "",
    "regarding.namespace": (e) => e.regarding?.namespace ?? "",
    "regarding.name": (e) => e.regarding?.name ?? "",
    "regarding.uid": (e) => e.regarding?.uid ?? "",
    reason: (e) => e.reason ?? "",
    reportingController: (e) => e.reportingController ?? "",
    type: (e) => e.type ?? "",
  },
});
