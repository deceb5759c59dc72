// Package pipeline runs one source → transforms → sink flow with the
// delivery rules of design.md §1:
//
//   - A session opens the sink first and reads its durable checkpoint, then
//     opens the source just after it. A reader goroutine reads batches,
//     runs the transform chain and puts them on a queue bounded both in
//     batches and in bytes, so memory stays flat whatever the backlog.
//   - The writer hands batches to the sink and flushes when the pending
//     events or bytes reach their limit, when the linger time has passed,
//     or as soon as the source is idle (nothing queued). Only the
//     checkpoint the sink returns from Flush is acknowledged to the source:
//     nothing is acknowledged before it is durable.
//   - Any error not marked permanent ends the session; the pipeline closes
//     source and sink and starts a new session after an exponential backoff
//     with jitter. Because the new session resumes from the sink's durable
//     checkpoint, a retry neither loses nor duplicates what the sink made
//     durable (at-least-once sinks may repeat what they had written but not
//     checkpointed).
//   - On cancellation (SIGTERM), the reader stops, the writer flushes what
//     the sink holds within the grace period, acknowledges it, closes both
//     ends and Run returns the context's error.
//
// States: starting → streaming ⇄ retrying → stopped.
package pipeline
