package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// colNames returns the names of a schema's columns, with the key marked *.
func colNames(s *event.TableSchema) string {
	var out []string
	for _, c := range s.Columns {
		n := c.Name + ":" + c.Type
		if c.Key {
			n = "*" + n
		}
		out = append(out, n)
	}
	return strings.Join(out, " ")
}

func TestAlterTableBetweenInsertsAndAReplayFromBeforeIt(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY, a varchar(10), b int)`)
	opts := f.options("t")
	src := f.open(opts, nil)
	steps := []struct {
		ddl, insert string
		version     uint64
		cols        string
		after       event.Row
	}{
		{"", `INSERT INTO t VALUES (1, 'x', 1)`, 1, "*id:int(11) a:varchar(10) b:int(11)",
			row("id", event.Int(1), "a", event.String("x"), "b", event.Int(1))},
		{`ALTER TABLE t ADD COLUMN c decimal(5,2) NOT NULL DEFAULT 0 AFTER id`, `INSERT INTO t VALUES (2, 1.5, 'y', 2)`, 2,
			"*id:int(11) c:decimal(5,2) a:varchar(10) b:int(11)",
			row("id", event.Int(2), "c", event.Decimal("1.50"), "a", event.String("y"), "b", event.Int(2))},
		{`ALTER TABLE t DROP COLUMN b`, `INSERT INTO t VALUES (3, 2.5, 'z')`, 3, "*id:int(11) c:decimal(5,2) a:varchar(10)",
			row("id", event.Int(3), "c", event.Decimal("2.50"), "a", event.String("z"))},
		{`ALTER TABLE t RENAME COLUMN a TO name`, `INSERT INTO t VALUES (4, 3.5, 'w')`, 4, "*id:int(11) c:decimal(5,2) name:varchar(10)",
			row("id", event.Int(4), "c", event.Decimal("3.50"), "name", event.String("w"))},
		{`ALTER TABLE t MODIFY name varchar(20) CHARACTER SET latin1 FIRST`, `INSERT INTO t VALUES ('é', 5, 4.5)`, 5,
			"name:varchar(20) *id:int(11) c:decimal(5,2)",
			row("name", event.String("é"), "id", event.Int(5), "c", event.Decimal("4.50"))},
		{`ALTER TABLE t CHANGE c cost bigint unsigned, ADD COLUMN flag bit(1)`, `INSERT INTO t VALUES ('v', 6, 18446744073709551615, 1)`, 6,
			"name:varchar(20) *id:int(11) cost:bigint(20) unsigned flag:bit(1)",
			row("name", event.String("v"), "id", event.Int(6), "cost", event.Uint(1<<64-1), "flag", event.Bool(true))},
		{`ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (name, id)`, `INSERT INTO t VALUES ('k', 7, 0, 0)`, 7,
			"*name:varchar(20) *id:int(11) cost:bigint(20) unsigned flag:bit(1)",
			row("name", event.String("k"), "id", event.Int(7), "cost", event.Uint(0), "flag", event.Bool(false))},
	}
	var first []event.Event
	var before *event.Checkpoint
	for i, s := range steps {
		if s.ddl != "" {
			f.exec(s.ddl)
		}
		f.exec(s.insert)
		b := read(t, src)
		e := b.Events[0]
		if e.Schema.Version != s.version || colNames(e.Schema) != s.cols {
			t.Errorf("step %d: schema v%d %s, want v%d %s", i, e.Schema.Version, colNames(e.Schema), s.version, s.cols)
		}
		wantRow(t, "after", e.After, s.after)
		first = append(first, e)
		if i == 0 {
			cp := b.Checkpoint
			before = &cp
		}
	}
	src.Close()

	// The live table has the newest shape; a replay from before the first
	// ALTER must decode every row with the shape in force at its position.
	src = f.open(opts, before)
	for i := 1; i < len(steps); i++ {
		e := read(t, src).Events[0]
		if e.Pos != first[i].Pos || e.Schema.Version != first[i].Schema.Version ||
			colNames(e.Schema) != colNames(first[i].Schema) || !e.After.Equal(first[i].After) {
			t.Errorf("replayed step %d: %s v%d %s %v, first read %s v%d %s %v", i, e.Pos, e.Schema.Version, colNames(e.Schema), e.After,
				first[i].Pos, first[i].Schema.Version, colNames(first[i].Schema), first[i].After)
		}
	}
}

func TestCreatedRenamedTruncatedAndDroppedTables(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t1 (id int PRIMARY KEY)`)
	opts := f.options("t*")
	src := f.open(opts, nil)

	f.exec(`CREATE TABLE t2 (id int PRIMARY KEY, j json)`)
	f.exec(`INSERT INTO t2 VALUES (1, '[1]')`)
	e := read(t, src).Events[0]
	if e.Table.Name != "t2" || e.Schema.Version != 1 || colNames(e.Schema) != "*id:int(11) j:json" {
		t.Errorf("new table: %s v%d %s", e.Table, e.Schema.Version, colNames(e.Schema))
	}
	wantRow(t, "new table row", e.After, row("id", event.Int(1), "j", event.JSON("[1]")))

	f.exec(`RENAME TABLE t2 TO t3`)
	f.exec(`INSERT INTO t3 VALUES (2, '{}')`)
	e = read(t, src).Events[0]
	if e.Table.Name != "t3" || colNames(e.Schema) != "*id:int(11) j:json" {
		t.Errorf("renamed table: %s %s", e.Table, colNames(e.Schema))
	}
	f.exec(`RENAME TABLE t3 TO other`)
	f.exec(`INSERT INTO other VALUES (3, '{}')`)

	f.exec(`INSERT INTO t1 VALUES (1)`)
	f.exec(`TRUNCATE TABLE t1`)
	f.exec(`DROP TABLE t1`)
	f.exec(`CREATE TABLE t1 (id bigint PRIMARY KEY, v varchar(3))`)
	f.exec(`INSERT INTO t1 VALUES (9, 'new')`)

	e = read(t, src).Events[0]
	if e.Table.Name != "t1" || e.Op != event.OpInsert {
		t.Fatalf("got %v on %s, want the insert into t1 (other is not captured)", e.Op, e.Table)
	}
	tr := read(t, src).Events[0]
	if tr.Op != event.OpTruncate || tr.Table.Name != "t1" || tr.Before != nil || tr.After != nil {
		t.Errorf("truncate event %+v", tr)
	}
	e = read(t, src).Events[0]
	if e.Table.Name != "t1" || e.Schema.Version != 2 || colNames(e.Schema) != "*id:bigint(20) v:varchar(3)" {
		t.Errorf("re-created table: %s v%d %s", e.Table, e.Schema.Version, colNames(e.Schema))
	}
	wantRow(t, "re-created table row", e.After, row("id", event.Int(9), "v", event.String("new")))
}

