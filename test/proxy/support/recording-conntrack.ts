import { type Conntrack, type ConntrackDeletion, execConntrack } from "../../../src/proxy/conntrack.ts";

export type RecordingConntrack = Conntrack & { done: ConntrackDeletion[]; inFlight: number };

/** The real conntrack command in `netns`, recording what it deleted and how many deletions are running. */
export function recordingConntrack(netns: string): RecordingConntrack {
  const real = execConntrack(netns);
  const recorder: RecordingConntrack = {
    done: [],
    inFlight: 0,
    async delete(deletion: ConntrackDeletion) {
      recorder.inFlight++;
      try {
        await real.delete(deletion);
        recorder.done.push(deletion);
      } finally {
        recorder.inFlight--;
      }
    },
  };
  return recorder;
}
