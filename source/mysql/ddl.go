package mysql

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	tmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"

	// The parser needs a driver for literal values (column defaults).
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// queryKind classifies the statement of a QueryEvent.
type queryKind uint8

const (
	qOther    queryKind = iota // cannot change a captured table's rows or shape
	qBegin                     // BEGIN, START TRANSACTION
	qCommit                    // COMMIT
	qRollback                  // ROLLBACK (not ROLLBACK TO SAVEPOINT)
	qXA                        // XA …
	qDDL                       // CREATE/ALTER/DROP TABLE or DATABASE, RENAME TABLE, TRUNCATE
	qDML                       // INSERT, UPDATE, DELETE, REPLACE, LOAD DATA: a statement-based change
)

// classifyQuery looks at the first keywords of q, skipping comments (and
// entering MySQL's executable /*! … */ comments).
func classifyQuery(q []byte) queryKind {
	w := leadingWords(q, 4)
	if len(w) == 0 {
		return qOther
	}
	at := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch w[0] {
	case "BEGIN":
		return qBegin
	case "START":
		if at(1) == "TRANSACTION" {
			return qBegin
		}
	case "COMMIT":
		return qCommit
	case "ROLLBACK":
		if at(1) == "" || at(1) == "WORK" {
			return qRollback
		}
	case "XA":
		return qXA
	case "CREATE":
		i := 1
		if at(i) == "OR" && at(i+1) == "REPLACE" {
			i += 2
		}
		if at(i) == "TEMPORARY" {
			return qOther // temporary tables are never captured
		}
		switch at(i) {
		case "TABLE", "DATABASE", "SCHEMA":
			return qDDL
		}
	case "ALTER":
		i := 1
		for at(i) == "ONLINE" || at(i) == "IGNORE" {
			i++
		}
		switch at(i) {
		case "TABLE", "DATABASE", "SCHEMA":
			return qDDL
		}
	case "DROP":
		switch at(1) {
		case "TABLE", "DATABASE", "SCHEMA":
			return qDDL
		}
	case "RENAME":
		if at(1) == "TABLE" {
			return qDDL
		}
	case "TRUNCATE":
		return qDDL
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
		return qDML
	}
	return qOther
}