func TestUnparsableStatements(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	src := f.open(f.options("t"), nil)
	// The parser does not know MariaDB's compressed columns: a statement
	// about a table that is not captured is skipped and counted...
	f.exec(`CREATE TABLE other (id int PRIMARY KEY, k blob COMPRESSED)`)
	f.exec(`INSERT INTO t VALUES (1)`)
	read(t, src)
	if src.Stats().UnparsedDDL != 1 {
		t.Errorf("stats %+v", src.Stats())
	}
	// ...one about a captured table stops the stream with the statement
	// and its position.
	f.exec(`ALTER TABLE t ADD COLUMN k blob COMPRESSED`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, err := src.Read(ctx)
		if err == nil {
			continue
		}
		var de *DDLError
		if !isPermanent(err) || !errors.As(err, &de) || !strings.Contains(de.Query, "ADD COLUMN k blob COMPRESSED") || de.File == "" || de.At == 0 {
			t.Fatalf("Read = %v, want a permanent DDLError", err)
		}
		if !strings.Contains(err.Error(), "captured table "+f.db+".t") {
			t.Errorf("error does not name the table: %v", err)
		}
		break
	}
}

func TestZeroDatesBecomeNullOrAnError(t *testing.T) {
	f := newFixture(t, `CREATE TABLE z (id int PRIMARY KEY, d date, dt datetime(3), ts timestamp NULL)`)
	insert := func(id int) {
		c := f.m.Connect(t, f.db)
		for _, q := range []string{`SET sql_mode = 'ALLOW_INVALID_DATES'`,
			fmt.Sprintf(`INSERT INTO z VALUES (%d, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00')`, id),
			fmt.Sprintf(`INSERT INTO z VALUES (%d, '2020-00-15', '2020-02-31 10:00:00', NULL)`, id+1)} {
			if _, err := c.Execute(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	opts := f.options("z")
	src := f.open(opts, nil)
	insert(1)
	wantRow(t, "zero dates", read(t, src).Events[0].After, row("id", event.Int(1), "d", event.Null(), "dt", event.Null(), "ts", event.Null()))
	wantRow(t, "invalid dates", read(t, src).Events[0].After, row("id", event.Int(2), "d", event.Null(), "dt", event.Null(), "ts", event.Null()))
	src.Close()

	opts = f.options("z")
	opts.ZeroDate = "error"
	src = f.open(opts, nil)
	insert(3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := src.Read(ctx)
	var de *DecodeError
	if !errors.Is(err, ErrZeroDate) || !errors.As(err, &de) || de.Column != "d" || !isPermanent(err) {
		t.Errorf("Read = %v, want a DecodeError of column d wrapping ErrZeroDate", err)
	}
}
