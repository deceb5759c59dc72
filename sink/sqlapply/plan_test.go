package sqlapply

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

var (
	src    = &event.SourceInfo{Kind: "postgres", ServerID: "7001"}
	schema = &event.TableSchema{Table: event.TableID{Namespace: "public", Name: "t"}, Version: 1, Columns: []event.Column{
		{Name: "id", Kind: event.KindInt, Key: true}, {Name: "a", Kind: event.KindString}, {Name: "b", Kind: event.KindString},
		{Name: "g", Kind: event.KindInt}}}
)

// target is the target table of schema: a generated column g and the
// version column.
func target(s Strategy) *Table {
	t, err := NewTable(event.TableID{Namespace: "public", Name: "t"}, []Column{
		{Name: "id"}, {Name: "a"}, {Name: "b"}, {Name: "g", Generated: true}, {Name: VersionColumn}}, []string{"id"})
	if err != nil {
		panic(err)
	}
	t.Strategy = s
	return t
}

// ev builds an event: op, key, then column=value pairs ("-" after an
// update's name lists unchanged columns is not needed: absent columns are
// simply not sent).
func ev(op event.Op, pos int, id int64, kv ...string) *event.Event {
	e := &event.Event{Op: op, Table: schema.Table, Schema: schema, Source: src,
		Pos: event.Position{Commit: uint64(pos)}, Tx: event.TxInfo{CommitTime: time.Unix(int64(pos), 0)}}
	e.Key = event.Row{{Name: "id", Value: event.Int(id)}}
	if op == event.OpDelete {
		e.Before = e.Key
		return e
	}
	e.After = event.Row{{Name: "id", Value: event.Int(id)}}
	for i := 0; i < len(kv); i += 2 {
		e.After = append(e.After, event.Field{Name: kv[i], Value: event.String(kv[i+1])})
	}
	return e
}

