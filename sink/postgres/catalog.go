package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// castType returns the type a column's text values are cast to: the
// column's type without its modifier (format_type(oid, NULL)), so that
// assigning the result to the column applies the modifier with Postgres's
// checks (an explicit cast to varchar(3) or char(3) would truncate
// silently). Text and varchar take text as it is; character and bit
// without a length mean length 1, so they are cast to their unbounded
// forms bpchar and varbit.
func castType(unmodified, typname string) string {
	switch typname {
	case "text", "varchar":
		return ""
	case "bpchar":
		return "bpchar"
	case "_bpchar":
		return "bpchar[]"
	case "bit":
		return "varbit"
	case "_bit":
		return "varbit[]"
	}
	return unmodified
}

// Describe implements sqlapply.Catalog.
func (c *conn) Describe(ctx context.Context, id event.TableID) (*sqlapply.Table, error) {
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	var oid *uint32
	if err := c.c.QueryRow(ctx, `SELECT to_regclass($1)::oid`, qualified(id)).Scan(&oid); err != nil {
		return nil, err
	}
	if oid == nil {
		return nil, nil
	}
	rows, err := c.c.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL),
			a.attgenerated <> '', a.attidentity = 'a',
			coalesce(bt.typname, t.typname) IN ('json', 'jsonb'), t.typname
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, *oid)
	if err != nil {
		return nil, err
	}
	var cols []sqlapply.Column
	for rows.Next() {
		var (
			col     sqlapply.Column
			typname string
		)
		if err := rows.Scan(&col.Name, &col.Type, &col.Cast, &col.Generated, &col.Identity, &col.JSON, &typname); err != nil {
			rows.Close()
			return nil, err
		}
		col.Cast = castType(col.Cast, typname)
		cols = append(cols, col)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The primary key, else the first unique index ON CONFLICT can use
	// whose columns are all NOT NULL.
	rows, err = c.c.Query(ctx, `SELECT i.indisprimary, array_agg(a.attname::text ORDER BY k.n), bool_and(a.attnotnull)
		FROM pg_catalog.pg_index i
		CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1 AND i.indisunique AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL
		GROUP BY i.indexrelid, i.indisprimary
		ORDER BY i.indisprimary DESC, i.indexrelid`, *oid)
	if err != nil {
		return nil, err
	}
	var key []string
	for rows.Next() {
		var (
			primary, notNull bool
			names            []string
		)
		if err := rows.Scan(&primary, &names, &notNull); err != nil {
			rows.Close()
			return nil, err
		}
		if key == nil && (primary || notNull) {
			key = names
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return sqlapply.NewTable(id, cols, key)
}

// qualified returns the quoted "schema"."table" of id.
func qualified(id event.TableID) string {
	if id.Namespace == "" {
		return pgx.Identifier{id.Name}.Sanitize()
	}
	return pgx.Identifier{id.Namespace, id.Name}.Sanitize()
}

// columnType returns the target type of source column col: the mapping
// of sqlapply.PostgresType, falling back to the kind's type when the
// target does not know the type (an enum or domain of the source).
func (c *conn) columnType(ctx context.Context, col event.Column, source string) (string, error) {
	typ := sqlapply.PostgresType(col, source)
	var ok bool
	err := c.c.QueryRow(ctx, `SELECT to_regtype($1) IS NOT NULL`, typ).Scan(&ok)
	if err != nil {
		// A type name Postgres cannot parse.
		if classify(err) != sqlapply.Transient {
			ok = false
			if _, rerr := c.c.Exec(ctx, "ROLLBACK TO SAVEPOINT cdcd_type"); rerr != nil {
				return "", err
			}
		} else {
			return "", err
		}
	}
	if !ok {
		fb := sqlapply.PostgresKindType(col.Kind)
		if col.Kind == event.KindArray {
			fb = "text"
		}
		c.log.Warn("the target does not know a source column's type; using a stand-in", "column", col.Name, "type", typ, "stand_in", fb)
		return fb, nil
	}
	return typ, nil
}

// columnDefs returns the column definitions for cols.
func (c *conn) columnDefs(ctx context.Context, cols []event.Column, source string) ([]string, error) {
	if _, err := c.c.Exec(ctx, "SAVEPOINT cdcd_type"); err != nil {
		return nil, err
	}
	defs := make([]string, 0, len(cols))
	for _, col := range cols {
		typ, err := c.columnType(ctx, col, source)
		if err != nil {
			return nil, err
		}
		defs = append(defs, pgx.Identifier{col.Name}.Sanitize()+" "+typ)
	}
	if _, err := c.c.Exec(ctx, "RELEASE SAVEPOINT cdcd_type"); err != nil {
		return nil, err
	}
	return defs, nil
}

const versionDef = `"` + sqlapply.VersionColumn + `" text COLLATE "C"`

// CreateTable implements sqlapply.Catalog.
func (c *conn) CreateTable(ctx context.Context, id event.TableID, schema *event.TableSchema, source string, version bool) error {
	if err := c.sync(ctx); err != nil {
		return err
	}
	if id.Namespace != "" {
		if err := c.ensureSchema(ctx, id.Namespace); err != nil {
			return fmt.Errorf("create schema %s: %w", id.Namespace, err)
		}
	}
	defs, err := c.columnDefs(ctx, schema.Columns, source)
	if err != nil {
		return err
	}
	if version {
		defs = append(defs, versionDef)
	}
	keys := schema.KeyNames()
	for i, k := range keys {
		keys[i] = pgx.Identifier{k}.Sanitize()
	}
	defs = append(defs, "PRIMARY KEY ("+strings.Join(keys, ", ")+")")
	_, err = c.c.Exec(ctx, "CREATE TABLE "+qualified(id)+" (\n\t"+strings.Join(defs, ",\n\t")+"\n)")
	return err
}

// AddColumns implements sqlapply.Catalog.
func (c *conn) AddColumns(ctx context.Context, t *sqlapply.Table, cols []event.Column, source string, version bool) error {
	if err := c.sync(ctx); err != nil {
		return err
	}
	defs, err := c.columnDefs(ctx, cols, source)
	if err != nil {
		return err
	}
	if version {
		defs = append(defs, versionDef)
	}
	if len(defs) == 0 {
		return nil
	}
	for i := range defs {
		defs[i] = "ADD COLUMN IF NOT EXISTS " + defs[i]
	}
	_, err = c.c.Exec(ctx, "ALTER TABLE "+qualified(t.ID)+" "+strings.Join(defs, ", "))
	return err
}
