// Package event defines the one change-event model every cdcd source produces
// and every sink consumes: the operation, the table and its versioned schema,
// key/before/after rows of normalized values, the event's position in its
// source's total order, and its transaction and source metadata.
//
// Values are normalized (see Value) so that a row read from Postgres and one
// read from MySQL render the same way: integers exact, decimals as strings,
// instants in UTC, bytes as base64, JSON embedded. Nothing is converted
// lossily; a type without a normalized form is carried as its source text
// form (KindText) and the column's source type says so.
//
// The native JSON encoding (AppendJSON) is the public contract for
// consumers; docs/events.md documents it.
package event
