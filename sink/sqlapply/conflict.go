package sqlapply

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// Strategy decides what happens when a target row disagrees with an event
// (see the package doc, "Conflict rules").
type Strategy string

// The strategies.
const (
	// SourceWins upserts: the event overwrites whatever the row holds.
	SourceWins Strategy = "source_wins"
	// NewerWins applies an event only if it is newer than the row, by the
	// version column cdcd maintains in the target.
	NewerWins Strategy = "newer_wins"
	// TargetWins inserts missing rows and never overwrites an existing one.
	TargetWins Strategy = "target_wins"
	// ErrorOnConflict stops the pipeline with a *ConflictError.
	ErrorOnConflict Strategy = "error"
)

func (s Strategy) valid() bool {
	switch s {
	case SourceWins, NewerWins, TargetWins, ErrorOnConflict:
		return true
	}
	return false
}

// versioned reports whether the strategy needs the version column.
func (s Strategy) versioned() bool { return s == NewerWins || s == ErrorOnConflict }

// OnMissing decides what an update or a delete of a row that is absent
// from the target does.
type OnMissing string

// The on-missing actions.
const (
	// MissingUpsert inserts the row an update found missing (with the
	// columns the update carries); a delete of a missing row does nothing.
	MissingUpsert OnMissing = "upsert"
	// MissingSkip skips the event.
	MissingSkip OnMissing = "skip"
	// MissingError stops the pipeline with a *MissingRowError.
	MissingError OnMissing = "error"
)

// Rule applies Strategy to the tables matching any of Tables.
type Rule struct {
	// Tables are "schema.table" patterns of target tables; each side of
	// the dot is matched on its own, '*' matches any run of characters and
	// '?' one character.
	Tables []string
	// Strategy is the rule's strategy.
	Strategy Strategy
}

// Conflict configures the conflict rules of a replica sink. The zero
// value is source_wins with on_missing upsert.
type Conflict struct {
	// Default is the strategy of tables no rule matches. Default SourceWins.
	Default Strategy
	// OnMissing is what updates and deletes of absent rows do. Default
	// MissingUpsert.
	OnMissing OnMissing
	// Rules override Default; the first rule with a matching pattern wins.
	Rules []Rule
}

func (c *Conflict) setDefaults() {
	if c.Default == "" {
		c.Default = SourceWins
	}
	if c.OnMissing == "" {
		c.OnMissing = MissingUpsert
	}
}

func (c *Conflict) validate() error {
	var errs []error
	if !c.Default.valid() {
		errs = append(errs, fmt.Errorf("conflict default %q: want source_wins, newer_wins, target_wins or error", c.Default))
	}
	switch c.OnMissing {
	case MissingUpsert, MissingSkip, MissingError:
	default:
		errs = append(errs, fmt.Errorf("on_missing %q: want upsert, skip or error", c.OnMissing))
	}
	for i, r := range c.Rules {
		if !r.Strategy.valid() {
			errs = append(errs, fmt.Errorf("conflict rule %d: strategy %q: want source_wins, newer_wins, target_wins or error", i+1, r.Strategy))
		}
		if len(r.Tables) == 0 {
			errs = append(errs, fmt.Errorf("conflict rule %d: no tables", i+1))
		}
		for _, p := range r.Tables {
			ns, name, ok := strings.Cut(p, ".")
			if !ok || ns == "" || name == "" || strings.Contains(name, ".") {
				errs = append(errs, fmt.Errorf("conflict rule %d: table pattern %q: want \"schema.table\"", i+1, p))
			}
		}
	}
	return errors.Join(errs...)
}

// For returns the strategy of target table t.
func (c *Conflict) For(t event.TableID) Strategy {
	for _, r := range c.Rules {
		for _, p := range r.Tables {
			if matchTable(p, t) {
				return r.Strategy
			}
		}
	}
	if c.Default == "" {
		return SourceWins
	}
	return c.Default
}

// Uses reports whether any table may get strategy s.
func (c *Conflict) Uses(s Strategy) bool {
	if c.Default == s || (c.Default == "" && s == SourceWins) {
		return true
	}
	for _, r := range c.Rules {
		if r.Strategy == s {
			return true
		}
	}
	return false
}