// render describes steps compactly: "U(insert a,b) 1:x,y 2:p,q | D(delete) 3".
func render(t *Table, steps []*Step) string {
	var parts []string
	for _, st := range steps {
		var b strings.Builder
		switch st.Kind {
		case StepTruncate:
			parts = append(parts, "T")
			continue
		case StepUpsert:
			var cols []string
			for _, c := range st.Cols {
				cols = append(cols, t.Columns[c].Name)
			}
			fmt.Fprintf(&b, "U(%s %s)", className(st.Class), strings.Join(cols, ","))
		case StepDelete:
			fmt.Fprintf(&b, "D(%s)", className(st.Class))
		}
		for _, r := range st.Rows {
			fmt.Fprintf(&b, " %d", r.Key[0].Int())
			if st.Kind == StepUpsert {
				var vs []string
				for _, v := range r.Vals[1:] {
					vs = append(vs, v.Str())
				}
				fmt.Fprintf(&b, ":%s", strings.Join(vs, ","))
			}
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " | ")
}

func className(c Class) string {
	return map[Class]string{ClassInsert: "insert", ClassRead: "read", ClassUpdate: "update", ClassDelete: "delete"}[c]
}

func planOf(t *Table, maxRows int, events ...*event.Event) ([]*Step, []Rejected) {
	tables := make([]*Table, len(events))
	for i := range tables {
		tables[i] = t
	}
	return plan(events, tables, maxRows, true)
}

func TestPlanMergesPerKeyAndKeepsTheSequentialResult(t *testing.T) {
	I, U, D := event.OpInsert, event.OpUpdate, event.OpDelete
	for _, tc := range []struct {
		name     string
		strategy Strategy
		events   []*event.Event
		want     string
	}{
		{"independent keys group by class", SourceWins,
			[]*event.Event{ev(I, 1, 1, "a", "x", "b", "y"), ev(U, 2, 2, "a", "p", "b", "q"), ev(I, 3, 3, "a", "r", "b", "s"), ev(D, 4, 4)},
			"D(delete) 4 | U(insert id,a,b) 1:x,y 3:r,s | U(update id,a,b) 2:p,q"},
		{"insert update delete ends deleted, absence expected", SourceWins,
			[]*event.Event{ev(I, 1, 1, "a", "x", "b", "y"), ev(U, 2, 1, "a", "z", "b", "y"), ev(D, 3, 1)},
			"D(insert) 1"},
		{"updates fold, unsent columns kept from earlier events", SourceWins,
			[]*event.Event{ev(U, 1, 1, "a", "x", "b", "y"), ev(U, 2, 1, "a", "z")},
			"U(update id,a,b) 1:z,y"},
		{"partial updates of different columns are separate shapes", SourceWins,
			[]*event.Event{ev(U, 1, 1, "a", "x"), ev(U, 2, 2, "b", "y"), ev(U, 3, 3, "a", "z", "b", "w")},
			"U(update id,a) 1:x | U(update id,b) 2:y | U(update id,a,b) 3:z,w"},
		{"a write after a delete waits for the delete", SourceWins,
			[]*event.Event{ev(D, 1, 1), ev(I, 2, 1, "a", "x", "b", "y"), ev(I, 3, 2, "a", "p", "b", "q")},
			"D(delete) 1 | U(insert id,a,b) 1:x,y 2:p,q"},
		{"target_wins keeps the first write", TargetWins,
			[]*event.Event{ev(I, 1, 1, "a", "x", "b", "y"), ev(U, 2, 1, "a", "z", "b", "w")},
			"U(insert id,a,b) 1:x,y"},
		{"error strategy never folds", ErrorOnConflict,
			[]*event.Event{ev(I, 1, 1, "a", "x", "b", "y"), ev(U, 2, 1, "a", "z", "b", "w")},
			"U(insert id,a,b) 1:x,y | U(update id,a,b) 1:z,w"},
		{"newer_wins drops an older event", NewerWins,
			[]*event.Event{ev(I, 5, 1, "a", "new", "b", "y"), ev(U, 3, 1, "a", "old", "b", "y"), ev(D, 2, 1)},
			"U(insert id,a,b) 1:new,y"},
		{"truncate erases what is pending", SourceWins,
			[]*event.Event{ev(I, 1, 1, "a", "x", "b", "y"), {Op: event.OpTruncate, Table: schema.Table, Schema: schema}, ev(I, 3, 2, "a", "p", "b", "q")},
			"T | U(insert id,a,b) 2:p,q"},
		{"generated columns are not written", SourceWins,
			[]*event.Event{func() *event.Event {
				e := ev(I, 1, 1, "a", "x", "b", "y")
				e.After = append(e.After, event.Field{Name: "g", Value: event.Int(9)})
				return e
			}()},
			"U(insert id,a,b) 1:x,y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := target(tc.strategy)
			steps, rej := planOf(tb, 100, tc.events...)
			if len(rej) > 0 {
				t.Fatalf("rejected %v", rej[0].Err)
			}
			if got := render(tb, steps); got != tc.want {
				t.Errorf("steps\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPlanSplitsKeyChangesIntoDeleteAndInsert(t *testing.T) {
	tb := target(SourceWins)
	move := func(pos int, from, to int64) *event.Event {
		e := ev(event.OpUpdate, pos, to, "a", fmt.Sprint(from), "b", "-")
		e.Before = event.Row{{Name: "id", Value: event.Int(from)}}
		return e
	}
	// Swap 1 and 2 through 3: the insert of 1 must wait for the delete of
	// 1, and 3 is deleted after it was inserted.
	steps, _ := planOf(tb, 100, move(1, 1, 3), move(2, 2, 1), move(3, 3, 2))
	want := "D(delete) 1 2 | U(insert id,a,b) 3:1,- | D(delete) 3 | U(insert id,a,b) 1:2,- 2:3,-"
	if got := render(tb, steps); got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
}

func TestPlanChunksStepsAndRejectsEventsWithoutKey(t *testing.T) {
	tb := target(SourceWins)
	var evs []*event.Event
	for i := range 5 {
		evs = append(evs, ev(event.OpInsert, i+1, int64(i), "a", "x", "b", "y"))
	}
	bad := ev(event.OpDelete, 9, 1)
	bad.Key, bad.Before = nil, nil
	steps, rej := planOf(tb, 2, append(evs, bad)...)
	if len(steps) != 3 || len(steps[0].Rows) != 2 || len(steps[2].Rows) != 1 {
		t.Errorf("steps %s", render(tb, steps))
	}
	if len(rej) != 1 || rej[0].Event != bad || !strings.Contains(rej[0].Err.Error(), `key column "id"`) {
		t.Errorf("rejected %+v", rej)
	}
}

func TestPlanCarriesVersionsOnlyWhereNeeded(t *testing.T) {
	e := ev(event.OpInsert, 1, 1, "a", "x", "b", "y")
	steps, _ := planOf(target(SourceWins), 10, e)
	if v := steps[0].Rows[0].Version; v != Version(e) {
		t.Errorf("a table with the version column gets version %q", v)
	}
	noVersion, _ := NewTable(schema.Table, []Column{{Name: "id"}, {Name: "a"}, {Name: "b"}}, []string{"id"})
	noVersion.Strategy = SourceWins
	steps, _ = planOf(noVersion, 10, e)
	if v := steps[0].Rows[0].Version; v != "" {
		t.Errorf("a source_wins table without the version column gets version %q", v)
	}
}

func TestVersionOrdersByCommitTimeThenServerThenPosition(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	e := &event.Event{Source: &event.SourceInfo{ServerID: "7001"}, Pos: event.Position{Commit: 0x1A2B, Index: 3}, Tx: event.TxInfo{CommitTime: at}}
	if got, want := Version(e), "20260102T030405.123456Z/7001/0000000000001A2B/00000003"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
	later := *e
	later.Tx.CommitTime = at.Add(time.Microsecond)
	laterPos := *e
	laterPos.Pos.Index = 4
	otherServer := *e
	otherServer.Source = &event.SourceInfo{ServerID: "7002"}
	unknown := *e
	unknown.Tx.CommitTime = time.Time{}
	for _, c := range []struct {
		name         string
		older, newer *event.Event
	}{{"commit time", e, &later}, {"position", e, &laterPos}, {"server id", e, &otherServer}, {"unknown commit time", &unknown, e}} {
		if !(Version(c.older) < Version(c.newer)) {
			t.Errorf("%s: %s not before %s", c.name, Version(c.older), Version(c.newer))
		}
	}
}

func TestDecide(t *testing.T) {
	const v = "2"
	absent, older, same, newer, unversioned := Found{}, Found{Exists: true, Version: "1"}, Found{Exists: true, Version: v},
		Found{Exists: true, Version: "3"}, Found{Exists: true}
	buried := Found{Tomb: "3"}
	for _, c := range []struct {
		s       Strategy
		om      OnMissing
		k       StepKind
		c       Class
		f       Found
		act     action
		outcome string
	}{
		{SourceWins, MissingUpsert, StepUpsert, ClassInsert, absent, actWrite, ""},
		{SourceWins, MissingUpsert, StepUpsert, ClassInsert, newer, actWrite, OutcomeOverwritten},
		{SourceWins, MissingUpsert, StepUpsert, ClassUpdate, absent, actWrite, OutcomeUpserted},
		{SourceWins, MissingSkip, StepUpsert, ClassUpdate, absent, actSkip, OutcomeSkipped},
		{SourceWins, MissingError, StepUpsert, ClassUpdate, absent, actError, OutcomeError},
		{SourceWins, MissingUpsert, StepDelete, ClassDelete, absent, actSkip, OutcomeSkipped},
		{SourceWins, MissingError, StepDelete, ClassDelete, absent, actError, OutcomeError},
		{SourceWins, MissingError, StepDelete, ClassInsert, absent, actSkip, ""},
		{SourceWins, MissingUpsert, StepUpsert, ClassRead, newer, actWrite, ""},
		{NewerWins, MissingUpsert, StepUpsert, ClassUpdate, older, actWrite, ""},
		{NewerWins, MissingUpsert, StepUpsert, ClassUpdate, unversioned, actWrite, ""},
		{NewerWins, MissingUpsert, StepUpsert, ClassUpdate, same, actSkip, OutcomeKept},
		{NewerWins, MissingUpsert, StepUpsert, ClassInsert, older, actWrite, OutcomeOverwritten},
		{NewerWins, MissingUpsert, StepUpsert, ClassInsert, buried, actSkip, OutcomeKept},
		{NewerWins, MissingUpsert, StepDelete, ClassDelete, newer, actSkip, OutcomeKept},
		{TargetWins, MissingUpsert, StepUpsert, ClassUpdate, older, actSkip, OutcomeKept},
		{TargetWins, MissingUpsert, StepUpsert, ClassUpdate, absent, actWrite, OutcomeUpserted},
		{TargetWins, MissingUpsert, StepDelete, ClassDelete, older, actWrite, ""},
		{ErrorOnConflict, MissingUpsert, StepUpsert, ClassInsert, older, actError, OutcomeError},
		{ErrorOnConflict, MissingUpsert, StepUpsert, ClassUpdate, older, actWrite, ""},
		{ErrorOnConflict, MissingUpsert, StepUpsert, ClassUpdate, newer, actError, OutcomeError},
		{ErrorOnConflict, MissingUpsert, StepDelete, ClassDelete, same, actError, OutcomeError},
	} {
		act, outcome := decide(c.s, c.om, c.k, c.c, c.f, v)
		if act != c.act || outcome != c.outcome {
			t.Errorf("decide(%s, %s, kind %d, %s, %+v) = %d %q, want %d %q", c.s, c.om, c.k, className(c.c), c.f, act, outcome, c.act, c.outcome)
		}
	}
}

func TestConflictRules(t *testing.T) {
	c := Conflict{Default: NewerWins, Rules: []Rule{
		{Tables: []string{"audit.*"}, Strategy: TargetWins},
		{Tables: []string{"public.order?", "public.x"}, Strategy: ErrorOnConflict},
	}}
	c.setDefaults()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]Strategy{"audit.log": TargetWins, "public.orders": ErrorOnConflict,
		"public.order": NewerWins, "public.x": ErrorOnConflict, "shop.items": NewerWins} {
		ns, name, _ := strings.Cut(table, ".")
		if got := c.For(event.TableID{Namespace: ns, Name: name}); got != want {
			t.Errorf("For(%s) = %s, want %s", table, got, want)
		}
	}
	if !c.Uses(TargetWins) || c.Uses(SourceWins) {
		t.Errorf("Uses")
	}
	bad := Conflict{Default: "newest", OnMissing: "ignore", Rules: []Rule{{Tables: []string{"nodot"}, Strategy: SourceWins}}}
	err := bad.validate()
	for _, want := range []string{`"newest"`, `"ignore"`, `"nodot"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want it to mention %s", err, want)
		}
	}
}

func TestTargetID(t *testing.T) {
	e := &event.Event{Table: event.TableID{Namespace: "shop", Name: "orders"}}
	m := map[string]string{"shop": "replica"}
	for topic, want := range map[string]string{"": "replica.orders", "renamed": "replica.renamed", "other.t": "other.t"} {
		e.Topic = topic
		if got := TargetID(e, m).String(); got != want {
			t.Errorf("TargetID(topic %q) = %s, want %s", topic, got, want)
		}
	}
}
