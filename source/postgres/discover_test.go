package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// published reports whether the publication covers public.<table>.
func published(t *testing.T, f *fixture, pub, table string) bool {
	t.Helper()
	var ok bool
	if err := f.conn().QueryRow(context.Background(),
		`SELECT EXISTS (SELECT FROM pg_publication_tables WHERE pubname = $1 AND schemaname = 'public' AND tablename = $2)`, pub, table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestNewTableMatchingAPatternIsCapturedFromWhenThePublicationCoversIt(t *testing.T) {
	f := newFixture(t, `CREATE TABLE orders (id int PRIMARY KEY)`)
	src := f.open(f.options("public.order*"), nil)
	pub := src.Options().Publication

	// Written before the publication covers the table: not captured.
	f.exec(`CREATE TABLE order_items (id int PRIMARY KEY); INSERT INTO order_items VALUES (1)`)
	// A transaction that started before, and writes both before and after.
	early := f.conn()
	ctx := context.Background()
	tx, err := early.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO order_items VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	f.exec(`CREATE TABLE other (id int PRIMARY KEY); CREATE TABLE order_notes (v text)`)
	checkFor(t, 10*time.Second, "order_items is added to the publication", func() bool { return published(t, f, pub, "order_items") })
	if _, err := tx.Exec(ctx, `INSERT INTO order_items VALUES (3)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO order_items VALUES (4)`)
	f.exec(`INSERT INTO orders VALUES (5)`)

	var got []int64
	var tables []string
	for len(got) < 3 {
		for _, e := range read(t, src).Events {
			v, _ := e.After.Get("id")
			got = append(got, v.Int())
			tables = append(tables, e.Table.Name)
		}
	}
	readNothing(t, src, 300*time.Millisecond)
	if !equalInts(got, []int64{3, 4, 5}) || tables[0] != "order_items" || tables[2] != "orders" {
		t.Errorf("captured ids %v of tables %v, want 3 and 4 of order_items (written after the publication covered it), then 5 of orders", got, tables)
	}
	if published(t, f, pub, "other") {
		t.Error("a table that matches no pattern was added to the publication")
	}
	// Without a key, publishing it would make its updates fail: it waits.
	if published(t, f, pub, "order_notes") {
		t.Error("a new table without replica identity was published under missing_identity: error")
	}
	f.exec(`ALTER TABLE order_notes REPLICA IDENTITY FULL`)
	checkFor(t, 10*time.Second, "order_notes is added once it has an identity", func() bool { return published(t, f, pub, "order_notes") })
	f.exec(`INSERT INTO order_notes VALUES ('x')`)
	e := read(t, src).Events[0]
	if e.Table != (event.TableID{Namespace: "public", Name: "order_notes"}) {
		t.Errorf("event of %v", e.Table)
	}
}