// matchTable matches "schema.table" pattern p against t (see Rule.Tables).
func matchTable(p string, t event.TableID) bool { return event.MatchTable(p, t) }

// Outcomes of conflicts, as counted through Observer.Conflict.
const (
	// OutcomeOverwritten: an insert found the row present and replaced it
	// (source_wins, or newer_wins with a newer event).
	OutcomeOverwritten = "overwritten"
	// OutcomeKept: the target row was kept and the event not applied
	// (target_wins, or newer_wins with an event not newer than the row or
	// than the tombstone of a newer delete).
	OutcomeKept = "kept"
	// OutcomeUpserted: an update found its row missing and inserted it
	// (on_missing upsert).
	OutcomeUpserted = "upserted"
	// OutcomeSkipped: an update or delete found its row missing and did
	// nothing (on_missing skip, or a delete with on_missing upsert).
	OutcomeSkipped = "skipped"
	// OutcomeError: the conflict stopped the pipeline (strategy error,
	// on_missing error).
	OutcomeError = "error"
	// OutcomeDeadLetter: the event failed for a data reason and went to
	// the dead-letter table.
	OutcomeDeadLetter = "dead_letter"
)

// Observer is told about conflict outcomes, for metrics. Conflict is
// called from the sink's goroutine after the target transaction holding
// the outcomes committed, with n ≥ 1 outcomes at once; it must not block.
// table is the target table ("schema.table").
type Observer interface {
	Conflict(table, strategy, outcome string, n int)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(table, strategy, outcome string, n int)

// Conflict calls f.
func (f ObserverFunc) Conflict(table, strategy, outcome string, n int) {
	f(table, strategy, outcome, n)
}

// tallyKey identifies one counter of a tally.
type tallyKey struct {
	table    string
	strategy Strategy
	outcome  string
}

// tally counts outcomes until the transaction holding them commits.
type tally map[tallyKey]int

func (t tally) add(table string, s Strategy, outcome string, n int) {
	if n > 0 && outcome != "" {
		t[tallyKey{table, s, outcome}] += n
	}
}

func (t tally) merge(o tally) {
	for k, n := range o {
		t[k] += n
	}
}

func (t tally) report(o Observer) {
	if o == nil {
		return
	}
	for k, n := range t {
		o.Conflict(k.table, string(k.strategy), k.outcome, n)
	}
}

// action is what to do with one row.
type action uint8

const (
	actWrite action = iota
	actSkip
	actError
)

// decide returns what to do with a row of a step of kind k whose first
// event has class c, when the target holds f, and the conflict outcome to
// count ("" when there was no conflict). version is the row's event
// version.
func decide(s Strategy, om OnMissing, k StepKind, c Class, f Found, version string) (action, string) {
	if !f.Exists {
		if k == StepDelete {
			switch {
			case c == ClassInsert || c == ClassRead:
				return actSkip, "" // inserted and deleted again in this window
			case om == MissingError:
				return actError, OutcomeError
			}
			return actSkip, OutcomeSkipped
		}
		buried := s == NewerWins && f.Tomb != "" && f.Tomb >= version
		if c == ClassUpdate {
			switch om {
			case MissingSkip:
				return actSkip, OutcomeSkipped
			case MissingError:
				return actError, OutcomeError
			}
			if buried {
				return actSkip, OutcomeKept
			}
			return actWrite, OutcomeUpserted
		}
		if buried {
			return actSkip, OutcomeKept
		}
		return actWrite, ""
	}
	newer := f.Version == "" || f.Version < version
	switch s {
	case NewerWins:
		if !newer {
			return actSkip, OutcomeKept
		}
	case TargetWins:
		if k == StepDelete {
			return actWrite, ""
		}
		return actSkip, OutcomeKept
	case ErrorOnConflict:
		if !newer || (k == StepUpsert && c == ClassInsert) {
			return actError, OutcomeError
		}
		return actWrite, ""
	}
	if k == StepUpsert && c == ClassInsert {
		return actWrite, OutcomeOverwritten
	}
	return actWrite, ""
}
