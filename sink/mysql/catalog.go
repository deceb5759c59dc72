package mysql

import (
	"context"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// versionType is the type of the version column: ASCII compared byte by
// byte, so that versions order as their text.
const versionType = "VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin"

// Describe implements sqlapply.Catalog.
func (c *conn) Describe(ctx context.Context, id event.TableID) (*sqlapply.Table, error) {
	where := ` WHERE TABLE_SCHEMA = ` + string(appendString(nil, id.Namespace)) + ` AND TABLE_NAME = ` + string(appendString(nil, id.Name))
	r, err := c.exec(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, COALESCE(COLLATION_NAME, ''), EXTRA, IS_NULLABLE
		FROM information_schema.COLUMNS`+where+` ORDER BY ORDINAL_POSITION`)
	if err != nil {
		return nil, err
	}
	var (
		cols    []sqlapply.Column
		notNull = map[string]bool{}
	)
	for i := 0; i < r.RowNumber(); i++ {
		get := func(j int) string { s, _ := getString(r, i, j); return s }
		extra := strings.ToUpper(get(4))
		col := sqlapply.Column{
			Name: get(0), Type: get(1), JSON: strings.EqualFold(get(2), "json"), Collation: get(3),
			Generated: strings.Contains(extra, "VIRTUAL GENERATED") || strings.Contains(extra, "STORED GENERATED") ||
				strings.Contains(extra, "PERSISTENT GENERATED"),
		}
		notNull[col.Name] = get(5) == "NO"
		cols = append(cols, col)
	}
	r.Close()
	if len(cols) == 0 {
		return nil, nil
	}
	// The primary key, else the first unique index over whole NOT NULL
	// columns.
	r, err = c.exec(ctx, `SELECT INDEX_NAME, COLUMN_NAME, SUB_PART IS NULL FROM information_schema.STATISTICS`+where+
		` AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return nil, err
	}
	type index struct {
		name   string
		cols   []string
		usable bool
	}
	var indexes []*index
	for i := 0; i < r.RowNumber(); i++ {
		name, _ := getString(r, i, 0)
		col, _ := getString(r, i, 1)
		whole, _ := r.GetInt(i, 2)
		if len(indexes) == 0 || indexes[len(indexes)-1].name != name {
			indexes = append(indexes, &index{name: name, usable: true})
		}
		ix := indexes[len(indexes)-1]
		ix.cols = append(ix.cols, col)
		ix.usable = ix.usable && whole == 1 && (name == "PRIMARY" || notNull[col])
	}
	r.Close()
	var key []string
	for _, ix := range indexes {
		if ix.usable {
			key = ix.cols
			break
		}
	}
	return sqlapply.NewTable(id, cols, key)
}

// CreateTable implements sqlapply.Catalog.
func (c *conn) CreateTable(ctx context.Context, id event.TableID, schema *event.TableSchema, source string, version bool) error {
	if id.Namespace != "" {
		if err := c.ensureDatabase(ctx, id.Namespace); err != nil {
			return err
		}
	}
	var defs, keys []string
	for _, col := range schema.Columns {
		def := quote(col.Name) + " " + sqlapply.MySQLType(col, source, col.Key)
		if col.Key {
			def += " NOT NULL"
			keys = append(keys, quote(col.Name))
		} else {
			def += " NULL"
		}
		defs = append(defs, def)
	}
	if version {
		defs = append(defs, quote(sqlapply.VersionColumn)+" "+versionType+" NULL")
	}
	defs = append(defs, "PRIMARY KEY ("+strings.Join(keys, ", ")+")")
	_, err := c.run(ctx, "CREATE TABLE "+qualified(id)+" (\n\t"+strings.Join(defs, ",\n\t")+
		"\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	return err
}

// AddColumns implements sqlapply.Catalog.
func (c *conn) AddColumns(ctx context.Context, t *sqlapply.Table, cols []event.Column, source string, version bool) error {
	var defs []string
	for _, col := range cols {
		defs = append(defs, "ADD COLUMN "+quote(col.Name)+" "+sqlapply.MySQLType(col, source, false)+" NULL")
	}
	if version {
		defs = append(defs, "ADD COLUMN "+quote(sqlapply.VersionColumn)+" "+versionType+" NULL")
	}
	if len(defs) == 0 {
		return nil
	}
	_, err := c.run(ctx, "ALTER TABLE "+qualified(t.ID)+" "+strings.Join(defs, ", "))
	return err
}