// leadingWords returns up to n leading words of q in upper case.
func leadingWords(q []byte, n int) []string {
	var out []string
	i := 0
	for i < len(q) && len(out) < n {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';':
			i++
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			if i+2 < len(q) && q[i+2] == '!' { // executable comment: read on inside it
				i += 3
				for i < len(q) && q[i] >= '0' && q[i] <= '9' {
					i++
				}
				continue
			}
			end := strings.Index(string(q[i+2:]), "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '*' && i+1 < len(q) && q[i+1] == '/':
			i += 2
		case c == '#' || (c == '-' && i+2 < len(q) && q[i+1] == '-' && (q[i+2] == ' ' || q[i+2] == '\t')):
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case isWordByte(c):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			out = append(out, strings.ToUpper(string(q[i:j])))
			i = j
		default:
			return out
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// ddlChange is what one statement did to the captured tables.
type ddlChange struct {
	changed   []event.TableID // tables whose shape changed (or that were created or dropped)
	truncated []event.TableID // captured tables emptied by TRUNCATE
	charsets  bool            // a database default charset changed
}

// errStatementDML is returned by applyDDL for a statement-based change to a
// captured table, which a row-based source cannot replicate.
var errStatementDML = errors.New("a statement-based change (the session's binlog_format was not ROW) to a captured table")

// lookupFunc reads a table's current shape from the server, for the few
// statements whose result the statement alone does not tell (CREATE TABLE
// … LIKE and RENAME TABLE of a table that was not captured).
type lookupFunc func(id event.TableID) (*tableShape, error)

// ddlApplier applies the DDL statements of the binlog to a catalog.
type ddlApplier struct {
	p       *parser.Parser
	standIn bool // the statement being applied holds stand-in types (see parseSQL)
	lookup  lookupFunc
	// warn is told about statements applied from information_schema
	// rather than from the statement.
	warn func(msg string, args ...any)
}

func newDDLApplier(lookup lookupFunc, warn func(string, ...any)) *ddlApplier {
	return &ddlApplier{p: parser.New(), lookup: lookup, warn: warn}
}

// createOrReplace matches MariaDB's CREATE OR REPLACE TABLE, which the
// parser does not know; it is applied as a CREATE TABLE that replaces.
var createOrReplace = regexp.MustCompile(`(?is)^((?:\s|/\*.*?\*/)*CREATE)\s+OR\s+REPLACE(\s+TABLE\b)`)

// apply parses query, run with default database db, and applies it to c.
// A statement that cannot be parsed is an error (see mentions).
func (a *ddlApplier) apply(c *catalog, db, query string, pos event.Position) (ddlChange, error) {
	var ch ddlChange
	replace := false
	if m := createOrReplace.FindStringSubmatchIndex(query); m != nil {
		replace = true
		query = query[:m[3]] + query[m[4]:]
	}
	stmts, standIn, err := parseSQL(a.p, query)
	a.standIn = standIn
	if err != nil {
		return ch, parseError{fmt.Errorf("parse: %w", err)}
	}
	for _, s := range stmts {
		if err := a.applyStmt(c, db, s, pos, replace, &ch); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

func (a *ddlApplier) tableID(c *catalog, db string, t *ast.TableName) event.TableID {
	if t.Schema.O != "" {
		db = t.Schema.O
	}
	return c.id(db, t.Name.O)
}

func (a *ddlApplier) applyStmt(c *catalog, db string, s ast.StmtNode, pos event.Position, replace bool, ch *ddlChange) error {
	switch s := s.(type) {
	case *ast.CreateTableStmt:
		if s.TemporaryKeyword != ast.TemporaryNone {
			return nil
		}
		id := a.tableID(c, db, s.Table)
		if !c.captured(id) {
			return nil
		}
		if s.IfNotExists && !replace && c.live(id) != nil {
			return nil
		}
		var t *tableShape
		switch {
		case s.ReferTable != nil:
			ref := a.tableID(c, db, s.ReferTable)
			if src := c.live(ref); src != nil {
				t = src.clone()
			} else {
				var err error
				if t, err = a.fromServer(id, "CREATE TABLE … LIKE a table that is not captured"); err != nil {
					return err
				}
			}
		default:
			var err error
			if t, err = a.createShape(c, id, s); err != nil {
				return err
			}
		}
		t.Table, t.Since, t.Dropped = id, pos, false
		if c.put(t) {
			ch.changed = append(ch.changed, id)
		}
	case *ast.AlterTableStmt:
		id := a.tableID(c, db, s.Table)
		cur := c.live(id)
		if cur == nil {
			if !c.captured(id) {
				// Only a rename into a captured name concerns us.
				for _, sp := range s.Specs {
					if sp.Tp == ast.AlterTableRenameTable {
						to := a.tableID(c, db, sp.NewTable)
						if c.captured(to) {
							t, err := a.fromServer(to, "ALTER TABLE … RENAME of a table that was not captured")
							if err != nil {
								return err
							}
							t.Table, t.Since = to, pos
							if c.put(t) {
								ch.changed = append(ch.changed, to)
							}
						}
					}
				}
				return nil
			}
			return fmt.Errorf("ALTER TABLE of captured table %s, whose schema is not known", id)
		}
		t := cur.clone()
		renamed := id
		for _, sp := range s.Specs {
			var err error
			if renamed, err = a.alterSpec(c, t, id, sp, db); err != nil {
				return err
			}
			id = renamed
		}
		old := cur.Table
		if renamed != old {
			if c.drop(old, pos) {
				ch.changed = append(ch.changed, old)
			}
			if !c.captured(renamed) {
				return nil
			}
		}
		t.Table, t.Since = renamed, pos
		if c.put(t) {
			ch.changed = append(ch.changed, renamed)
		}
	case *ast.RenameTableStmt:
		// Renames apply in order; a swap (a→tmp, b→a, tmp→b) works.
		for _, tt := range s.TableToTables {
			from, to := a.tableID(c, db, tt.OldTable), a.tableID(c, db, tt.NewTable)
			src := c.live(from)
			var t *tableShape
			switch {
			case src != nil:
				t = src.clone()
				if c.drop(from, pos) {
					ch.changed = append(ch.changed, from)
				}
			case c.captured(to):
				var err error
				if t, err = a.fromServer(to, "RENAME TABLE of a table that was not captured"); err != nil {
					return err
				}
			}
			if t == nil || !c.captured(to) {
				continue
			}
			t.Table, t.Since, t.Dropped = to, pos, false
			if c.put(t) {
				ch.changed = append(ch.changed, to)
			}
		}
	case *ast.DropTableStmt:
		if s.IsView || s.TemporaryKeyword != ast.TemporaryNone {
			return nil
		}
		for _, tn := range s.Tables {
			id := a.tableID(c, db, tn)
			if c.drop(id, pos) {
				ch.changed = append(ch.changed, id)
			}
		}
	case *ast.TruncateTableStmt:
		id := a.tableID(c, db, s.Table)
		if c.live(id) != nil {
			ch.truncated = append(ch.truncated, id)
		}
	case *ast.DropDatabaseStmt:
		name := c.id(s.Name.O, "").Namespace
		for id, t := range c.tables {
			if id.Namespace == name && !t.Dropped {
				c.drop(id, pos)
				ch.changed = append(ch.changed, id)
			}
		}
		delete(c.dbCharset, name)
	case *ast.CreateDatabaseStmt:
		name := c.id(s.Name.O, "").Namespace
		if !c.capturedDB(name) {
			return nil
		}
		if s.IfNotExists && c.dbCharset[name] != "" {
			return nil
		}
		cs := charsetOption(s.Options)
		if cs == "" {
			cs = "utf8mb4" // the server's default; the binlog does not say
		}
		c.dbCharset[name] = cs
		ch.charsets = true
	case *ast.AlterDatabaseStmt:
		name := db
		if !s.AlterDefaultDatabase {
			name = s.Name.O
		}
		name = c.id(name, "").Namespace
		if cs := charsetOption(s.Options); cs != "" && c.capturedDB(name) {
			c.dbCharset[name] = cs
			ch.charsets = true
		}
	case ast.DMLNode:
		var names tableNames
		s.Accept(&names)
		for _, tn := range names {
			if c.live(a.tableID(c, db, tn)) != nil {
				return errStatementDML
			}
		}
	}
	return nil
}

// fromServer reads a table's shape from the server, for a statement whose
// result the statement does not tell.
func (a *ddlApplier) fromServer(id event.TableID, why string) (*tableShape, error) {
	if a.lookup == nil {
		return nil, fmt.Errorf("%s: the table's columns are not in the statement", why)
	}
	t, err := a.lookup(id)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s from information_schema: %w", why, id, err)
	}
	a.warn("schema of a table read from information_schema, not from the binlog: correct unless the table changed since",
		"table", id.String(), "statement", why)
	return t, nil
}

// tableNames collects the table names a statement refers to.
type tableNames []*ast.TableName

func (v *tableNames) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok {
		*v = append(*v, t)
	}
	return n, false
}

func (v *tableNames) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// charsetOption returns the character set a list of table or database
// options sets, from CHARACTER SET or else COLLATE; "" when neither.
func charsetOption(opts []*ast.DatabaseOption) string {
	cs, coll := "", ""
	for _, o := range opts {
		switch o.Tp {
		case ast.DatabaseOptionCharset:
			cs = o.Value
		case ast.DatabaseOptionCollate:
			coll = o.Value
		}
	}
	if cs != "" {
		return normCharset(cs)
	}
	if coll != "" {
		return charsetOfCollation(coll)
	}
	return ""
}

// tableCharset returns the character set table options set ("" when
// none), and whether it is CONVERT TO CHARACTER SET.
func tableCharset(opts []*ast.TableOption) (cs string, convert bool) {
	coll := ""
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionCharset:
			cs = o.StrValue
			convert = convert || o.UintValue == ast.TableOptionCharsetWithConvertTo
		case ast.TableOptionCollate:
			coll = o.StrValue
			convert = convert || o.UintValue == ast.TableOptionCharsetWithConvertTo
		}
	}
	switch {
	case cs != "" && !strings.EqualFold(cs, "default"):
		return normCharset(cs), convert
	case coll != "":
		return charsetOfCollation(coll), convert
	}
	return "", convert
}

// createShape builds the shape of a CREATE TABLE statement.
func (a *ddlApplier) createShape(c *catalog, id event.TableID, s *ast.CreateTableStmt) (*tableShape, error) {
	t := &tableShape{Table: id}
	cs, _ := tableCharset(s.Options)
	if cs == "" {
		cs = c.dbCharset[id.Namespace]
	}
	if cs == "" {
		cs = "utf8mb4"
	}
	t.Charset = cs
	for _, cd := range s.Cols {
		col, err := columnFromDef(cd, cs, a.standIn)
		if err != nil {
			return nil, err
		}
		if t.column(col.Name) >= 0 {
			return nil, fmt.Errorf("duplicate column %q", col.Name)
		}
		t.Columns = append(t.Columns, col)
		checkJSONOption(t, cd)
	}
	for _, con := range s.Constraints {
		if con.Tp == ast.ConstraintPrimaryKey {
			if err := setPrimaryKey(t, con); err != nil {
				return nil, err
			}
		}
		if con.Tp == ast.ConstraintCheck {
			markJSONCheck(t, con.Expr)
		}
	}
	return t, nil
}

// setPrimaryKey makes the constraint's columns the key (NOT NULL).
func setPrimaryKey(t *tableShape, con *ast.Constraint) error {
	for i := range t.Columns {
		t.Columns[i].Key = false
	}
	for _, k := range con.Keys {
		if k.Column == nil {
			return errors.New("a primary key on an expression")
		}
		i := t.column(k.Column.Name.O)
		if i < 0 {
			return fmt.Errorf("primary key column %q is not in the table", k.Column.Name.O)
		}
		t.Columns[i].Key = true
		t.Columns[i].Nullable = false
	}
	return nil
}

// markJSONCheck turns a LONGTEXT column checked by json_valid(col) into
// MariaDB's JSON.
func markJSONCheck(t *tableShape, e ast.ExprNode) {
	f, ok := e.(*ast.FuncCallExpr)
	if !ok || !strings.EqualFold(f.FnName.O, "json_valid") || len(f.Args) != 1 {
		return
	}
	cn, ok := f.Args[0].(*ast.ColumnNameExpr)
	if !ok {
		return
	}
	if i := t.column(cn.Name.Name.O); i >= 0 && t.Columns[i].Data == "longtext" {
		t.Columns[i].Data, t.Columns[i].Type = "json", "json"
	}
}

// alterSpec applies one ALTER TABLE clause to t (a table named id) and
// returns the table's name after it.
func (a *ddlApplier) alterSpec(c *catalog, t *tableShape, id event.TableID, sp *ast.AlterTableSpec, db string) (event.TableID, error) {
	switch sp.Tp {
	case ast.AlterTableAddColumns:
		for i, cd := range sp.NewColumns {
			col, err := columnFromDef(cd, t.Charset, a.standIn)
			if err != nil {
				return id, err
			}
			if t.column(col.Name) >= 0 {
				if sp.IfNotExists {
					continue
				}
				return id, fmt.Errorf("ADD COLUMN %q: the column exists", col.Name)
			}
			at := len(t.Columns)
			if i == 0 && sp.Position != nil {
				var err error
				if at, err = position(t, sp.Position); err != nil {
					return id, err
				}
			}
			t.Columns = slices.Insert(t.Columns, at, col)
			if hasPrimaryKeyOption(cd) {
				for j := range t.Columns {
					t.Columns[j].Key = t.Columns[j].Name == col.Name
				}
			}
			checkJSONOption(t, cd)
		}
		for _, con := range sp.NewConstraints {
			if con.Tp == ast.ConstraintPrimaryKey {
				if err := setPrimaryKey(t, con); err != nil {
					return id, err
				}
			}
		}
	case ast.AlterTableDropColumn:
		i := t.column(sp.OldColumnName.Name.O)
		if i < 0 {
			if sp.IfExists {
				return id, nil
			}
			return id, fmt.Errorf("DROP COLUMN %q: no such column", sp.OldColumnName.Name.O)
		}
		t.Columns = slices.Delete(t.Columns, i, i+1)
	case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
		old := ""
		if sp.Tp == ast.AlterTableChangeColumn {
			old = sp.OldColumnName.Name.O
		} else {
			old = sp.NewColumns[0].Name.Name.O
		}
		i := t.column(old)
		if i < 0 {
			if sp.IfExists {
				return id, nil
			}
			return id, fmt.Errorf("MODIFY/CHANGE COLUMN %q: no such column", old)
		}
		col, err := columnFromDef(sp.NewColumns[0], t.Charset, a.standIn)
		if err != nil {
			return id, err
		}
		col.Key = t.Columns[i].Key
		if col.Key {
			col.Nullable = false
		}
		if hasPrimaryKeyOption(sp.NewColumns[0]) {
			for j := range t.Columns {
				t.Columns[j].Key = false
			}
			col.Key = true
		}
		t.Columns = slices.Delete(t.Columns, i, i+1)
		at := i
		if sp.Position != nil && sp.Position.Tp != ast.ColumnPositionNone {
			if at, err = position(t, sp.Position); err != nil {
				return id, err
			}
		}
		t.Columns = slices.Insert(t.Columns, at, col)
		checkJSONOption(t, sp.NewColumns[0])
	case ast.AlterTableRenameColumn:
		i := t.column(sp.OldColumnName.Name.O)
		if i < 0 {
			return id, fmt.Errorf("RENAME COLUMN %q: no such column", sp.OldColumnName.Name.O)
		}
		if j := t.column(sp.NewColumnName.Name.O); j >= 0 && j != i {
			return id, fmt.Errorf("RENAME COLUMN to %q: the column exists", sp.NewColumnName.Name.O)
		}
		t.Columns[i].Name = sp.NewColumnName.Name.O
	case ast.AlterTableRenameTable:
		return a.tableID(c, db, sp.NewTable), nil
	case ast.AlterTableAddConstraint:
		switch sp.Constraint.Tp {
		case ast.ConstraintPrimaryKey:
			return id, setPrimaryKey(t, sp.Constraint)
		case ast.ConstraintCheck:
			markJSONCheck(t, sp.Constraint.Expr)
		}
	case ast.AlterTableDropPrimaryKey:
		for i := range t.Columns {
			t.Columns[i].Key = false
		}
	case ast.AlterTableOption:
		cs, convert := tableCharset(sp.Options)
		if cs == "" {
			return id, nil
		}
		t.Charset = cs
		if convert {
			for i := range t.Columns {
				col := &t.Columns[i]
				if col.isText() && col.Charset != "binary" {
					col.Charset = cs
				}
			}
		}
	}
	return id, nil
}

// position returns the index a column placed FIRST or AFTER x goes to.
func position(t *tableShape, p *ast.ColumnPosition) (int, error) {
	switch p.Tp {
	case ast.ColumnPositionFirst:
		return 0, nil
	case ast.ColumnPositionAfter:
		i := t.column(p.RelativeColumn.Name.O)
		if i < 0 {
			return 0, fmt.Errorf("AFTER %q: no such column", p.RelativeColumn.Name.O)
		}
		return i + 1, nil
	}
	return len(t.Columns), nil
}

func hasPrimaryKeyOption(cd *ast.ColumnDef) bool {
	for _, o := range cd.Options {
		if o.Tp == ast.ColumnOptionPrimaryKey {
			return true
		}
	}
	return false
}

// checkJSONOption applies a column-level CHECK (json_valid(col)).
func checkJSONOption(t *tableShape, cd *ast.ColumnDef) {
	for _, o := range cd.Options {
		if o.Tp == ast.ColumnOptionCheck {
			markJSONCheck(t, o.Expr)
		}
	}
}

// columnFromDef builds a column from its definition; tableCS is the
// character set of a text column that names none; standIn says whether
// the statement holds stand-in types.
func columnFromDef(cd *ast.ColumnDef, tableCS string, standIn bool) (column, error) {
	ft := cd.Tp
	if ft == nil {
		return column{}, fmt.Errorf("column %q has no type", cd.Name.Name.O)
	}
	col := column{Name: cd.Name.Name.O, Nullable: true}
	for _, o := range cd.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			col.Nullable = false
		case ast.ColumnOptionNull:
			col.Nullable = true
		case ast.ColumnOptionPrimaryKey:
			col.Key, col.Nullable = true, false
		case ast.ColumnOptionCollate:
			if ft.GetCharset() == "" {
				ft.SetCharset(charsetOfCollation(o.StrValue))
			}
		}
	}
	if err := fieldTypeColumn(ft, tableCS, &col); err != nil {
		return column{}, fmt.Errorf("column %q: %w", col.Name, err)
	}
	if i := ft.GetFlen() - standInBase; standIn && col.Data == "varbinary" && i >= 0 && i < len(standIns) {
		col.Data, col.Type, col.Charset = standIns[i], standIns[i], ""
	}
	return col, nil
}

// fieldTypeColumn fills the type fields of col from a parsed column type.
func fieldTypeColumn(ft *types.FieldType, tableCS string, col *column) error {
	col.Unsigned = tmysql.HasUnsignedFlag(ft.GetFlag())
	binary := ft.GetCharset() == "binary" || tmysql.HasBinaryFlag(ft.GetFlag()) && ft.GetCharset() == ""
	text := func(data string) {
		col.Data = data
		cs := normCharset(ft.GetCharset())
		if cs == "" && ft.GetCollate() != "" {
			cs = charsetOfCollation(ft.GetCollate())
		}
		if cs == "" {
			cs = tableCS
		}
		col.Charset = cs
	}
	switch ft.GetType() {
	case tmysql.TypeTiny:
		col.Data = "tinyint"
	case tmysql.TypeShort:
		col.Data = "smallint"
	case tmysql.TypeInt24:
		col.Data = "mediumint"
	case tmysql.TypeLong:
		col.Data = "int"
	case tmysql.TypeLonglong:
		col.Data = "bigint"
	case tmysql.TypeNewDecimal:
		col.Data = "decimal"
	case tmysql.TypeFloat:
		col.Data = "float"
	case tmysql.TypeDouble:
		col.Data = "double"
	case tmysql.TypeBit:
		col.Data = "bit"
		col.Length = ft.GetFlen()
		if col.Length <= 0 {
			col.Length = 1
		}
	case tmysql.TypeYear:
		col.Data = "year"
	case tmysql.TypeDate:
		col.Data = "date"
	case tmysql.TypeDatetime:
		col.Data = "datetime"
	case tmysql.TypeTimestamp:
		col.Data = "timestamp"
	case tmysql.TypeDuration:
		col.Data = "time"
	case tmysql.TypeString:
		if binary {
			col.Data, col.Charset = "binary", "binary"
			col.Length = max(ft.GetFlen(), 1)
		} else {
			text("char")
			col.Length = max(ft.GetFlen(), 1)
		}
	case tmysql.TypeVarchar, tmysql.TypeVarString:
		if binary {
			col.Data, col.Charset = "varbinary", "binary"
		} else {
			text("varchar")
		}
	case tmysql.TypeTinyBlob, tmysql.TypeBlob, tmysql.TypeMediumBlob, tmysql.TypeLongBlob:
		size := map[byte]string{tmysql.TypeTinyBlob: "tiny", tmysql.TypeBlob: "", tmysql.TypeMediumBlob: "medium", tmysql.TypeLongBlob: "long"}[ft.GetType()]
		if binary {
			col.Data, col.Charset = size+"blob", "binary"
		} else {
			text(size + "text")
		}
	case tmysql.TypeEnum:
		text("enum")
		col.Elems = slices.Clone(ft.GetElems())
	case tmysql.TypeSet:
		text("set")
		col.Elems = slices.Clone(ft.GetElems())
	case tmysql.TypeJSON:
		col.Data = "json"
	case tmysql.TypeGeometry:
		col.Data = "geometry"
	case tmysql.TypeTiDBVectorFloat32:
		col.Data = "vector"
	default:
		return fmt.Errorf("type %s is not supported", ft.String())
	}
	col.Type = typeString(ft, col)
	return nil
}

// intWidths are MySQL's display widths of integer types declared without
// one, signed and unsigned.
var intWidths = map[string][2]int{"tinyint": {4, 3}, "smallint": {6, 5}, "mediumint": {9, 8}, "int": {11, 10}, "bigint": {20, 20}}

// typeString renders a parsed column type the way information_schema
// shows it ("int(11)", "decimal(10,2)", "varchar(20)", "enum('a','b')").
func typeString(ft *types.FieldType, col *column) string {
	s := strings.ToLower(ft.CompactStr())
	if w, ok := intWidths[col.Data]; ok {
		n := ft.GetFlen()
		if n <= 0 {
			n = w[0]
			if col.Unsigned {
				n = w[1]
			}
		}
		s = fmt.Sprintf("%s(%d)", col.Data, n)
	}
	switch col.Data {
	case "year":
		s = "year(4)"
	case "json":
		s = "json"
	case "geometry":
		s = "geometry"
	case "vector":
		s = fmt.Sprintf("vector(%d)", ft.GetFlen())
	case "enum", "set":
		s = elemsType(col.Data, col.Elems)
	case "binary":
		s = fmt.Sprintf("binary(%d)", col.Length)
	case "varbinary":
		s = fmt.Sprintf("varbinary(%d)", ft.GetFlen())
	case "tinyblob", "blob", "mediumblob", "longblob", "tinytext", "text", "mediumtext", "longtext":
		s = col.Data
	}
	if col.Unsigned {
		s += " unsigned"
	}
	if tmysql.HasZerofillFlag(ft.GetFlag()) {
		s += " zerofill"
	}
	return s
}

// mentions reports whether query, run with default database db, names a
// table of the catalog (db.table, or table alone when db is the table's
// database): the test for a statement that cannot be parsed.
func mentions(c *catalog, db, query string) (event.TableID, bool) {
	type token struct {
		word string
		dot  bool
	}
	var toks []token
	for i := 0; i < len(query); {
		ch := query[i]
		switch {
		case ch == '`':
			j := i + 1
			var w strings.Builder
			for j < len(query) {
				if query[j] == '`' {
					if j+1 < len(query) && query[j+1] == '`' {
						w.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				w.WriteByte(query[j])
				j++
			}
			toks = append(toks, token{word: w.String()})
			i = j + 1
		case isWordByte(ch) || ch >= 0x80 || ch == '$':
			j := i
			for j < len(query) && (isWordByte(query[j]) || query[j] >= 0x80 || query[j] == '$') {
				j++
			}
			toks = append(toks, token{word: query[i:j]})
			i = j
		case ch == '.':
			toks = append(toks, token{dot: true})
			i++
		case ch == '\'' || ch == '"': // a string literal names nothing
			j := i + 1
			for j < len(query) && query[j] != ch {
				if query[j] == '\\' {
					j++
				}
				j++
			}
			toks = append(toks, token{})
			i = j + 1
		default:
			if ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' {
				toks = append(toks, token{})
			}
			i++
		}
	}
	same := func(a, b string) bool { return a == b || (c.lower && strings.EqualFold(a, b)) }
	for k, tk := range toks {
		if tk.word == "" {
			continue
		}
		qual := db
		if k >= 2 && toks[k-1].dot && toks[k-2].word != "" {
			qual = toks[k-2].word
		}
		for id, t := range c.tables {
			if !t.Dropped && same(tk.word, id.Name) && (qual == "" || same(qual, id.Namespace)) {
				return id, true
			}
		}
	}
	return event.TableID{}, false
}
